"""Which words drive a classifier across a dataset: per label, words ranked by their attributions, with intervals.

:func:`global_importance` reads a job's rows (:func:`~limelight.jobs.results.read_results`) and
groups every word occurrence by the explained label (``target``) and the word (lower-cased).
Scores are in the units of the explained quantity and are never normalised per text, so a mean
over texts is meaningful: ``mean`` is the average attribution of one occurrence, ``total`` the
sum over the dataset (frequent words weigh more), ``count`` the occurrences, ``texts`` the texts
they occur in, and ``low``/``high`` a percentile bootstrap interval of the mean (occurrences
resampled with replacement; seeded). A word *flips* when it pushes both ways in different
contexts: at least ``flip_share`` of its occurrences on each side of zero. The error analysis
lists the most confident mistakes (rows with a true label the prediction misses), the rows whose
completeness delta did not converge, and the rows that failed.

Generation rows count like texts: their features are the words, the sequence scores (each
feature's attribution to the whole continuation) the scores, grouped under the explained quantity.
Image rows have no words: :attr:`GlobalImportance.predictions` (per predicted label: rows, mean
probability, accuracy, delta and convergence, for every classifier) is their summary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from limelight._optional import pandas
from limelight.engine.validation import check_count, check_probability
from limelight.errors import InvalidInputError, MissingDependencyError
from limelight.jobs.results import Results, front_end_of_rows, read_results
from limelight.viz.colors import NEGATIVE_EXTREME, POSITIVE_EXTREME

RANKINGS = ("mean", "total")


@dataclass(frozen=True)
class GlobalImportance:
    """Per-word statistics (:attr:`words`) and error analysis (:attr:`mistakes`, :attr:`unconverged`, :attr:`failures`)."""

    words: Any
    """DataFrame: ``label, word, count, texts, mean, total, low, high, positive_share, flips`` (one row per label and word)."""
    mistakes: Any
    """DataFrame of rows predicted wrongly, most confident first: ``id, text, label, prediction, probability``."""
    unconverged: Any
    """DataFrame of rows whose completeness delta is outside the tolerance: ``id, text, delta, steps``."""
    failures: Any
    """DataFrame of rows that could not be explained: ``id, text, error``."""
    rows: int
    min_count: int
    predictions: Any = None
    """DataFrame per predicted label: ``label, rows, mean_probability, labelled, accuracy, mean_abs_delta, unconverged``."""
    input_column: str = "text"
    """The column that shows each row's input (``text``, ``image``, ``prompt``; the error-analysis frames have it)."""

    @property
    def labels(self) -> list[str]:
        """The explained labels, in order of appearance."""
        return list(dict.fromkeys(self.words["label"]))

    def top(self, label: str, n: int = 10, by: str = "mean") -> Any:
        """The ``n`` words pushing hardest towards ``label`` (seen at least ``min_count`` times), by ``mean`` or ``total``."""
        if by not in RANKINGS:
            raise InvalidInputError(f"by must be one of {RANKINGS}, got {by!r}")
        if label not in self.labels:
            raise InvalidInputError(f"no rows explain label {label!r}; the labels are {self.labels}")
        frame = self.words[(self.words["label"] == label) & (self.words["count"] >= self.min_count)]
        return frame.sort_values([by, "word"], ascending=[False, True]).head(check_count("n", n)).reset_index(drop=True)

    def flips(self, label: str | None = None) -> Any:
        """Words whose sign flips across contexts (for one label, or all), most frequent first."""
        frame = self.words[self.words["flips"]]
        if label is not None:
            frame = frame[frame["label"] == label]
        return frame.sort_values(["count", "word"], ascending=[False, True]).reset_index(drop=True)

    def to_text(self, n: int = 10, by: str = "mean") -> str:
        """A plain report: top words per label with intervals, flipping words, and the error analysis."""
        lines = [f"{self.rows} rows; words seen at least {self.min_count} times; scores in the units of the explained quantity"]
        if self.predictions is not None and len(self.predictions):
            lines.append("\npredictions per label (rows, mean probability, accuracy where labelled, mean |delta|, unconverged)")
            lines += [
                f"  {r.label!r:<20} n={r.rows:<5} p={r.mean_probability:.3f}  accuracy "
                + ("-" if r.labelled == 0 else f"{r.accuracy:.3f} of {r.labelled}")
                + f"  |delta| {r.mean_abs_delta:.3g}  unconverged {r.unconverged}"
                for r in self.predictions.itertuples()
            ]
        for label in self.labels:
            lines.append(f"\nlabel {label!r}: top words by {by} (mean [95% interval], total, count)")
            for r in self.top(label, n, by).itertuples():
                lines.append(f"  {r.word!r:<20} {r.mean:+.4f} [{r.low:+.4f}, {r.high:+.4f}]  total {r.total:+.3f}  n={r.count}")
            flipping = self.flips(label).head(n)
            if len(flipping):
                lines.append(
                    "  sign flips across contexts: "
                    + ", ".join(f"{w!r} ({s:.0%} positive)" for w, s in zip(flipping["word"], flipping["positive_share"]))
                )
        lines.append(f"\n{len(self.mistakes)} mistakes" + (" (most confident first):" if len(self.mistakes) else ""))
        lines += [
            f"  id {r.id!r}: {r.label} predicted {r.prediction} (p = {r.probability:.3f}): {str(getattr(r, self.input_column))[:80]!r}"
            for r in self.mistakes.head(n).itertuples()
        ]
        lines.append(f"{len(self.unconverged)} rows did not converge; {len(self.failures)} rows failed")
        lines += [f"  failed id {r.id!r}: {r.error}" for r in self.failures.head(n).itertuples()]
        return "\n".join(lines)

    def save_chart(self, path: str | os.PathLike[str], n: int = 10, by: str = "mean") -> Path:
        """Bar charts of the top ``n`` words per label (PNG or SVG, by the suffix), with their bootstrap intervals."""
        target = Path(path)
        if target.suffix.lower() not in (".png", ".svg"):
            raise InvalidInputError(f"{target}: charts are written as .png or .svg")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("charts need matplotlib: pip install 'limelight[plot]'") from error
        labels = self.labels or ["(no rows)"]
        figure, axes = plt.subplots(1, len(labels), figsize=(4.5 * len(labels), 0.35 * n + 1.5), squeeze=False)
        for axis, label in zip(axes[0], labels):
            top = self.top(label, n, by) if self.labels else self.words
            values = top[by].to_numpy()[::-1]
            axis.barh(top["word"].to_numpy()[::-1], values, color=[POSITIVE_EXTREME if v >= 0 else NEGATIVE_EXTREME for v in values])
            if by == "mean" and len(top):
                low, high = top["low"].to_numpy()[::-1], top["high"].to_numpy()[::-1]
                axis.errorbar(values, range(len(values)), xerr=[values - low, high - values], fmt="none", ecolor="black", capsize=2)
            axis.axvline(0, color="black", linewidth=0.8)
            axis.set_title(f"{label}: top words by {by}")
            axis.set_xlabel(f"{by} attribution")
        figure.tight_layout()
        figure.savefig(target)
        plt.close(figure)
        return target


def global_importance(
    results: Results,
    *,
    min_count: int = 2,
    flip_share: float = 0.2,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> GlobalImportance:
    """Per label, every word's mean and total attribution with counts and a bootstrap interval; see the module docstring.

    ``results`` is a job's Parquet folder or JSON Lines file, its DataFrame, or explanations.
    """
    check_count("min_count", min_count)
    check_count("n_bootstrap", n_bootstrap)
    check_probability("confidence", confidence)
    if not 0.0 < flip_share <= 0.5:
        raise InvalidInputError(f"flip_share must be in (0, 0.5], got {flip_share!r}")
    pd = pandas()
    frame = read_results(results)
    front = front_end_of_rows(frame)
    scored = "sequence_scores" if front.name == "generation" else "scores"
    explained = frame[frame["error"].isna() & frame[scored].notna()]
    groups: dict[tuple[str, str], list[float]] = {}
    texts: dict[tuple[str, str], int] = {}
    for label, words, scores in _occurrences(explained, front.name):
        seen = set()
        for word, score in zip(words, scores):
            key = (str(label), str(word).strip().lower())
            if not key[1]:
                continue
            groups.setdefault(key, []).append(float(score))
            if key not in seen:
                texts[key] = texts.get(key, 0) + 1
                seen.add(key)
    rng = np.random.default_rng(seed)
    tail = (1.0 - confidence) / 2.0
    records = []
    for (label, word), values in groups.items():
        scores = np.asarray(values)
        low = high = float("nan")
        if len(scores) >= min_count:
            low, high = (float(v) for v in np.quantile(_bootstrap_means(scores, n_bootstrap, rng), [tail, 1.0 - tail]))
        positive = float((scores > 0).mean())
        negative = float((scores < 0).mean())
        records.append(
            {
                "label": label,
                "word": word,
                "count": len(scores),
                "texts": texts[(label, word)],
                "mean": float(scores.mean()),
                "total": float(scores.sum()),
                "low": low,
                "high": high,
                "positive_share": positive,
                "flips": len(scores) >= min_count and min(positive, negative) >= flip_share,
            }
        )
    columns = ["label", "word", "count", "texts", "mean", "total", "low", "high", "positive_share", "flips"]
    words = pd.DataFrame(records, columns=columns)
    shown = front.input_column
    classified = "correct" in frame.columns
    wrong = frame[frame["correct"].eq(False)] if classified else frame.iloc[:0]
    mistakes = (
        wrong.sort_values("probability", ascending=False)[["id", shown, "label", "prediction", "probability"]].reset_index(drop=True)
        if classified
        else pd.DataFrame(columns=["id", shown, "label", "prediction", "probability"])
    )
    unconverged = frame[frame["converged"].eq(False)][["id", shown, "delta", "steps"]].reset_index(drop=True)
    failures = frame[frame["error"].notna()][["id", shown, "error"]].reset_index(drop=True)
    predictions = _predictions(explained) if classified else None
    return GlobalImportance(words, mistakes, unconverged, failures, len(frame), min_count, predictions, shown)


def _occurrences(explained: Any, front: str) -> Any:
    """``(label, words, scores)`` per explained row: text words, generation features under the quantity, none for images."""
    if front == "generation":
        return zip(explained["quantity"], explained["features"], explained["sequence_scores"])
    if front == "image":
        return iter(())
    return zip(explained["target"], explained["words"], explained["scores"])


def _predictions(explained: Any) -> Any:
    """Per predicted label: rows, mean probability, labelled rows and their accuracy, mean ``|delta|``, unconverged rows."""
    pd = pandas()
    records = []
    for label, group in explained.groupby("prediction", sort=True):
        labelled = group["correct"].notna()
        delta = pd.to_numeric(group["delta"], errors="coerce").abs()
        records.append(
            {
                "label": str(label),
                "rows": len(group),
                "mean_probability": float(group["probability"].mean()),
                "labelled": int(labelled.sum()),
                "accuracy": float(group["correct"][labelled].astype(bool).mean()) if labelled.any() else float("nan"),
                "mean_abs_delta": float(delta.mean()) if delta.notna().any() else float("nan"),
                "unconverged": int(group["converged"].eq(False).sum()),
            }
        )
    columns = ["label", "rows", "mean_probability", "labelled", "accuracy", "mean_abs_delta", "unconverged"]
    return pd.DataFrame(records, columns=columns)


_DRAWS_AT_ONCE = 2_000_000
"""Resample indices drawn per block (16 MB), so a word seen 100,000 times does not need a 1000 x 100,000 matrix."""


def _bootstrap_means(scores: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """The means of ``n_bootstrap`` resamples (with replacement) of ``scores``, drawn in blocks of bounded memory."""
    means = np.empty(n_bootstrap)
    step = max(1, _DRAWS_AT_ONCE // len(scores))
    for start in range(0, n_bootstrap, step):
        size = min(step, n_bootstrap - start)
        means[start : start + size] = scores[rng.integers(0, len(scores), size=(size, len(scores)))].mean(axis=1)
    return means
