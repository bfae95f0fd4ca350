"""What the faithfulness metrics ask of a modality: an eraser that re-runs the model on erased inputs.

The maths of comprehensiveness, sufficiency, AOPC, deletion and insertion curves, leave-one-out
effects and dropout infidelity is the same for words and for image segments or pixels: rank an
explanation's ``n_features`` scores, erase (or keep only) some of its features, and read the
objective. Each modality provides a subject (:class:`Scored`: one explanation ready for
evaluation) and an :class:`Eraser` (the word eraser, :mod:`.erasure`; the image eraser,
:mod:`.image_erasure`); a :class:`Perturbation` names what to erase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class Scored(Protocol):
    """One explanation ready for evaluation: a score per feature."""

    @property
    def scores(self) -> np.ndarray: ...

    @property
    def n_features(self) -> int: ...


@dataclass(frozen=True)
class Perturbation:
    """A subject's input with the features ``removed`` erased and, optionally (text only), each word's
    embedding moved ``shift[w]`` of the way towards the pad token's embedding."""

    subject: Any
    removed: tuple[int, ...] = ()
    shift: tuple[float, ...] | None = None


def keep_only(subject: Scored, kept: Sequence[int]) -> Perturbation:
    """The perturbation that erases every feature except ``kept``."""
    keep = set(int(w) for w in kept)
    return Perturbation(subject, tuple(w for w in range(subject.n_features) if w not in keep))


class Eraser(Protocol):
    """Evaluates explanations' objectives on erased inputs, in batches, with a cache."""

    def prepare(self, items: Sequence[Any]) -> list[Any]:
        """Subjects (:class:`Scored`) for explanations; prepared subjects pass through."""
        ...

    def values(self, perturbations: Sequence[Perturbation]) -> np.ndarray:
        """The objective of each perturbation's subject on its erased input."""
        ...

    def full(self, subjects: Sequence[Any]) -> np.ndarray:
        """``f(x)``: the objective on each unaltered input."""
        ...
