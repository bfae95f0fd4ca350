"""Infidelity and max-sensitivity (Yeh et al., 2019) with perturbations that make sense for text.

Infidelity asks whether the scores predict the effect of random perturbations ``I``::

    INFD = E_I[(beta * I^T s - (f(x) - f(x - I)))^2]

with two perturbation families, both over words (``s`` are word scores):

* ``"dropout"``: ``I_w = 1`` for each word independently with probability ``probability``;
  ``x - I`` erases those words (the :class:`~.erasure.WordEraser`'s fill), so ``I^T s`` is the
  summed score of the dropped words;
* ``"embedding"``: ``I_w = eps_w * (e_w - e_pad)`` with ``eps_w ~ N(0, scale^2)``; every token of
  word ``w`` moves ``eps_w`` of the way from its embedding ``e_w`` towards the pad token's, so
  ``I^T s = sum_w eps_w * s_w`` for scores measured against removing the word.

``beta`` makes the value comparable across methods whose scores have different units (a gradient
norm is not in logits): with ``normalize=True`` it is the least-squares scale of the predictions,
clipped at zero so a sign-flipped explanation gains nothing; ``normalize=False`` uses ``beta = 1``.
The perturbations of text ``i`` depend only on ``(seed, i)``, so methods are compared on the same draws.

Max-sensitivity asks how much the explanation moves under small input changes::

    SENS = max_r ||s(x + e_r) - s(x)|| / ||s(x)||

with ``e_r`` a Gaussian perturbation of the text's word vectors of norm about
``radius`` times their mean norm, applied to the embedding table rows of the text's content tokens
(special tokens and the pad token never move), and ``s(x + e_r)`` recomputed by the explainer for
the same target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from limelight.engine.validation import check_choice, check_count, check_positive, check_probability
from limelight.errors import InvalidInputError
from limelight.text.encoding import encode_batch
from limelight.text.explanation import Explanation
from limelight.text.runner import input_embeddings

from .eraser import Eraser, Perturbation
from .erasure import WordEraser
from .explainers import Explainer, explain_like
from .faithfulness import Items, subjects_of

PERTURBATIONS: tuple[str, ...] = ("dropout", "embedding")


def infidelity(
    eraser: Eraser,
    items: Items,
    perturbation: str = "dropout",
    *,
    n_samples: int = 10,
    probability: float = 0.25,
    scale: float = 0.1,
    normalize: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """Per text, the infidelity of its word scores under ``n_samples`` perturbations (module docstring)."""
    check_choice("perturbation", perturbation, PERTURBATIONS)
    check_count("n_samples", n_samples)
    check_probability("probability", check_positive("probability", probability))  # in (0, 1]
    check_positive("scale", scale)
    if perturbation == "embedding" and not isinstance(eraser, WordEraser):
        raise InvalidInputError("the embedding perturbation moves word embeddings: it needs a WordEraser; use 'dropout' for images")
    subjects = subjects_of(eraser, items)
    requests: list[Perturbation] = [Perturbation(s) for s in subjects]
    predicted: list[np.ndarray] = []
    for index, subject in enumerate(subjects):
        rng = np.random.default_rng([seed, index])
        if perturbation == "dropout":
            masks = rng.random((n_samples, subject.n_features)) < probability
            requests += [Perturbation(subject, tuple(int(w) for w in np.flatnonzero(m))) for m in masks]
            predicted.append(masks.astype(np.float64) @ subject.scores)
        else:
            eps = rng.normal(0.0, scale, (n_samples, subject.n_features))
            requests += [Perturbation(subject, shift=tuple(float(v) for v in row)) for row in eps]
            predicted.append(eps @ subject.scores)
    values = eraser.values(requests)
    full, rest = values[: len(subjects)], values[len(subjects) :].reshape(len(subjects), n_samples)
    out = np.full(len(subjects), math.nan)
    for index, (subject, prediction, f_x, perturbed) in enumerate(zip(subjects, predicted, full, rest)):
        if subject.n_features:
            out[index] = _infidelity(prediction, f_x - perturbed, normalize)
    return out


def _infidelity(prediction: np.ndarray, change: np.ndarray, normalize: bool) -> float:
    """Mean squared error of ``beta * prediction`` against the observed change (beta as in the module docstring)."""
    beta = 1.0
    if normalize:
        power = float(prediction @ prediction)
        beta = max(0.0, float(prediction @ change) / power) if power > 0 else 0.0
    return float(np.mean((beta * prediction - change) ** 2))


def max_sensitivity(
    model: nn.Module,
    tokenizer: Any,
    explainer: Explainer,
    explanations: Sequence[Explanation],
    *,
    n_samples: int = 5,
    radius: float = 0.02,
    seed: int = 0,
) -> np.ndarray:
    """Per text, ``max_r ||s(x + e_r) - s(x)|| / ||s(x)||`` over ``n_samples`` re-explanations (module docstring)."""
    check_count("n_samples", n_samples)
    check_positive("radius", radius)
    explanations = list(explanations)
    original = [_word_scores(e) for e in explanations]
    ids = _content_ids(tokenizer, explanations)

    def reexplain(sample: int) -> list[np.ndarray]:
        with _perturbed_rows(input_embeddings(model), ids, radius, seed * 100_003 + sample):
            again = explain_like(explainer, model, explanations)
        return [_word_scores(e) for e in again]

    return max_relative_change(original, n_samples, reexplain, "text", "words")


def _word_scores(explanation: Explanation) -> np.ndarray:
    return np.array([span.score for span in explanation.word_spans])


def max_relative_change(
    original: Sequence[np.ndarray], n_samples: int, reexplain: Callable[[int], Iterable[np.ndarray]], item: str, unit: str
) -> np.ndarray:
    """Per explanation, the largest :func:`relative_change` of its ``original`` scores over ``n_samples`` re-explanations.

    ``reexplain(sample)`` gives every explanation's scores for one perturbation; errors name ``f"{item} {index}"``.
    ``nan`` where the explanation is all zeros: no relative change is defined.
    """
    ratios = np.empty((n_samples, len(original)))
    for sample in range(n_samples):
        for index, (scores, moved) in enumerate(zip(original, reexplain(sample))):
            ratios[sample, index] = relative_change(scores, moved, f"{item} {index}", unit)
    return ratios.max(axis=0)


def relative_change(scores: np.ndarray, moved: np.ndarray, where: str, unit: str) -> float:
    """``||moved - scores|| / ||scores||`` (``nan`` for all-zero scores); re-explaining ``where`` must give as many ``unit``."""
    if moved.shape != scores.shape:
        raise InvalidInputError(f"re-explaining {where} gave {moved.size} {unit} instead of {scores.size}")
    norm = float(np.linalg.norm(scores))
    return float(np.linalg.norm(moved - scores)) / norm if norm > 0 else math.nan


def _content_ids(tokenizer: Any, explanations: Sequence[Explanation]) -> list[int]:
    """Distinct non-special token ids of the texts (the embedding rows a perturbation moves)."""
    special = set(getattr(tokenizer, "all_special_ids", ()))
    pairs = [e.text_pair for e in explanations]
    ids: set[int] = set()
    for paired in (False, True):
        chosen = [e for e, p in zip(explanations, pairs) if (p is not None) == paired]
        if chosen:
            encodings = encode_batch(tokenizer, [e.text for e in chosen], [e.text_pair or "" for e in chosen] if paired else None)
            ids.update(i for enc in encodings for i, s in zip(enc.input_ids, enc.special_mask) if not s)
    return sorted(ids - special)


@contextmanager
def _perturbed_rows(layer: nn.Module, ids: list[int], radius: float, seed: int) -> Iterator[None]:
    """Add Gaussian noise of norm about ``radius`` x (mean row norm) to embedding rows ``ids``; restore them after."""
    weight = getattr(layer, "weight", None)
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
        raise InvalidInputError("max-sensitivity perturbs the input embedding table: the model's get_input_embeddings() needs a 2-D weight")
    if not ids:
        yield
        return
    index = torch.tensor(ids, dtype=torch.long, device=weight.device)
    with torch.no_grad():
        saved = weight[index].clone()
        generator = torch.Generator().manual_seed(seed)
        size = float(saved.norm(dim=1).mean()) * radius / math.sqrt(saved.shape[1])
        noise = torch.randn(saved.shape, generator=generator, dtype=torch.float64).to(saved.dtype).to(weight.device)
        weight[index] = saved + size * noise
    try:
        yield
    finally:
        with torch.no_grad():
            weight[index] = saved
