"""Accuracy per model evaluation of the sampled Shapley estimators, against exact Shapley values.

Each SST-2 dev sentence of 6-10 words is a cooperative game: a coalition of words is the
sentence with the other words deleted, its value the demo model's logit of the class predicted
for the whole sentence. All ``2^F`` values are computed once, so exact Shapley values are known
and every estimator (limelight's and Captum's ``ShapleyValueSampling``) runs on a table lookup
that counts the rows it is asked for. The error of an estimate is the relative L1 error
``sum |est - exact| / sum |exact|``, averaged over sentences and seeds.

The target: limelight's best estimator, at a budget of one fifth of the rows Captum's default
(``n_samples=25``: ``25 F + 1`` rows) uses, reaches Captum's default error. The script also
checks the budget is never exceeded and how well the standard errors predict the error.

    python benchmarks/shapley_accuracy.py            # 5-7 min on a shared 2-core machine
    python benchmarks/shapley_accuracy.py --quick    # about 1 min
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import captum.attr  # noqa: E402
import torch  # noqa: E402
from _common import DEFAULT_DATA, environment_line, load_model  # noqa: E402
from torch import Tensor  # noqa: E402

from limelight.demo.sst2 import read_sst2  # noqa: E402
from limelight.engine.perturbation import KernelShap, ShapleyValueSampling  # noqa: E402
from limelight.engine.perturbation.shapley import shapley_matrix  # noqa: E402

FIGURE = Path(__file__).resolve().parents[1] / "docs" / "images" / "shapley_accuracy.png"
CAPTUM_SAMPLES = (1, 2, 3, 5, 10, 25)
BUDGETS_PER_FEATURE = (2, 3, 4, 5, 6, 8, 12, 25)
"""Budgets ``B = m F`` rows per sentence; ``m = 5`` is one fifth of Captum's default (``25 F + 1``)."""
TARGET_SHARE = 5


@dataclass
class Game:
    """One sentence's game: its words and the value of every coalition (index: bit ``j`` = word ``j``)."""

    words: list[str]
    values: Tensor
    exact: Tensor
    rows: int = 0

    def __call__(self, z: Tensor) -> Tensor:
        self.rows += z.shape[0]
        codes = (z.round().long() << torch.arange(z.shape[1])).sum(1)
        return self.values[codes].to(z.dtype)


def build_games(sentences: list[str], model: torch.nn.Module, tokenizer: object) -> list[Game]:
    """Every coalition's value per sentence, in batches through the model."""
    games = []
    for sentence in sentences:
        words = sentence.split()
        n = len(words)
        texts = [" ".join(w for j, w in enumerate(words) if code >> j & 1) for code in range(2**n)]
        logits = []
        with torch.no_grad():
            for start in range(0, len(texts), 256):
                encoded = tokenizer(texts[start : start + 256], padding=True, return_tensors="pt")  # type: ignore[operator]  # a HF tokenizer
                logits.append(model(**encoded).logits.double())
        table = torch.cat(logits)
        values = table[:, int(table[-1].argmax())]
        games.append(Game(words, values, values @ shapley_matrix(n)))
    return games


def relative_l1(estimate: Tensor, exact: Tensor) -> float:
    return float((estimate - exact).abs().sum() / exact.abs().sum())


Estimator = Callable[[Game, int, int], tuple[Tensor, Tensor | None]]
"""(game, budget or n_samples, seed) -> (estimate, standard errors)."""


def limelight_estimator(method: type, **options: object) -> Estimator:
    def run(game: Game, budget: int, seed: int) -> tuple[Tensor, Tensor | None]:
        result = method(game, check_forward=False).attribute(
            torch.ones(1, len(game.words)), n_evaluations=budget, seed=seed, internal_batch_size=4096, **options
        )
        return result.extras.feature_scores[0], result.extras.standard_errors[0]

    return run


def captum_estimator(game: Game, n_samples: int, seed: int) -> tuple[Tensor, Tensor | None]:
    torch.manual_seed(seed)
    x = torch.ones(1, len(game.words), dtype=torch.float64)
    return captum.attr.ShapleyValueSampling(game).attribute(x, baselines=0.0, n_samples=n_samples)[0], None


ESTIMATORS: dict[str, Estimator] = {
    "ShapleyValueSampling (plain permutations)": limelight_estimator(ShapleyValueSampling, antithetic=False),
    "ShapleyValueSampling (antithetic)": limelight_estimator(ShapleyValueSampling),
    "KernelShap (paired, kernel sampling)": limelight_estimator(KernelShap),
    "KernelShap (paired, stratified)": limelight_estimator(KernelShap, sampling="stratified"),
    "KernelShap (paired, leverage)": limelight_estimator(KernelShap, sampling="leverage"),
    "KernelShap (paired, stratified, adjusted)": limelight_estimator(KernelShap, sampling="stratified", regression_adjusted=True),
}
BEST = "KernelShap (paired, stratified, adjusted)"


@dataclass
class Point:
    rows: float
    error: float
    calibration: float | None = None


def measure(games: list[Game], estimator: Estimator, settings: list[Callable[[int], int]], seeds: int, budgeted: bool) -> list[Point]:
    """Mean rows and error for each setting (a function of the number of words)."""
    points = []
    for setting in settings:
        rows, errors, squared_errors, squared_standard_errors = [], [], [], []
        for game in games:
            for seed in range(seeds):
                game.rows = 0
                allowed = setting(len(game.words))
                try:
                    estimate, errors_estimate = estimator(game, allowed, seed)
                except Exception as exc:  # a budget below an estimator's minimum is skipped
                    if budgeted and "too small" in str(exc):
                        break
                    raise
                if budgeted and game.rows > allowed:
                    raise SystemExit(f"budget exceeded: {game.rows} rows for n_evaluations={allowed}")
                rows.append(game.rows)
                errors.append(relative_l1(estimate, game.exact))
                if errors_estimate is not None and bool(errors_estimate.isfinite().all()):
                    squared_errors.append(float(((estimate - game.exact) ** 2).mean()))
                    squared_standard_errors.append(float((errors_estimate**2).mean()))
        if rows:
            calibration = (statistics.mean(squared_errors) / statistics.mean(squared_standard_errors)) ** 0.5 if squared_errors else None
            points.append(Point(statistics.mean(rows), statistics.mean(errors), calibration))
    return points


def plot(curves: dict[str, list[Point]], target: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, points in curves.items():
        style = "k--o" if name.startswith("Captum") else "-o"
        axes.plot([p.rows for p in points], [p.error for p in points], style, label=name, markersize=4)
    axes.axhline(target, color="grey", linewidth=0.8, linestyle=":", label="Captum default (n_samples=25)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("model rows per sentence (mean)")
    axes.set_ylabel("relative L1 error vs exact Shapley")
    axes.set_title("Shapley estimators on SST-2 dev sentences of 6-10 words (demo model)")
    axes.legend(fontsize=8)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 sentences and 3 seeds (about a minute)")
    parser.add_argument("--sentences", type=int, default=None, help="sentences of 6-10 words (default 40, quick 12)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per sentence (default 5, quick 3)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--figure", type=Path, default=FIGURE)
    args = parser.parse_args()
    n_sentences = args.sentences or (12 if args.quick else 40)
    seeds = args.seeds or (3 if args.quick else 5)
    torch.set_num_threads(1)
    started = time.perf_counter()
    model, tokenizer, described = load_model("demo")
    sentences = [s for s in read_sst2(args.data)[0] if 6 <= len(s.split()) <= 10][:n_sentences]
    print(environment_line())
    print(f"model: {described}")
    games = build_games(sentences, model, tokenizer)
    print(f"{len(games)} sentences of 6-10 words, {seeds} seeds each; games built in {time.perf_counter() - started:.0f} s")

    captum = measure(games, captum_estimator, [lambda f, n=n: n for n in CAPTUM_SAMPLES], seeds, budgeted=False)
    curves = {"Captum ShapleyValueSampling": captum}
    budgets = [lambda f, m=m: m * f for m in BUDGETS_PER_FEATURE]
    for name, estimator in ESTIMATORS.items():
        curves[name] = measure(games, estimator, budgets, seeds, budgeted=True)
    target = captum[-1]
    print(f"\nCaptum default (n_samples=25): {target.rows:.0f} rows, relative L1 error {target.error:.4f}")
    print(f"\n{'estimator':45s} {'rows':>7s} {'error':>8s} {'rms error / rms standard error':>8s}")
    for name, points in curves.items():
        for p in points:
            calibration = f"{p.calibration:8.2f}" if p.calibration is not None else f"{'':8s}"
            print(f"{name:45s} {p.rows:7.1f} {p.error:8.4f} {calibration}")
    for m, p in zip(BUDGETS_PER_FEATURE, curves[BEST]):
        share = target.rows / p.rows
        verdict = "reaches" if p.error <= target.error else "misses"
        print(
            f"target: {BEST} at {m} F rows ({p.rows:.1f}, 1/{share:.1f} of Captum's) {verdict} Captum's error: {p.error:.4f} vs {target.error:.4f}"
        )
    plot(curves, target.error, args.figure)
    print(f"figure: {args.figure}; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
