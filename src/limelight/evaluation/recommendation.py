"""The sentence a comparison ends with: which method to trust here, and how sure that is.

The winner is the method with the best mean on the primary metric. How sure: the fraction of
paired bootstrap resamples of the inputs in which it beats the runner-up; the difference is called
significant when that fraction reaches ``1 - (1 - confidence) / 2`` (0.975 for 95%), i.e. the
one-sided bootstrap test at the interval's level. Warnings follow for methods that fail the
randomisation check and for inputs where methods disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .agreement import Agreement
from .bootstrap import Estimate, win_rate
from .metric import Metric

Metrics = Mapping[str, Metric[Any]]

RANDOMISATION_WARNING = 0.5
"""Mean rho after model randomisation above which a method is said to ignore the model."""

_SUPERLATIVE = {
    "faithfulness": "most faithful",
    "plausibility": "most plausible",
    "robustness": "most stable",
    "sanity": "most model-dependent",
}


def ranking(summaries: Mapping[str, Mapping[str, Estimate]], metric: Metric[Any]) -> list[str]:
    """Methods with a defined mean on ``metric``, best first."""
    name = metric.name
    defined = [m for m, s in summaries.items() if name in s and not math.isnan(s[name].mean)]
    sign = -1.0 if metric.higher_is_better else 1.0
    return sorted(defined, key=lambda m: sign * summaries[m][name].mean)


def recommend(
    summaries: Mapping[str, Mapping[str, Estimate]],
    values: Mapping[str, Mapping[str, np.ndarray]],
    metrics: Metrics,
    primary: str,
    indices: np.ndarray,
    confidence: float = 0.95,
    agreement: Agreement | None = None,
    inputs: str = "texts",
) -> str:
    """A few sentences naming the best method on ``primary``, the runner-up, and how sure the order is.

    ``metrics``: the registry the summaries' metric names come from (labels, directions, families);
    ``inputs``: what the inputs are, in the plural ("texts", "images"), for the advice to evaluate more.
    """
    metric = metrics[primary]
    order = ranking(summaries, metric)
    if not order:
        return f"No method could be scored by {metric.label} on these inputs."
    best = order[0]
    words = _SUPERLATIVE[metric.family]
    if len(order) == 1:
        sentences = [f"{best} is the only method scored by {metric.label}: {summaries[best][primary].format()}."]
    else:
        second = order[1]
        share = win_rate(values[best][primary], values[second][primary], indices, metric.higher_is_better)
        significant = share >= 1.0 - (1.0 - confidence) / 2.0
        sentences = [
            f"{best} is the {words} by {metric.label} ({summaries[best][primary].format()}); "
            f"{second} is second ({summaries[second][primary].format()}).",
            f"{best} is ahead in {share:.0%} of {indices.shape[0]} paired bootstrap resamples, so "
            + (
                f"the difference is significant at the {confidence:.0%} level."
                if significant
                else f"the two are not clearly separated on these inputs: treat them as tied, or evaluate more {inputs}."
            ),
        ]
        sentences += _consistency(summaries, metrics, best, metric)
    sentences += _warnings(summaries, agreement)
    return " ".join(sentences)


def _consistency(summaries: Mapping[str, Mapping[str, Estimate]], metrics: Metrics, best: str, primary: Metric[Any]) -> list[str]:
    """How often the winner is also first on the other metrics of the same family."""
    family = primary.family
    others = [m for m in metrics.values() if m.name != primary.name and m.family == family and ranking(summaries, m)]
    if not others:
        return []
    firsts = sum(ranking(summaries, m)[0] == best for m in others)
    return [f"It is also first on {firsts} of the {len(others)} other {family} metrics computed."]


def _warnings(summaries: Mapping[str, Mapping[str, Estimate]], agreement: Agreement | None) -> list[str]:
    out = []
    stuck = {
        m: s["randomisation"].mean for m, s in summaries.items() if "randomisation" in s and s["randomisation"].mean > RANDOMISATION_WARNING
    }
    if stuck:
        listed = ", ".join(f"{m} (mean rho {rho:.2f})" for m, rho in stuck.items())
        out.append(
            f"Warning: the explanations of {listed} barely change when the model's top layers are randomised, "
            "so they may describe the input more than the model."
        )
    if agreement is not None and agreement.flagged.any():
        out.append(
            f"Methods disagree strongly (mean pairwise Spearman below {agreement.threshold:g}) on "
            f"{int(agreement.flagged.sum())} of {len(agreement.mean)} inputs; look at those before trusting any one explanation."
        )
    return out
