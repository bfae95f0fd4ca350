"""Layer IG as a new user calls it: one sentence (or a small batch) per call, default settings, vs Captum.

Four sections, each printing ratios taken in one process:

- ``fixed``: limelight's ``LayerIntegratedGradients`` at 50 Gauss-Legendre steps with its defaults
  (forward check on, chunks sized by the memory budget) against Captum's default call, for the
  demo model (SST-2 dev sentences at their own length) and a random BERT-base-sized model at
  fixed lengths; batches of 1, 4 and 16 texts per call. Both explainers are built once and
  reused, as a user explaining many texts would.
- ``auto``: ``n_steps="auto"`` (tolerance 1e-2) against Captum's default 50 steps, one sentence
  per call and all sentences in one call; every example must be within tolerance.
- ``memory``: the peak resident memory of one Layer IG call on the BERT-base-sized model at
  512 tokens under a ``memory_budget`` (RSS sampled every 2 ms, in a fresh process).

Repetitions of the compared runs are interleaved (A B A B ...); each variant's figure is the
minimum time over repetitions on each clock (process CPU time, all threads; wall time), with
its spread ``(max - min) / min``; ratios are of those minima.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import captum.attr  # noqa: E402
import torch  # noqa: E402
from _common import CLOCKS, DEFAULT_DATA, Batch, environment_line, load_model, timed_call, verdict  # noqa: E402
from torch import Tensor, nn  # noqa: E402

from limelight.demo.sst2 import read_sst2  # noqa: E402
from limelight.engine.gradient import LayerIntegratedGradients  # noqa: E402

FIXED_TARGET, AUTO_SINGLE_TARGET, AUTO_BATCHED_TARGET = 1.02, 0.5, 0.35
STEPS, TOLERANCE = 50, 1e-2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", choices=["fixed", "auto", "memory"], default=["fixed", "auto", "memory"])
    parser.add_argument("--sentences", type=int, default=16, help="SST-2 dev sentences for the demo model (default 16)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16], help="texts per call (default 1 4 16)")
    parser.add_argument("--base-lengths", type=int, nargs="+", default=[128, 512], help="token lengths for the BERT-base-sized model")
    parser.add_argument("--base-layers", type=int, default=12, help="layers of the BERT-base-sized model (default 12)")
    parser.add_argument(
        "--models", nargs="+", choices=["demo", "base"], default=["demo", "base"], help="models of the fixed section (default both)"
    )
    parser.add_argument(
        "--base-texts", type=int, default=None, help="texts per length for the BERT-base-sized model (default: 2, 1 at 512 tokens)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions of each variant, interleaved (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--budget", default="1GiB", help="memory_budget of the memory section (default 1GiB)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="under 3 min: 4 sentences, batches 1 4, base model of 1 layer at 128 tokens (2 for memory), 2 repeats",
    )
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.sentences, args.batches, args.base_lengths, args.base_layers, args.repeats = 4, [1, 4], [128], 1, 2
    return args


def base_model(layers: int) -> nn.Module:
    """A random BERT-base-sized classifier (hidden 768, 12 heads, ``layers`` layers), seed 0, SDPA attention."""
    from transformers import BertConfig, BertForSequenceClassification

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        config = BertConfig(num_hidden_layers=layers, num_labels=2, max_position_embeddings=512)
        return BertForSequenceClassification(config).eval()


def logits_of(model: nn.Module) -> Callable[[Tensor, Tensor], Tensor]:
    def forward(ids: Tensor, mask: Tensor) -> Tensor:
        return model(input_ids=ids, attention_mask=mask).logits

    return forward


def pad_batch(model: nn.Module, rows: list[list[int]], special: list[list[int]], pad_id: int) -> Batch:
    """Right-padded ids with their mask and baseline; targets are the model's predicted classes."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    baseline = torch.full((len(rows), width), pad_id)
    for i, (row, keep) in enumerate(zip(rows, special)):
        ids[i, : len(row)], mask[i, : len(row)] = torch.tensor(row), 1
        baseline[i, : len(row)] = torch.tensor([t if k else pad_id for t, k in zip(row, keep)])
    with torch.no_grad():
        target = logits_of(model)(ids, mask).argmax(-1).tolist()
    return Batch(ids, mask, baseline, target, mask.sum(1).tolist())


def sentence_batches(model: nn.Module, tokenizer: Any, path: Path, count: int, size: int) -> list[Batch]:
    sentences = read_sst2(path)[0][:count]
    encoded = [tokenizer(s)["input_ids"] for s in sentences]
    special = [[t in tokenizer.all_special_ids for t in e] for e in encoded]
    return [pad_batch(model, encoded[i : i + size], special[i : i + size], tokenizer.pad_token_id) for i in range(0, count, size)]


def fixed_length_batches(model: nn.Module, length: int, count: int, size: int) -> list[Batch]:
    generator = torch.Generator().manual_seed(length)
    rows = [[101, *torch.randint(1000, 30000, (length - 2,), generator=generator).tolist(), 102] for _ in range(count)]
    special = [[i in (0, length - 1) for i in range(length)] for _ in rows]
    return [pad_batch(model, rows[i : i + size], special[i : i + size], 0) for i in range(0, count, size)]


def interleaved(variants: dict[str, Callable[[], Any]], repeats: int) -> tuple[dict[str, dict[str, list[float]]], dict[str, Any]]:
    """Seconds per clock of each variant per repetition (one untimed warm-up first) and each one's last value."""
    values = {name: run() for name, run in variants.items()}
    seconds: dict[str, dict[str, list[float]]] = {clock: {name: [] for name in variants} for clock in CLOCKS}
    for _ in range(repeats):
        for name, run in variants.items():
            taken, values[name] = timed_call(run)
            for clock in CLOCKS:
                seconds[clock][name].append(taken[clock])
    return seconds, values


def spread(times: list[float]) -> float:
    return (max(times) - min(times)) / min(times)


def ratio_line(label: str, seconds: dict[str, dict[str, list[float]]], numerator: str, denominator: str, target: float) -> str:
    """The ratio of the two variants' minimum times on each clock (CPU time first: least disturbed by other jobs)."""
    cells = []
    for clock in CLOCKS:
        times = seconds[clock]
        ratio = min(times[numerator]) / min(times[denominator])
        cells.append(
            f"{clock} {min(times[numerator]):.3f}/{min(times[denominator]):.3f} s "
            f"(spread {spread(times[numerator]):.0%}/{spread(times[denominator]):.0%}) = {ratio:.3f}x {verdict(ratio <= target)}"
        )
    return f"  {label}, {numerator}/{denominator} (target <= {target}x): " + "; ".join(cells)


def explainers(model: nn.Module) -> tuple[Any, Any]:
    forward, layer = logits_of(model), model.bert.embeddings.word_embeddings
    return LayerIntegratedGradients(forward, layer), captum.attr.LayerIntegratedGradients(forward, layer)


def run_limelight(method: Any, batches: list[Batch], **options: Any) -> list[Any]:
    return [method.attribute(b.ids, b.baseline, target=b.target, additional_forward_args=(b.mask,), **options) for b in batches]


def run_captum(method: Any, batches: list[Batch]) -> list[Tensor]:
    return [method.attribute(b.ids, baselines=b.baseline, target=b.target, additional_forward_args=(b.mask,)) for b in batches]


def section_fixed(args: argparse.Namespace, demo: tuple[nn.Module, Any]) -> None:
    print(f"\n== fixed: {STEPS} steps, limelight defaults vs Captum's default call (min s over {args.repeats} interleaved repeats) ==")
    configs: list[tuple[str, nn.Module, Callable[[int], list[Batch]]]] = []
    if "demo" in args.models:
        configs.append(
            (
                f"demo, {args.sentences} SST-2 sentences",
                demo[0],
                lambda size: sentence_batches(demo[0], demo[1], args.data, args.sentences, size),
            )
        )
    base = base_model(args.base_layers)
    for length in args.base_lengths if "base" in args.models else []:
        count = args.base_texts or (1 if length >= 512 else 2)
        configs.append(
            (
                f"BERT-base-sized ({args.base_layers} layers, random), {count} x {length} tokens",
                base,
                lambda size, length=length, count=count: fixed_length_batches(base, length, count, size),
            )
        )
    for label, model, make in configs:
        limelight, reference = explainers(model)
        texts = len(make(1))
        for size in args.batches:
            if size > texts:
                continue
            batches = make(size)
            seconds, values = interleaved(
                {
                    "limelight": lambda m=limelight, b=batches: run_limelight(m, b, n_steps=STEPS),
                    "captum": lambda m=reference, b=batches: run_captum(m, b),
                },
                args.repeats,
            )
            gap = max(float((a.attributions - c).abs().max()) for a, c in zip(values["limelight"], values["captum"]))
            print(
                ratio_line(f"{label}, batch {size} ({len(batches)} calls)", seconds, "limelight", "captum", FIXED_TARGET)
                + f"; max |limelight - captum| {gap:.1e}",
                flush=True,
            )


def section_auto(args: argparse.Namespace, demo: tuple[nn.Module, Any]) -> None:
    print(f"\n== auto: n_steps='auto' (tolerance {TOLERANCE}) vs Captum's default {STEPS} steps, demo model ==")
    model, tokenizer = demo
    limelight, reference = explainers(model)
    count = max(args.sentences, 4)
    for size, target in ((1, AUTO_SINGLE_TARGET), (count, AUTO_BATCHED_TARGET)):
        batches = sentence_batches(model, tokenizer, args.data, count, size)
        seconds, values = interleaved(
            {
                "limelight auto": lambda b=batches: run_limelight(limelight, b, n_steps="auto", tolerance=TOLERANCE),
                "captum": lambda b=batches: run_captum(reference, b),
            },
            args.repeats,
        )
        steps = torch.cat([r.n_steps for r in values["limelight auto"]]).double()
        within = bool(torch.cat([r.converged for r in values["limelight auto"]]).all())
        print(
            ratio_line(f"{count} sentences, {size} per call", seconds, "limelight auto", "captum", target)
            + f"; steps mean {steps.mean():.1f} ({int(steps.min())}-{int(steps.max())}); every example within tolerance: {within}",
            flush=True,
        )


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(args: argparse.Namespace) -> None:
    """In a fresh process: peak RSS above the pre-call level during one Layer IG call at 512 tokens."""
    model = base_model(args.base_layers)
    batch = fixed_length_batches(model, 512, 1, 1)[0]
    method = LayerIntegratedGradients(logits_of(model), model.bert.embeddings.word_embeddings)
    chunk_rows: list[int] = []
    import limelight.engine.gradient.method as call_module

    original = call_module.rows_for_budget
    call_module.rows_for_budget = lambda *a: chunk_rows.append(original(*a)) or chunk_rows[-1]  # type: ignore[assignment]  # record the choice
    peak, before, done = [0], resident_bytes(), threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], resident_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    run_limelight(method, [batch], n_steps=4, memory_budget=args.budget)
    done.set()
    sampler.join()
    print(f"{peak[0] - before} {chunk_rows[-1] if chunk_rows else 0}")


def section_memory(args: argparse.Namespace) -> None:
    from limelight.engine.chunking import parse_bytes

    layers = 2 if args.quick else args.base_layers
    command = [
        sys.executable,
        __file__,
        "--memory-child",
        "--base-layers",
        str(layers),
        "--budget",
        args.budget,
        "--threads",
        str(args.threads),
    ]
    used, rows = (int(v) for v in subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()[-2:])
    budget = parse_bytes(args.budget)
    print(f"\n== memory: Layer IG, BERT-base-sized ({layers} layers), 1 x 512 tokens, 4 steps, memory_budget={args.budget} ==")
    print(
        f"  peak RSS above the pre-call level {used / 2**20:.0f} MiB vs budget {budget / 2**20:.0f} MiB, "
        f"{rows} rows per chunk: {verdict(used <= budget)}"
    )


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_child:
        memory_child(args)
        return
    print(environment_line())
    demo = load_model("demo")
    print(demo[2])
    if "fixed" in args.sections:
        section_fixed(args, demo[:2])
    if "auto" in args.sections:
        section_auto(args, demo[:2])
    if "memory" in args.sections:
        section_memory(args)


if __name__ == "__main__":
    main()
