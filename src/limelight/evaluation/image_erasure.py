"""The image eraser: re-run the model on images with chosen segments or pixels erased, many per forward.

The image counterpart of the word eraser (:mod:`.erasure`), behind the same interface
(:class:`~.eraser.Eraser`), so the faithfulness maths (:mod:`.faithfulness`) scores images too:

* an explanation's features are its segments (``segments`` with ``segment_scores``) when it has
  them; otherwise the eraser's ``features=`` (``"slic"``, ``"patches"``, ``Slic(...)``,
  ``Patches(...)`` or a mask, computed on the input as the model sees it, scored by the sum of
  their pixels' scores), or, by default, every pixel of the model's input on its own;
* erasing a feature replaces its pixels, in every channel, by the baseline's: the eraser's
  ``baseline=`` (``"black"`` by default; any baseline the explainer accepts) built from the
  explanation's image and preprocessed like it, as the explainer builds its own;
* every variant goes through the vision front end's runner (:class:`~limelight.vision.runner.ImageRunner`,
  ``batch_size`` images per forward, eval mode, no gradients) and is cached by the image, the
  baseline and the erased pixels, so a variant two metrics or two methods need (the image itself,
  the image fully erased) runs once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from limelight.engine.objective import Objective
from limelight.errors import InvalidInputError
from limelight.vision.baselines import BaselineLike, baseline_input, parse_baseline
from limelight.vision.explainer import resolve_preprocessing
from limelight.vision.explanation import ImageExplanation
from limelight.vision.features import FeatureSpec, parse_features, segment_map, segment_sums
from limelight.vision.objective import class_names, objective_of
from limelight.vision.preprocess import Preprocessing
from limelight.vision.runner import ImageRunner

from .eraser import Perturbation

_ROWS_PER_CALL = 64
"""Variants stacked into one tensor before the runner splits them into batches (bounds memory)."""


@dataclass(frozen=True)
class ImageSubject:
    """One image explanation ready for evaluation: its input, the fill, the feature of each pixel, scores, objective."""

    explanation: ImageExplanation
    input: Tensor
    fill: Tensor
    features: Tensor
    scores: np.ndarray
    objective: Objective
    key: str

    @property
    def n_features(self) -> int:
        """How many features (segments or pixels) the explanation scores."""
        return len(self.scores)

    def erased(self, removed: Sequence[int]) -> tuple[Tensor, Tensor]:
        """The input with the features ``removed`` replaced by the fill, and the ``(H', W')`` mask of erased pixels."""
        flags = torch.zeros(self.n_features, dtype=torch.bool)
        if len(removed):
            flags[torch.as_tensor(list(removed), dtype=torch.long)] = True
        mask = flags[self.features]
        return torch.where(mask[None], self.fill, self.input), mask


class ImageEraser:
    """Evaluates image explanations' objectives on images with features erased, in batches, with a cache.

    ``preprocess`` and ``labels`` as for :class:`~limelight.vision.ImageExplainer`; ``baseline``:
    what an erased pixel becomes; ``features``: how explanations without segments are split
    (``None``: pixels); ``quantity``: ``None`` measures what each explanation explained, a name
    (``"logit"``, ``"probability"``, ``"log_probability"``) measures that instead.
    """

    def __init__(
        self,
        model: nn.Module,
        preprocess: Preprocessing | str | None = "imagenet",
        labels: Sequence[str] | None = None,
        *,
        baseline: BaselineLike = "black",
        features: FeatureSpec = None,
        quantity: str | None = None,
        batch_size: int = 8,
    ) -> None:
        self.runner = ImageRunner(model, batch_size)
        self.model = model
        self.preprocess = resolve_preprocessing(preprocess)
        self.baseline = parse_baseline(baseline)
        self.features = parse_features(features)
        self.quantity = quantity
        self._labels = None if labels is None else [str(n) for n in labels]
        self._names: list[str] | None = None
        self._cache: dict[tuple[str, bytes], Tensor] = {}
        self.rows_evaluated = 0

    def prepare(self, items: Sequence[ImageExplanation | ImageSubject]) -> list[ImageSubject]:
        """Subjects for image explanations (prepared subjects pass through)."""
        return [item if isinstance(item, ImageSubject) else self._subject(item, number) for number, item in enumerate(items)]

    def values(self, perturbations: Sequence[Perturbation]) -> np.ndarray:
        """The objective of each perturbation's subject on its image with the features ``removed`` erased."""
        keys: list[tuple[str, bytes]] = []
        pending: dict[tuple[str, bytes], Tensor] = {}
        for perturbation in perturbations:
            if perturbation.shift is not None:
                raise InvalidInputError("an image perturbation erases features; embedding shifts are for text")
            subject: ImageSubject = perturbation.subject
            variant, mask = subject.erased(perturbation.removed)
            key = (subject.key, np.packbits(mask.numpy()).tobytes())
            keys.append(key)
            if key not in self._cache and key not in pending:
                pending[key] = variant
        self._evaluate(pending)
        return np.array([float(p.subject.objective.value(self._cache[k].unsqueeze(0))[0]) for p, k in zip(perturbations, keys)])

    def full(self, subjects: Sequence[ImageSubject]) -> np.ndarray:
        """``f(x)``: the objective on each unaltered image."""
        return self.values([Perturbation(subject) for subject in subjects])

    def _evaluate(self, pending: dict[tuple[str, bytes], Tensor]) -> None:
        items = list(pending.items())
        for start in range(0, len(items), _ROWS_PER_CALL):
            chunk = items[start : start + _ROWS_PER_CALL]
            logits = self.runner.logits(torch.stack([variant for _, variant in chunk]))
            self.rows_evaluated += len(chunk)
            for (key, _), row in zip(chunk, logits):
                self._cache[key] = row

    def _subject(self, explanation: ImageExplanation, number: int) -> ImageSubject:
        if not isinstance(explanation, ImageExplanation):
            raise InvalidInputError(f"item {number} is a {type(explanation).__name__}, not an ImageExplanation")
        model_input = explanation.input.detach()
        fill = baseline_input(self.baseline, self.preprocess, explanation.image, model_input, number).to(model_input.dtype)
        features, scores = self._features(explanation, number)
        key = hashlib.blake2b(model_input.numpy().tobytes() + fill.numpy().tobytes(), digest_size=16).hexdigest()
        names = self._class_names(key, model_input)
        return ImageSubject(explanation, model_input, fill, features, scores, objective_of(explanation, names, self.quantity), key)

    def _features(self, explanation: ImageExplanation, number: int) -> tuple[Tensor, np.ndarray]:
        scores = explanation.scores.detach().to(torch.float64)
        if explanation.segments is not None and explanation.segment_scores is not None:
            return explanation.segments.long(), np.asarray(explanation.segment_scores, dtype=np.float64)
        if self.features is not None:
            segments = segment_map(self.features, explanation.input_image, number)
            return segments, np.asarray(segment_sums(scores, segments), dtype=np.float64)
        height, width = scores.shape
        return torch.arange(height * width).reshape(height, width), scores.flatten().numpy()

    def _class_names(self, key: str, model_input: Tensor) -> list[str]:
        """The model's class names, from one forward of the first image (kept as that image's cached logits)."""
        if self._names is None:
            empty = np.packbits(np.zeros(model_input.shape[1:], dtype=bool)).tobytes()
            self._evaluate({(key, empty): model_input})
            self._names = class_names(self.model, int(self._cache[(key, empty)].shape[0]), self._labels)
        return self._names
