"""Time limelight's LayerIntegratedGradients against Captum's on MiniLM (6 layers, hidden 384).

For each sequence length the script times, in one process and interleaved round by round:

- ``floor``: one batched forward and backward of ``batch x 50`` path rows with respect to the
  word-embedding output (``inputs_embeds``), the least any 50-step Layer IG has to pay;
- ``limelight 50``: 50 Gauss-Legendre steps, ``check_forward=False``, all rows in one chunk;
- ``limelight 50 defaults``: the same with limelight's defaults (forward check, chunks sized to
  the 2 GiB memory budget by a probe);
- ``captum 50``: Captum's default (50 Gauss-Legendre steps, all rows at once, with its delta);
- ``limelight auto``: ``n_steps="auto", tolerance=1e-2``, no forward check, one chunk per level.

Every run is timed on two clocks: process CPU time (with one torch thread, the work this process
did, little disturbed by other jobs on a shared machine) and wall time. Ratios are medians over
rounds of per-round ratios, so slow drift cancels.
Run ``python benchmarks/layer_ig_minilm.py --help`` for the options; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from _common import CLOCKS, DEFAULT_DATA, Batch, environment_line, load_model, paired_ratio, timed_call, verdict  # noqa: E402
from torch import Tensor, nn  # noqa: E402

import limelight.engine.gradient.method as engine_base  # noqa: E402
from limelight import LayerIntegratedGradients  # noqa: E402

STEPS = 50
TOLERANCE = 1e-2
ABSOLUTE_FLOOR = 1e-4  # limelight's absolute term: |delta| <= tol * |f(x) - f(b)| + 1e-4
SPREAD_WARNING = 0.20
PROBED = ("check_forward", "measure_row_bytes")  # limelight.engine.gradient.method names timed in the default runs


@dataclass
class Outcome:
    """What one run returned, reduced to what the table shows."""

    attributions: Tensor
    delta: Tensor
    change: Tensor
    steps: Tensor

    @property
    def relative_delta(self) -> Tensor:
        return self.delta.abs() / self.change.abs()

    @property
    def within_tolerance(self) -> bool:
        """limelight's criterion, applied to both libraries: ``|delta| <= tol * |change| + 1e-4``."""
        return bool((self.delta.abs() <= TOLERANCE * self.change.abs() + ABSOLUTE_FLOOR).all())


@dataclass
class Probes:
    """CPU seconds limelight spent in its forward check and memory probe, and the chunk sizes it chose."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    chunk_rows: list[int] = field(default_factory=list)


Timings = dict[str, dict[str, list[float]]]  # clock -> variant -> seconds per round


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[16, 64], help="sequence lengths in tokens (default: 16 64)")
    parser.add_argument("--batch", type=int, default=4, help="texts per attribute call (default: 4)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per length (default: 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds per length before timing (default: 1)")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch.set_num_threads (default: 1, so process CPU time measures the work done)"
    )
    parser.add_argument(
        "--model",
        choices=["demo", "base"],
        default="demo",
        help="demo: limelight.demo.demo_model() (trained SST-2 head, falls back to base); "
        "base: pretrained MiniLM encoder with a random 2-class head",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"SST-2 dev.tsv (default: {DEFAULT_DATA})")
    parser.add_argument("--quick", action="store_true", help="smoke run (~1 min): batch 2, 1 warm-up round, 1 timed round")
    args = parser.parse_args()
    for name in ("batch", "repeats", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0 or min(args.lengths) < 3:
        parser.error("--warmup must be >= 0 and every length >= 3 ([CLS], a token, [SEP])")
    if args.quick:
        args.batch, args.repeats, args.warmup = 2, 1, 1
    return args


def read_sentences(path: Path) -> list[str]:
    """SST-2 sentences (header ``sentence\\tlabel``; trailing spaces stripped)."""
    rows = path.read_text(encoding="utf-8").splitlines()
    if not rows or rows[0].split("\t")[0] != "sentence":
        raise SystemExit(f"{path} does not start with the header 'sentence\\tlabel'")
    return [row.split("\t")[0].strip() for row in rows[1:] if row.strip()]


def pick_sentences(tokenizer: Any, sentences: list[str], length: int, count: int) -> list[str]:
    """The first ``count`` sentences that fill ``length`` tokens, else the ``count`` longest (padded)."""
    sizes = [len(ids) for ids in tokenizer(sentences)["input_ids"]]
    filling = [s for s, n in zip(sentences, sizes) if n >= length]
    if len(filling) >= count:
        return filling[:count]
    return [s for _, s in sorted(zip(sizes, sentences), key=lambda pair: -pair[0])[:count]]


def make_batch(model: nn.Module, tokenizer: Any, sentences: list[str], length: int) -> Batch:
    """Encode to exactly ``length`` tokens; the baseline keeps special tokens and pads the rest."""
    encoded = tokenizer(
        sentences, padding="max_length", truncation=True, max_length=length, return_special_tokens_mask=True, return_tensors="pt"
    )
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    baseline = torch.where(encoded["special_tokens_mask"].bool(), ids, torch.full_like(ids, tokenizer.pad_token_id))
    with torch.no_grad():
        target = model(input_ids=ids, attention_mask=mask).logits.argmax(-1).tolist()
    return Batch(ids, mask, baseline, target, mask.sum(1).tolist())


def endpoint_change(model: nn.Module, batch: Batch) -> Tensor:
    """``f(input) - f(baseline)`` for the target class, computed directly (float64)."""
    with torch.no_grad():
        rows = torch.arange(len(batch.target))
        fx = model(input_ids=batch.ids, attention_mask=batch.mask).logits[rows, batch.target]
        fb = model(input_ids=batch.baseline, attention_mask=batch.mask).logits[rows, batch.target]
    return (fx - fb).double()


def floor_run(model: nn.Module, batch: Batch) -> None:
    """One forward and backward of ``batch x 50`` path points w.r.t. the embedding output."""
    embed = model.get_input_embeddings()
    n = batch.ids.shape[0]
    with torch.no_grad():
        x, b = embed(batch.ids), embed(batch.baseline)
    alphas = torch.linspace(0, 1, STEPS).repeat(n).reshape(-1, 1, 1)
    points = (b.repeat_interleave(STEPS, 0) + alphas * (x - b).repeat_interleave(STEPS, 0)).requires_grad_()
    logits = model(inputs_embeds=points, attention_mask=batch.mask.repeat_interleave(STEPS, 0)).logits
    chosen = logits.gather(1, torch.tensor(batch.target).repeat_interleave(STEPS).unsqueeze(1))
    torch.autograd.grad(chosen.sum(), points)


def limelight_run(model: nn.Module, batch: Batch, steps: int | str, defaults: bool) -> Outcome:
    """limelight's Layer IG; ``defaults=False`` skips the forward check and fixes one chunk of all rows."""
    explainer = LayerIntegratedGradients(model, model.get_input_embeddings(), check_forward=defaults)
    result = explainer.attribute(
        batch.ids,
        batch.baseline,
        target=batch.target,
        forward_kwargs={"attention_mask": batch.mask},
        n_steps=steps,
        tolerance=TOLERANCE,
        internal_batch_size=None if defaults else STEPS * batch.ids.shape[0],
    )
    return Outcome(result.attributions, result.delta, result.input_value - result.baseline_value, result.n_steps)


def captum_run(model: nn.Module, batch: Batch, change: Tensor) -> Outcome:
    """Captum's Layer IG with its defaults (50 Gauss-Legendre steps, all rows at once) and its delta."""
    from captum.attr import LayerIntegratedGradients as CaptumLayerIG

    explainer = CaptumLayerIG(lambda ids, mask: model(input_ids=ids, attention_mask=mask).logits, model.get_input_embeddings())
    attributions, delta = explainer.attribute(
        batch.ids,
        baselines=batch.baseline,
        target=batch.target,
        additional_forward_args=(batch.mask,),
        n_steps=STEPS,
        return_convergence_delta=True,
    )
    return Outcome(attributions, delta.double(), change, torch.full((len(batch.target),), STEPS))


def record_probes(probes: Probes) -> Callable[[], None]:
    """Time limelight's probes by wrapping the names its call module uses; returns an undo function.

    These are engine internals: a name the engine no longer has is simply not recorded.
    """
    names = [name for name in (*PROBED, "rows_for_budget") if hasattr(engine_base, name)]
    originals = {name: getattr(engine_base, name) for name in names}

    def timed(name: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return originals[name](*args, **kwargs)
            finally:
                probes.seconds.setdefault(name, []).append(time.process_time() - start)

        return wrapper

    def chunk(*args: Any) -> int:
        rows = originals["rows_for_budget"](*args)
        probes.chunk_rows.append(rows)
        return rows

    for name in names:
        setattr(engine_base, name, chunk if name == "rows_for_budget" else timed(name))

    def undo() -> None:
        for name, original in originals.items():
            setattr(engine_base, name, original)

    return undo


def variants(model: nn.Module, batch: Batch, change: Tensor) -> dict[str, Callable[[], Any]]:
    """The timed runs, in the order each round runs them (``REFERENCE`` says what each is compared with)."""
    return {
        "floor": lambda: floor_run(model, batch),
        "limelight 50": lambda: limelight_run(model, batch, STEPS, defaults=False),
        "limelight 50 defaults": lambda: limelight_run(model, batch, STEPS, defaults=True),
        "captum 50": lambda: captum_run(model, batch, change),
        "limelight auto": lambda: limelight_run(model, batch, "auto", defaults=False),
    }


REFERENCE = {
    "floor": "floor",
    "limelight 50": "floor",
    "limelight 50 defaults": "floor",
    "captum 50": "floor",
    "limelight auto": "captum 50",
}


def benchmark_length(model: nn.Module, batch: Batch, args: argparse.Namespace) -> tuple[Timings, dict[str, Outcome], Probes]:
    """Warm up, then time every variant once per round, in the same order each round."""
    runs = variants(model, batch, endpoint_change(model, batch))
    times: Timings = {clock: {name: [] for name in runs} for clock in CLOCKS}
    outcomes: dict[str, Outcome] = {}
    probes = Probes()
    for round_index in range(args.warmup + args.repeats):
        timed = round_index >= args.warmup
        for name, run in runs.items():
            undo = record_probes(probes) if timed and name.endswith("defaults") else None
            try:
                seconds, value = timed_call(run)
            finally:
                if undo is not None:
                    undo()
            if timed:
                for clock in CLOCKS:
                    times[clock][name].append(seconds[clock])
                if isinstance(value, Outcome):
                    outcomes[name] = value
        if timed:
            shown = ", ".join(f"{name} {times['cpu'][name][-1]:.2f}/{times['wall'][name][-1]:.2f}" for name in runs)
            print(f"  round {round_index - args.warmup + 1} (cpu/wall s): {shown}", flush=True)
    return times, outcomes, probes


def spread(seconds: list[float]) -> float:
    """(max - min) / median."""
    return (max(seconds) - min(seconds)) / statistics.median(seconds)


def _clock_cells(seconds: dict[str, list[float]], name: str) -> str:
    ratio, low, high = paired_ratio(seconds, name, REFERENCE[name])
    times = seconds[name]
    return f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f}) | {ratio:.3f} ({low:.3f}-{high:.3f})"


def _outcome_cells(outcome: Outcome | None) -> str:
    if outcome is None:
        return "- | - | - | -"
    steps = outcome.steps.double()
    within = "yes" if outcome.within_tolerance else "NO"
    return f"{int(steps.sum())} | {steps.mean():.1f} / {int(steps.max())} | {within} | {outcome.relative_delta.max():.1e}"


def report_length(length: int, batch: Batch, times: Timings, outcomes: dict[str, Outcome], probes: Probes) -> list[str]:
    """Print the table for one sequence length; return its verdict and warning lines."""
    print(
        f"\n### length {length}: {len(batch.target)} texts x {STEPS} steps = {len(batch.target) * STEPS} rows "
        f"(tokens that are not padding: {batch.real_tokens}; targets {batch.target})\n"
    )
    print(
        "| variant | vs | CPU s median (range) | CPU ratio (range) | wall s median (range) | wall ratio (range) "
        "| gradient rows | steps mean / max | all within tol | max rel. delta |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    notes = []
    for name in times["cpu"]:
        print(
            f"| {name} | {REFERENCE[name]} | {_clock_cells(times['cpu'], name)} | {_clock_cells(times['wall'], name)} "
            f"| {_outcome_cells(outcomes.get(name))} |"
        )
        for clock in CLOCKS:
            if len(times[clock][name]) > 1 and spread(times[clock][name]) > SPREAD_WARNING:
                notes.append(f"WARNING length {length}: {name} {clock} times spread {spread(times[clock][name]):.0%} of their median")
    ours, theirs = outcomes["limelight 50"].attributions, outcomes["captum 50"].attributions
    print(
        f"\nlimelight 50 vs captum 50 attributions: max |difference| / max |captum| = "
        f"{(ours - theirs).abs().max() / theirs.abs().max():.1e}"
    )
    print(_probe_line(probes, times["cpu"]))
    for clock in CLOCKS:
        fixed = paired_ratio(times[clock], "limelight 50", "floor")[0]
        auto = paired_ratio(times[clock], "limelight auto", "captum 50")[0]
        notes.append(
            f"length {length} ({clock}): limelight 50 = {fixed:.3f} x floor (target <= 1.10: {verdict(fixed <= 1.10)}); "
            f"limelight auto = {auto:.3f} x captum 50 (target <= 0.60: {verdict(auto <= 0.60)}); "
            f"every auto example within tolerance: {verdict(outcomes['limelight auto'].within_tolerance)}"
        )
    return notes


def _probe_line(probes: Probes, cpu: dict[str, list[float]]) -> str:
    floor = statistics.median(cpu["floor"])
    parts = []
    for name in PROBED:
        if name in probes.seconds:
            seconds = statistics.median(probes.seconds[name])
            parts.append(f"{name} {seconds:.3f} ({seconds / floor:.1%} of the floor)")
        else:
            parts.append(f"{name} not recorded (no longer in limelight.engine.gradient.method)")
    return f"limelight defaults, CPU s per call: {', '.join(parts)}; rows per chunk chosen: {sorted(set(probes.chunk_rows))}"


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, tokenizer, described = load_model(args.model)
    sentences = read_sentences(args.data)
    print(f"model: {described}")
    print(environment_line())
    print(
        f"settings: batch {args.batch}, lengths {args.lengths}, warm-up rounds {args.warmup}, timed rounds {args.repeats}, "
        f"tolerance {TOLERANCE}; ratios are medians over rounds of per-round ratios"
    )
    started = time.perf_counter()
    notes: list[str] = []
    for length in args.lengths:
        batch = make_batch(model, tokenizer, pick_sentences(tokenizer, sentences, length, args.batch), length)
        print(f"\nlength {length}: timing ...", flush=True)
        times, outcomes, probes = benchmark_length(model, batch, args)
        notes += report_length(length, batch, times, outcomes, probes)
    print()
    for note in notes:
        print(note)
    print(f"total wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
