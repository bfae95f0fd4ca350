"""Plausibility: do the words an explanation ranks highest match what people marked?

A word of the explanation (a span of ``text``, segment 0) is a rationale word when its characters
overlap any rationale span. With ``T`` the rationale words, ``k`` (default ``|T|``) and ``P`` the
top ``k`` words by the ranking rule of :mod:`.ranking`:

* F1@k = 2 |P & T| / (|P| + |T|), i.e. the harmonic mean of precision |P & T| / k and recall |P & T| / |T|;
* IoU@k = |P & T| / |P | T|;
* AUPRC: average precision over the full ranking, (1/|T|) * sum over ranks r holding a rationale
  word of precision@r: exact, no interpolation.

All three are ``nan`` when the text has no rationale word (e.g. a toxic post with no span).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from limelight.engine.validation import check_count
from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation

from .ranking import RankBy, rank_order
from .rationales import Rationale

PLAUSIBILITY_METRICS: tuple[str, ...] = ("f1", "iou", "auprc")


def rationale_mask(explanation: Explanation, rationale: Rationale) -> np.ndarray:
    """Per word of the explanation, whether it overlaps the rationale (pair words never do)."""
    if explanation.text != rationale.text:
        raise InvalidInputError(
            f"the rationale is for {rationale.text[:40]!r} but the explanation for {explanation.text[:40]!r}; "
            "explain the rationale's own text (rationale.text) so character offsets line up"
        )
    return np.array(
        [
            span.segment == 0 and any(span.start < end and start < span.end for start, end in rationale.spans)
            for span in explanation.word_spans
        ],
        dtype=bool,
    )


def _top_hits(scores: np.ndarray, mask: np.ndarray, k: int | None, rank_by: RankBy) -> tuple[int, int, int]:
    """``(|P & T|, |P|, |T|)`` for the top ``k`` words (``k`` defaults to ``|T|``, clipped to the word count)."""
    if scores.shape != mask.shape:
        raise InvalidInputError(f"scores and mask must have the same shape, got {scores.shape} and {mask.shape}")
    relevant = int(mask.sum())
    count = min(relevant if k is None else check_count("k", k, minimum=0), len(scores))
    top = rank_order(scores, rank_by)[:count]
    return int(mask[top].sum()), count, relevant


def f1_at_k(scores: np.ndarray, mask: np.ndarray, k: int | None = None, rank_by: RankBy = "signed") -> float:
    """F1 of the top ``k`` words against the rationale words (module docstring)."""
    hits, chosen, relevant = _top_hits(np.asarray(scores, dtype=np.float64), np.asarray(mask, dtype=bool), k, rank_by)
    if relevant == 0:
        return math.nan
    return 2.0 * hits / (chosen + relevant)


def iou_at_k(scores: np.ndarray, mask: np.ndarray, k: int | None = None, rank_by: RankBy = "signed") -> float:
    """Intersection over union of the top ``k`` words and the rationale words."""
    hits, chosen, relevant = _top_hits(np.asarray(scores, dtype=np.float64), np.asarray(mask, dtype=bool), k, rank_by)
    if relevant == 0:
        return math.nan
    return hits / (chosen + relevant - hits)


def average_precision(scores: np.ndarray, mask: np.ndarray, rank_by: RankBy = "signed") -> float:
    """Exact average precision of the ranking against the rationale words (area under the PR curve)."""
    values, relevant = np.asarray(scores, dtype=np.float64), np.asarray(mask, dtype=bool)
    if values.shape != relevant.shape:
        raise InvalidInputError(f"scores and mask must have the same shape, got {values.shape} and {relevant.shape}")
    if not relevant.any():
        return math.nan
    hits = relevant[rank_order(values, rank_by)]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def plausibility(
    explanations: Sequence[Explanation], rationales: Sequence[Rationale], k: int | None = None, rank_by: RankBy = "signed"
) -> dict[str, np.ndarray]:
    """Per text, ``{"f1": ..., "iou": ..., "auprc": ...}`` of each explanation against its rationale."""
    if len(explanations) != len(rationales):
        raise InvalidInputError(f"got {len(explanations)} explanations but {len(rationales)} rationales; give one per text")
    rows = []
    for explanation, rationale in zip(explanations, rationales):
        scores = np.array([span.score for span in explanation.word_spans], dtype=np.float64)
        mask = rationale_mask(explanation, rationale)
        rows.append((f1_at_k(scores, mask, k, rank_by), iou_at_k(scores, mask, k, rank_by), average_precision(scores, mask, rank_by)))
    table = np.array(rows, dtype=np.float64).reshape(len(rows), 3)
    return {name: table[:, column] for column, name in enumerate(PLAUSIBILITY_METRICS)}
