"""Faithfulness: does removing the words an explanation ranks highest change the model's output?

Notation: ``x`` is a text of ``n`` words, ``f`` the explained objective (see :mod:`limelight.engine.objective`),
``x \\ S`` the text with the words in ``S`` erased and ``x[S]`` the text with only ``S`` kept (see
:mod:`.erasure`), ``top(k)`` the ``k`` highest-ranked words (:func:`.ranking.rank_order`) and
``k(q) = max(1, ceil(q * n))`` the number of words in the top fraction ``q``.

* comprehensiveness(q) = f(x) - f(x \\ top(k(q))): high when the top words carry the prediction;
* sufficiency(q) = f(x) - f(x[top(k(q))]): low when the top words alone reproduce it;
* AOPC: the mean over ``q`` in :data:`ERASER_FRACTIONS` (1, 5, 10, 20, 50%; DeYoung et al., 2020);
* deletion curve D(j) = f(x \\ top(j)) and insertion curve I(j) = f(x[top(j)]) for ``j = 0..n``;
  their areas are trapezoids over the fraction ``j / n`` in [0, 1], in units of ``f``
  (deletion: lower is better; insertion: higher is better);
* leave-one-out agreement: Kendall's tau-b between the word scores and the effects
  ``f(x) - f(x \\ {w})`` of deleting each word alone;
* completeness error: ``|sum of scores - (f(x) - f(b))|`` against the explanation's own baseline
  ``b``: the explanation's ``delta`` when it carries one, else recomputed for the ``delete``, ``pad``,
  ``mask`` and ``unk`` baselines, else ``nan`` (methods without a baseline promise no completeness).

Every function but the completeness error (text only) takes an :class:`~.eraser.Eraser` of any
modality (words: :class:`~.erasure.WordEraser`; image segments or pixels:
:class:`~.image_erasure.ImageEraser`) and explanations (or prepared subjects) and evaluates all
their variants in one batched call; "words" below are an image's features there. Texts without words give ``nan``. Curves and
AOPC themselves are modality-free (:mod:`.curves`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from limelight.text.erasure import Erasure
from limelight.text.objective import objective_of

from .curves import Curve, curve_counts
from .eraser import Eraser, Perturbation, Scored, keep_only
from .erasure import WordEraser
from .ranking import RankBy, kendall_tau, rank_order, top_count

ERASER_FRACTIONS: tuple[float, ...] = (0.01, 0.05, 0.10, 0.20, 0.50)
"""The fractions of top words ERASER's AOPC averages over."""

Items = Sequence[Any]
"""Explanations of one modality, or subjects its eraser prepared."""


def subjects_of(eraser: Eraser, items: Items) -> list[Any]:
    """Prepared subjects (:class:`~.eraser.Scored`): explanations are prepared by the eraser, subjects pass through."""
    return eraser.prepare(items)


def _drops(eraser: Eraser, subjects: Sequence[Scored], variants: Sequence[Sequence[Perturbation]]) -> list[np.ndarray]:
    """Per subject, ``f(x) - f(v)`` for each of its variants ``v``, all evaluated in one call (full texts first)."""
    values = eraser.values([Perturbation(subject) for subject in subjects] + [v for group in variants for v in group])
    full, rest = values[: len(subjects)], values[len(subjects) :]
    out, cursor = [], 0
    for f_x, group in zip(full, variants):
        out.append(f_x - rest[cursor : cursor + len(group)])
        cursor += len(group)
    return out


def _erase_top(
    eraser: Eraser, items: Items, counts: Sequence[Sequence[int]], keep: bool, rank_by: RankBy, least_first: bool = False
) -> list[np.ndarray]:
    """Per subject, ``f(x) - f(variant)`` for each count: top features erased, or (``keep``) only top features kept.

    ``least_first`` takes the features from the bottom of the ranking instead (LeRF).
    """
    subjects = subjects_of(eraser, items)
    variants = []
    for subject, subject_counts in zip(subjects, counts):
        order = rank_order(subject.scores, rank_by)
        order = order[::-1] if least_first else order
        tops = [tuple(int(w) for w in order[:count]) for count in subject_counts]
        variants.append([keep_only(subject, top) if keep else Perturbation(subject, top) for top in tops])
    return _drops(eraser, subjects, variants)


def _by_fraction(eraser: Eraser, items: Items, fractions: Sequence[float], keep: bool, rank_by: RankBy) -> np.ndarray:
    subjects = subjects_of(eraser, items)
    counts = [[top_count(s.n_features, q) for q in fractions] if s.n_features else [] for s in subjects]
    rows = _erase_top(eraser, subjects, counts, keep, rank_by)
    return np.array([row if len(row) else np.full(len(fractions), math.nan) for row in rows]).reshape(len(subjects), len(fractions))


def comprehensiveness(
    eraser: Eraser, items: Items, fractions: Sequence[float] = ERASER_FRACTIONS, rank_by: RankBy = "signed"
) -> np.ndarray:
    """``(texts, fractions)`` array of f(x) - f(x \\ top words); see the module docstring."""
    return _by_fraction(eraser, items, fractions, keep=False, rank_by=rank_by)


def sufficiency(eraser: Eraser, items: Items, fractions: Sequence[float] = ERASER_FRACTIONS, rank_by: RankBy = "signed") -> np.ndarray:
    """``(texts, fractions)`` array of f(x) - f(only the top words); see the module docstring."""
    return _by_fraction(eraser, items, fractions, keep=True, rank_by=rank_by)


def _curves(eraser: Eraser, items: Items, steps: int | None, keep: bool, rank_by: RankBy, least_first: bool) -> list[Curve]:
    subjects = subjects_of(eraser, items)
    counts = [curve_counts(s.n_features, steps) for s in subjects]
    drops = _erase_top(eraser, subjects, counts, keep, rank_by, least_first)
    full = eraser.full(subjects)
    curves = []
    for subject, subject_counts, drop, f_x in zip(subjects, counts, drops, full):
        used = np.array(subject_counts, dtype=np.int64)
        fractions = used / subject.n_features if subject.n_features else used.astype(np.float64)
        curves.append(Curve(used, fractions, f_x - drop))
    return curves


def deletion_curves(
    eraser: Eraser, items: Items, steps: int | None = None, rank_by: RankBy = "signed", least_first: bool = False
) -> list[Curve]:
    """Per input, f(x \\ top(j)) against j / n (``steps``: evaluate about that many points, not every feature;
    ``least_first``: erase from the bottom of the ranking, LeRF)."""
    return _curves(eraser, items, steps, keep=False, rank_by=rank_by, least_first=least_first)


def insertion_curves(
    eraser: Eraser, items: Items, steps: int | None = None, rank_by: RankBy = "signed", least_first: bool = False
) -> list[Curve]:
    """Per input, f(x[top(j)]) against j / n: the objective as the top features are put back in rank order
    (``least_first``: the bottom ones first)."""
    return _curves(eraser, items, steps, keep=True, rank_by=rank_by, least_first=least_first)


def leave_one_out(eraser: Eraser, items: Items) -> list[np.ndarray]:
    """Per text, the effect ``f(x) - f(x \\ {w})`` of erasing each word alone (independent of any explanation's scores)."""
    subjects = subjects_of(eraser, items)
    return _drops(eraser, subjects, [[Perturbation(s, (w,)) for w in range(s.n_features)] for s in subjects])


def leave_one_out_tau(eraser: Eraser, items: Items) -> np.ndarray:
    """Per text, Kendall's tau-b between word scores and leave-one-out effects (``nan`` if undefined)."""
    subjects = subjects_of(eraser, items)
    return np.array([kendall_tau(s.scores, effects) for s, effects in zip(subjects, leave_one_out(eraser, subjects))])


RECOMPUTABLE_BASELINES: tuple[Erasure, ...] = Erasure.NAMED
"""Baselines a completeness error can be recomputed for: every word deleted, or every content token
replaced by the pad, mask or unk token (the explainer's baselines of the same names)."""


def completeness_error(eraser: WordEraser, items: Items) -> np.ndarray:
    """Per text, ``|sum of word scores - (f(x) - f(baseline))|`` in the explanation's own quantity.

    Uses the explanation's ``delta`` when it has one; recomputes it for the ``delete``, ``pad``,
    ``mask`` and ``unk`` baselines; ``nan`` otherwise.
    """
    subjects = subjects_of(eraser, items)
    out = np.full(len(subjects), math.nan)
    for fill in RECOMPUTABLE_BASELINES:
        chosen = [i for i, s in enumerate(subjects) if s.explanation.delta is None and s.explanation.erasure == fill and s.n_features]
        if not chosen:
            continue
        own = [dataclasses.replace(subjects[i], objective=objective_of(subjects[i].explanation, eraser.labels)) for i in chosen]
        full = eraser.full(own)
        empty = eraser.values([Perturbation(s, tuple(range(s.n_features))) for s in own], fill=fill)
        for index, subject, f_x, f_b in zip(chosen, own, full, empty):
            out[index] = abs(float(subject.scores.sum()) - (f_x - f_b))
    for index, subject in enumerate(subjects):
        if subject.explanation.delta is not None:
            out[index] = abs(subject.explanation.delta)
    return out
