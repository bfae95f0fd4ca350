"""Time limelight's FeatureAblation, ShapleyValueSampling and KernelShap against Captum's on MiniLM.

Words are the features, and a removed word's tokens become [PAD] ids (the attention mask stays
1, so both libraries evaluate exactly the same function of the token ids). For each method the
script times, in one process and interleaved group by group (SST-2 sentences sorted by length and
grouped as ``limelight.explain`` groups texts: up to ``--batch`` per group, padding at most
``--max-padding`` of a row):

- ``limelight``: one engine call per group, a padded batch, with limelight's defaults (forward
  check, chunks sized to the 2 GiB memory budget by a probe);
- ``captum default``: Captum, one sentence per call (no padding), with its defaults, in particular
  ``perturbations_per_eval=1``: one model forward per perturbed input;
- ``captum ppe=256``: the same with ``perturbations_per_eval=256``;
- ``floor``: bare forwards without gradients of as many rows as ``captum default`` evaluates, one
  sentence at a time at its own length, up to 256 rows per forward: what evaluating Captum's rows
  costs at best.

Every run is timed on process CPU time (one torch thread) and on wall time, as in
``layer_ig_minilm.py``. Run ``python benchmarks/perturbation_minilm.py --help`` for the
options; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import captum.attr  # noqa: E402
import torch  # noqa: E402
from _common import CLOCKS, DEFAULT_DATA, environment_line, load_model, paired_ratio, timed_call, verdict  # noqa: E402
from torch import Tensor, nn  # noqa: E402

import limelight.engine.perturbation.method as engine_method  # noqa: E402
from limelight.demo.sst2 import read_sst2  # noqa: E402
from limelight.engine.perturbation import FeatureAblation, KernelShap, ShapleyValues, ShapleyValueSampling  # noqa: E402
from limelight.text.presence import attended_width  # noqa: E402

TARGET_SPEEDUP = 5.0
CAPTUM_BATCHED = 256  # perturbations_per_eval of the "captum ppe=256" variant
FLOOR_ROWS = 256  # rows per forward of the floor
EQUAL_TOLERANCE = 1e-4  # feature ablation: max |limelight - captum| / max |captum| counted as equal
PROBED = ("check_perturbed_forward", "row_bytes", "rows_for_budget", "cpu_capped")  # limelight.engine.perturbation.method names timed
VARIANTS = ("limelight", "captum default", f"captum ppe={CAPTUM_BATCHED}", "floor")

Scores = dict[int, Tensor]  # sentence index -> float64 score per word
Timings = dict[str, dict[str, list[float]]]  # clock -> variant -> total seconds per round


@dataclass(frozen=True)
class Sentence:
    """One tokenized sentence: ids ``(1, L)``, word id per token (-1: special token), predicted class."""

    ids: Tensor
    words: Tensor
    target: int

    @property
    def n_words(self) -> int:
        return int(self.words.max()) + 1

    @property
    def first_tokens(self) -> Tensor:
        """The position of each word's first token (where Captum's per-token output is read)."""
        positions = torch.arange(self.words.shape[0])
        return torch.stack([positions[self.words == w][0] for w in range(self.n_words)])

    def captum_mask(self) -> Tensor:
        """Captum's feature mask: word ids, with the special tokens joining word 0.

        Captum has no "never perturbed" id; with :meth:`captum_baseline` a special token's
        baseline is itself, so ablating word 0 leaves [CLS] and [SEP] as they are.
        """
        return self.words.clamp(min=0).unsqueeze(0)

    def captum_baseline(self, pad_id: int) -> Tensor:
        """[PAD] for every word token, the token itself for special tokens."""
        return torch.where(self.words < 0, self.ids[0], pad_id).unsqueeze(0)


@dataclass(frozen=True)
class Group:
    """Sentences explained by one limelight call: right-padded ids, attention mask, word ids (-1: not a word)."""

    members: list[int]
    ids: Tensor
    mask: Tensor
    words: Tensor
    target: list[int]


@dataclass(frozen=True)
class Method:
    """One method of both libraries, the options each gets, and how many rows Captum's default evaluates."""

    name: str
    limelight: type
    captum: str
    limelight_options: dict[str, int]
    captum_options: dict[str, int]
    captum_rows: Callable[[int], int]
    sampled: bool
    rounds: int


@dataclass
class Counter:
    """The forward both libraries call: the model's logits, counting rows and token positions."""

    model: nn.Module
    rows: int = 0
    positions: int = 0

    def __call__(self, ids: Tensor, mask: Tensor) -> Tensor:
        self.rows += ids.shape[0]
        self.positions += ids.numel()
        return self.model(input_ids=ids, attention_mask=mask).logits


@dataclass
class Measured:
    """Times per round, rows and token positions per round, scores and limelight's probe costs."""

    times: Timings
    rows: dict[str, int]
    positions: dict[str, int]
    scores: dict[str, Scores]
    probes: dict[str, list[float]] = field(default_factory=dict)
    chunk_rows: set[int] = field(default_factory=set)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=32, help="first N sentences of dev.tsv (default: 32)")
    parser.add_argument(
        "--batch", type=int, default=16, help="at most this many sentences per limelight call (default: 16, TextExplainer's batch_size)"
    )
    parser.add_argument(
        "--max-padding",
        type=float,
        default=0.25,
        help="a limelight group ends before a sentence shorter than (1 - this) x its longest (default: 0.25, as TextExplainer)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=["ablation", "shapley_sampling", "kernel_shap"],
        default=["ablation", "shapley_sampling", "kernel_shap"],
        help="methods to time (default: all three)",
    )
    parser.add_argument(
        "--shapley-samples",
        type=int,
        default=4,
        help="permutations per sentence for ShapleyValueSampling, both libraries (default: 4; Captum's default is 25)",
    )
    parser.add_argument(
        "--kernel-samples",
        type=int,
        default=50,
        help="KernelShap rows per sentence: Captum's n_samples, which counts all and no words; limelight "
        "gets n_samples = this - 2 (default: 50; Captum's default is 25)",
    )
    parser.add_argument(
        "--exact-max",
        type=int,
        default=10,
        help="sentences with at most this many words get exact Shapley values as the reference (default: 10)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed rounds over all sentences (default: 3 for FeatureAblation, 1 for the sampled methods, "
        "whose single round is already thousands of forwards)",
    )
    parser.add_argument("--seed", type=int, default=0, help="limelight's seed; Captum's torch.manual_seed is seed + sentence index")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch.set_num_threads (default: 1, so process CPU time measures the work done)"
    )
    parser.add_argument(
        "--model",
        choices=["demo", "base"],
        default="demo",
        help="demo: limelight.demo.demo_model() (falls back to base); base: pretrained MiniLM encoder with a random 2-class head",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"SST-2 dev.tsv (default: {DEFAULT_DATA})")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run (~1 min): 8 sentences, 2 permutations, 20 coalitions, exact reference up to 6 words"
    )
    args = parser.parse_args()
    for name in ("sentences", "batch", "repeats", "threads", "shapley_samples", "exact_max"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.max_padding < 1:
        parser.error("--max-padding must be a fraction in [0, 1)")
    if args.kernel_samples < 3:
        parser.error("--kernel-samples must be at least 3 (Captum spends two on all and no words)")
    if args.quick:
        args.sentences, args.shapley_samples, args.kernel_samples, args.exact_max = 8, 2, 20, 6
    return args


def methods(args: argparse.Namespace) -> list[Method]:
    """The methods chosen on the command line, with the sample counts both libraries get and their timed rounds."""
    n, m, repeats = args.shapley_samples, args.kernel_samples, args.repeats
    known = {
        # Captum: one forward with all words, then one per removed word
        "ablation": Method(
            "FeatureAblation", FeatureAblation, "FeatureAblation", {}, {}, lambda f: f + 1, sampled=False, rounds=repeats or 3
        ),
        # Captum: one forward with no words, then one per word added along each permutation
        "shapley_sampling": Method(
            "ShapleyValueSampling",
            ShapleyValueSampling,
            "ShapleyValueSampling",
            {"n_samples": n},
            {"n_samples": n},
            lambda f: 1 + n * f,
            sampled=True,
            rounds=repeats or 1,
        ),
        # Captum's n_samples counts the all-words and no-words inputs, limelight's only the coalitions between
        "kernel_shap": Method(
            "KernelShap", KernelShap, "KernelShap", {"n_samples": m - 2}, {"n_samples": m}, lambda f: m, sampled=True, rounds=repeats or 1
        ),
    }
    return [known[name] for name in args.methods]


def load_sentences(model: nn.Module, tokenizer: Any, path: Path, count: int) -> list[Sentence]:
    """The first ``count`` sentences, tokenized one by one, with their words and predicted classes."""
    texts = read_sst2(path)[0][:count]
    sentences = []
    for text in texts:
        encoded = tokenizer(text, return_tensors="pt")
        words = torch.tensor([-1 if w is None else w for w in encoded.word_ids(0)])
        with torch.no_grad():
            target = int(model(input_ids=encoded["input_ids"]).logits.argmax())
        sentences.append(Sentence(encoded["input_ids"], words, target))
    return sentences


def make_groups(sentences: list[Sentence], size: int, max_padding: float, pad_id: int) -> list[Group]:
    """Longest first, at most ``size`` per group, a new group before a sentence under ``(1 - max_padding)`` x the group's longest."""
    members: list[list[int]] = []
    for i in sorted(range(len(sentences)), key=lambda i: -sentences[i].ids.shape[1]):
        length = sentences[i].ids.shape[1]
        if members and len(members[-1]) < size and length >= (1 - max_padding) * sentences[members[-1][0]].ids.shape[1]:
            members[-1].append(i)
        else:
            members.append([i])
    return [pad_group(sentences, group, pad_id) for group in members]


def pad_group(sentences: list[Sentence], members: list[int], pad_id: int) -> Group:
    """The ``members`` right-padded to the longest of them."""
    width = max(sentences[i].ids.shape[1] for i in members)
    ids = torch.full((len(members), width), pad_id)
    mask = torch.zeros_like(ids)
    words = torch.full_like(ids, -1)
    for row, i in enumerate(members):
        length = sentences[i].ids.shape[1]
        ids[row, :length], mask[row, :length], words[row, :length] = sentences[i].ids[0], 1, sentences[i].words
    return Group(members, ids, mask, words, [sentences[i].target for i in members])


@dataclass
class Trimmed:
    """The forward as ``limelight.explain`` runs perturbed rows: each chunk without the trailing padding none of its rows attends to."""

    forward: Counter

    def __call__(self, ids: Tensor, mask: Tensor) -> Tensor:
        width = attended_width(mask)
        return self.forward(ids[:, :width], mask[:, :width])


_BUILT: dict[tuple[str, int], Any] = {}


def limelight_run(method: Method, forward: Counter, group: Group, pad_id: int, seed: int) -> Scores:
    """limelight's method on one padded group, with its defaults; word scores per sentence.

    The method is built once per forward and reused, as a user explaining many texts would (and
    as the Captum explainer is), so its probes run on its first call only. Each chunk drops its
    trailing padding, as in ``limelight.explain`` (``limelight.text.presence``).
    """
    options = {**method.limelight_options, "seed": seed} if method.sampled else method.limelight_options
    built = _BUILT.setdefault((method.name, id(forward)), method.limelight(Trimmed(forward)))
    result = built.attribute(
        group.ids,
        pad_id,
        group.target,
        feature_mask=group.words,
        additional_forward_args=(group.mask,),
        show_progress=False,
        **options,
    )
    scores, counts = result.extras.feature_scores, result.extras.n_features
    return {i: scores[row, : int(counts[row])] for row, i in enumerate(group.members)}


def captum_run(method: Method, forward: Counter, sentences: list[Sentence], group: Group, pad_id: int, ppe: int, seed: int) -> Scores:
    """Captum's method, one sentence per call; the word scores read at each word's first token."""
    explainer = getattr(captum.attr, method.captum)(forward)
    scores = {}
    for i in group.members:
        sentence = sentences[i]
        torch.manual_seed(seed + i)
        attributions = explainer.attribute(
            sentence.ids,
            baselines=sentence.captum_baseline(pad_id),
            target=sentence.target,
            additional_forward_args=(torch.ones_like(sentence.ids),),
            feature_mask=sentence.captum_mask(),
            perturbations_per_eval=ppe,
            **method.captum_options,
        )
        scores[i] = attributions[0, sentence.first_tokens].double()
    return scores


def floor_run(method: Method, forward: Counter, sentences: list[Sentence], group: Group) -> Scores:
    """As many rows as Captum's default evaluates, each sentence at its own length, FLOOR_ROWS per forward."""
    with torch.no_grad():
        for i in group.members:
            ids = sentences[i].ids
            total = method.captum_rows(sentences[i].n_words)
            for start in range(0, total, FLOOR_ROWS):
                rows = min(FLOOR_ROWS, total - start)
                forward(ids.expand(rows, -1), torch.ones((rows, ids.shape[1]), dtype=torch.long))
    return {}


@contextmanager
def recording_probes(measured: Measured) -> Iterator[None]:
    """Time limelight's forward check and memory probe (engine internals, by the names its method module uses)."""
    names = [name for name in PROBED if hasattr(engine_method, name)]
    originals = {name: getattr(engine_method, name) for name in names}

    def timed(name: str) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            start = time.process_time()
            value = originals[name](*args)
            measured.probes.setdefault(name, []).append(time.process_time() - start)
            if name == "cpu_capped":  # the chunk after the CPU cap (engine.chunking.CPU_FORWARD_ROWS)
                measured.chunk_rows.add(value)
            return value

        return wrapper

    for name in names:
        setattr(engine_method, name, timed(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(engine_method, name, original)


def benchmark_method(
    method: Method, model: nn.Module, sentences: list[Sentence], groups: list[Group], pad_id: int, args: argparse.Namespace
) -> Measured:
    """Warm up on one sentence, then time every variant on every group, group by group, each round."""
    forwards = {name: Counter(model) for name in VARIANTS}

    def run(name: str, group: Group) -> Scores:
        forward = forwards[name]
        if name == "limelight":
            return limelight_run(method, forward, group, pad_id, args.seed)
        if name == "floor":
            return floor_run(method, forward, sentences, group)
        return captum_run(method, forward, sentences, group, pad_id, 1 if name == "captum default" else CAPTUM_BATCHED, args.seed)

    shortest = pad_group(sentences, groups[-1].members[-1:], pad_id)
    for name in VARIANTS:
        timed_call(lambda: run(name, shortest))
    measured = Measured({clock: {name: [] for name in VARIANTS} for clock in CLOCKS}, {}, {}, {name: {} for name in VARIANTS})
    for round_index in range(method.rounds):
        totals = {clock: dict.fromkeys(VARIANTS, 0.0) for clock in CLOCKS}
        for forward in forwards.values():
            forward.rows = forward.positions = 0
        for group in groups:
            for name in VARIANTS:
                with recording_probes(measured) if name == "limelight" else nullcontext():
                    seconds, scores = timed_call(lambda: run(name, group))
                for clock in CLOCKS:
                    totals[clock][name] += seconds[clock]
                measured.scores[name].update(scores)
        for clock in CLOCKS:
            for name in VARIANTS:
                measured.times[clock][name].append(totals[clock][name])
        measured.rows = {name: forward.rows for name, forward in forwards.items()}
        measured.positions = {name: forward.positions for name, forward in forwards.items()}
        shown = ", ".join(f"{name} {totals['cpu'][name]:.1f}/{totals['wall'][name]:.1f}" for name in VARIANTS)
        print(f"  round {round_index + 1} (cpu/wall s): {shown}", flush=True)
    return measured


def endpoints(model: nn.Module, sentences: list[Sentence], pad_id: int) -> Tensor:
    """``f(all words) - f(no words)`` per sentence, for the efficiency check."""
    values = []
    with torch.no_grad():
        for s in sentences:
            ones = torch.ones_like(s.ids)
            logits = [model(input_ids=x, attention_mask=ones).logits[0, s.target] for x in (s.ids, s.captum_baseline(pad_id))]
            values.append(float(logits[0] - logits[1]))
    return torch.tensor(values, dtype=torch.float64)


def exact_shapley(model: nn.Module, sentences: list[Sentence], pad_id: int, limit: int) -> Scores:
    """Exact Shapley values (limelight's ShapleyValues, all 2^F coalitions) of sentences with at most ``limit`` words."""
    forward = Counter(model)
    reference: Scores = {}
    for i, sentence in enumerate(sentences):
        if sentence.n_words <= limit:
            result = ShapleyValues(forward).attribute(
                sentence.ids,
                pad_id,
                sentence.target,
                feature_mask=sentence.words.unsqueeze(0),
                additional_forward_args=(torch.ones_like(sentence.ids),),
                max_features=limit,
                show_progress=False,
            )
            reference[i] = result.extras.feature_scores[0]
    return reference


def relative_error(estimate: Tensor, exact: Tensor) -> float:
    """``|estimate - exact| / |exact|`` (Euclidean norms over the words)."""
    return float((estimate - exact).norm() / exact.norm())


def accuracy_lines(method: Method, measured: Measured, reference: Scores, change: Tensor) -> list[str]:
    """What was compared and how well the results agree."""
    ours, theirs, batched = (measured.scores[name] for name in ("limelight", "captum default", f"captum ppe={CAPTUM_BATCHED}"))
    lines = []
    batched_gap = max(float((batched[i] - theirs[i]).abs().max()) for i in theirs)
    lines.append(f"captum ppe={CAPTUM_BATCHED} vs captum default (same seeds): max |difference| = {batched_gap:.1e}")
    if not method.sampled:
        gap = max(float((ours[i] - theirs[i]).abs().max()) for i in theirs)
        scale = max(float(theirs[i].abs().max()) for i in theirs)
        lines.append(
            f"limelight vs captum default, all {len(theirs)} sentences: max |difference| = {gap:.1e}, "
            f"max |captum| = {scale:.2f}, relative {gap / scale:.1e}: equal results {verdict(gap <= EQUAL_TOLERANCE * scale)}"
        )
        return lines
    for name, scores in (("limelight", ours), ("captum default", theirs)):
        efficiency = max(abs(float(scores[i].sum()) - float(change[i])) / abs(float(change[i])) for i in scores)
        errors = [relative_error(scores[i], reference[i]) for i in reference]
        against = (
            (
                f"error vs exact Shapley |phi - exact| / |exact| over the {len(errors)} sentences of <= the word limit: "
                f"mean {statistics.mean(errors):.3f}, max {max(errors):.3f}"
            )
            if errors
            else "no sentence short enough for the exact reference"
        )
        lines.append(f"{name}: {against}; max |sum(phi) - (f(x) - f(b))| / |f(x) - f(b)| = {efficiency:.1e}")
    distance = statistics.median(relative_error(ours[i], theirs[i]) for i in theirs)
    lines.append(
        f"limelight vs captum default, all {len(theirs)} sentences: median |phi_limelight - phi_captum| / |phi_captum| = {distance:.3f} "
        "(sampling noise of both; not expected to be 0)"
    )
    return lines


def report_method(method: Method, measured: Measured, sentences: list[Sentence], reference: Scores, change: Tensor) -> list[str]:
    """Print one method's table and agreement; return its verdict lines."""
    sampling = {"limelight": method.limelight_options, "captum": method.captum_options}
    settings = "; ".join(f"{library} {_listed(options)}" for library, options in sampling.items() if options) or "no sampling"
    print(
        f"\n### {method.name} ({settings}; {len(sentences)} sentences, {sum(s.n_words for s in sentences)} words; "
        f"{method.rounds} timed round(s))\n"
    )
    print(
        "| variant | forward rows | token positions | CPU s median (range) | limelight speed-up, CPU (range) "
        "| wall s median (range) | limelight speed-up, wall (range) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in VARIANTS:
        cells = []
        for clock in CLOCKS:
            times = measured.times[clock][name]
            ratio, low, high = paired_ratio(measured.times[clock], name, "limelight")
            cells.append(f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f}) | {ratio:.2f} ({low:.2f}-{high:.2f})")
        print(f"| {name} | {measured.rows[name]} | {measured.positions[name]} | {cells[0]} | {cells[1]} |")
    print()
    for line in accuracy_lines(method, measured, reference, change):
        print(line)
    limelight_cpu = statistics.median(measured.times["cpu"]["limelight"])
    probes = ", ".join(
        f"{name} {sum(seconds) / len(measured.times['cpu']['limelight']):.2f} s "
        f"({sum(seconds) / len(measured.times['cpu']['limelight']) / limelight_cpu:.1%})"
        for name, seconds in measured.probes.items()
    )
    print(f"limelight probes, CPU s per round (share of limelight's time): {probes}; rows per chunk chosen: {sorted(measured.chunk_rows)}")
    notes = []
    for clock in CLOCKS:
        speedup = paired_ratio(measured.times[clock], "captum default", "limelight")[0]
        ceiling = paired_ratio(measured.times[clock], "captum default", "floor")[0]
        notes.append(
            f"{method.name} ({clock}): limelight is {speedup:.2f}x faster than captum default "
            f"(target >= {TARGET_SPEEDUP:.0f}x: {verdict(speedup >= TARGET_SPEEDUP)}); "
            f"captum default / floor = {ceiling:.2f}x"
        )
    return notes


def _listed(options: dict[str, int]) -> str:
    return ", ".join(f"{key}={value}" for key, value in options.items())


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, tokenizer, described = load_model(args.model)
    pad_id = tokenizer.pad_token_id
    sentences = load_sentences(model, tokenizer, args.data, args.sentences)
    groups = make_groups(sentences, args.batch, args.max_padding, pad_id)
    print(f"model: {described}")
    print(environment_line())
    print(
        f"settings: {len(sentences)} sentences ({sum(s.ids.shape[1] for s in sentences)} tokens, {sum(s.n_words for s in sentences)} words), "
        f"limelight groups of <= {args.batch} sorted by length with <= {args.max_padding:.0%} padding "
        f"(sizes {[len(g.members) for g in groups]}, widths {[g.ids.shape[1] for g in groups]}), "
        f"seed {args.seed}; speed-ups are medians over rounds of per-round ratios of totals"
    )
    started = time.perf_counter()
    change = endpoints(model, sentences, pad_id)
    chosen = methods(args)
    reference = exact_shapley(model, sentences, pad_id, args.exact_max) if any(m.sampled for m in chosen) else {}
    notes: list[str] = []
    for method in chosen:
        print(f"\n{method.name}: timing ...", flush=True)
        measured = benchmark_method(method, model, sentences, groups, pad_id, args)
        notes += report_method(method, measured, sentences, reference, change)
    print()
    for note in notes:
        print(note)
    print(f"total wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
