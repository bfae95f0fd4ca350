"""Agreement between methods, per input: do they rank the words (or an image's pixels) the same way?

For each input and each pair of methods, Spearman's rho between their word scores (or pixel scores) (signed, as
ranked everywhere else). The input's agreement is the mean rho over pairs; it is *flagged* when
that mean is below ``threshold`` (0.3 by default): the methods tell different stories about this
input, so no single explanation of it should be trusted without a look at the others.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation
from limelight.vision.explanation import ImageExplanation

from .image_explainers import pixel_scores
from .ranking import spearman

DISAGREEMENT_THRESHOLD = 0.3


@dataclass(frozen=True)
class Agreement:
    """``pairs[(a, b)][i]``: rho between methods ``a`` and ``b`` on input ``i``; ``mean``/``minimum`` over pairs."""

    pairs: dict[tuple[str, str], np.ndarray]
    mean: np.ndarray
    minimum: np.ndarray
    threshold: float

    @property
    def flagged(self) -> np.ndarray:
        """Per input, whether the methods disagree strongly (mean rho below the threshold)."""
        return np.nan_to_num(self.mean, nan=math.inf) < self.threshold

    def least_agreeing(self, index: int) -> tuple[str, str] | None:
        """The pair of methods that disagree most on input ``index`` (``None`` if no pair is defined there)."""
        defined = {pair: rho[index] for pair, rho in self.pairs.items() if not math.isnan(rho[index])}
        return min(defined, key=defined.__getitem__) if defined else None


def agreement(explanations: Mapping[str, Sequence[Explanation | ImageExplanation]], threshold: float = DISAGREEMENT_THRESHOLD) -> Agreement:
    """Pairwise per-input rank agreement of methods' explanations of the same texts or images (module docstring)."""
    methods = list(explanations)
    counts = {len(explanations[m]) for m in methods}
    if len(counts) > 1:
        raise InvalidInputError(f"every method must explain the same inputs; got {sorted(counts)} explanations")
    count = counts.pop() if counts else 0
    pairs: dict[tuple[str, str], np.ndarray] = {}
    for first, second in itertools.combinations(methods, 2):
        rho = [spearman(*_scores(a, b, first, second)) for a, b in zip(explanations[first], explanations[second])]
        pairs[(first, second)] = np.array(rho, dtype=np.float64)
    stacked = np.array(list(pairs.values())).reshape(len(pairs), count)
    return Agreement(pairs, _reduce(stacked, np.mean), _reduce(stacked, np.min), threshold)


def _scores(a: Explanation | ImageExplanation, b: Explanation | ImageExplanation, first: str, second: str) -> tuple[np.ndarray, np.ndarray]:
    """The two explanations' scores of the same input: word scores, or an image's pixel scores in the model's input space."""
    if isinstance(a, ImageExplanation) and isinstance(b, ImageExplanation):
        if a.scores.shape != b.scores.shape:
            raise InvalidInputError(f"{first} and {second} explain images of different input shapes at {a.name!r}")
        return pixel_scores(a), pixel_scores(b)
    if not isinstance(a, Explanation) or not isinstance(b, Explanation):
        raise InvalidInputError(f"{first} and {second} explain different kinds of input")
    if a.text != b.text or a.text_pair != b.text_pair or len(a.word_spans) != len(b.word_spans):
        raise InvalidInputError(f"{first} and {second} explain different texts or words at {a.text[:40]!r}")
    return np.array([s.score for s in a.word_spans]), np.array([s.score for s in b.word_spans])


def _reduce(stacked: np.ndarray, how: object) -> np.ndarray:
    """Per column, ``how`` over the defined values (``nan`` when none is)."""
    out = np.full(stacked.shape[1], math.nan)
    for column in range(stacked.shape[1]):
        values = stacked[:, column][~np.isnan(stacked[:, column])]
        if values.size:
            out[column] = float(how(values))  # type: ignore[operator]
    return out
