"""What image comparisons and checks call to explain: any function of a model and images.

The image counterpart of :mod:`.explainers`: metrics that re-explain (max-sensitivity, model
randomisation) explain perturbed images or a randomised model with the same method and settings,
through an :class:`ImageExplainerLike`. :class:`ImageMethodExplainer` wraps
:class:`~limelight.vision.ImageExplainer` by method name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from torch import Tensor, nn

from limelight.errors import InvalidInputError
from limelight.vision.explainer import ImageExplainer, Targets
from limelight.vision.explanation import ImageExplanation, ImageExplanations
from limelight.vision.images import Images
from limelight.vision.objective import LabelSpec


class ImageExplainerLike(Protocol):
    """``explainer(model, images, target, contrast)`` -> one explanation per image, in order."""

    def __call__(self, model: nn.Module, images: Images, target: Targets, contrast: LabelSpec) -> Sequence[ImageExplanation]: ...


@dataclass(frozen=True)
class ImageMethodExplainer:
    """Explain with ``ImageExplainer(model, preprocess, labels, method=method, **settings)`` on whichever model is given."""

    method: str
    preprocess: Any = "imagenet"
    labels: Sequence[str] | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, model: nn.Module, images: Images, target: Targets = None, contrast: LabelSpec = None) -> Sequence[ImageExplanation]:
        explainer = ImageExplainer(model, self.preprocess, self.labels, method=self.method, **self.settings)
        explained = explainer.explain(images, target=target, contrast=contrast)
        return list(explained) if isinstance(explained, ImageExplanations) else [explained]


def pixel_scores(explanation: ImageExplanation) -> np.ndarray:
    """An explanation's channel-pooled scores in the model's input space, flattened (what re-explanations are compared on)."""
    return explanation.scores.detach().double().flatten().numpy()


def explain_images_like(
    explainer: ImageExplainerLike, model: nn.Module, explanations: Sequence[ImageExplanation], images: Sequence[Tensor] | None = None
) -> list[ImageExplanation]:
    """Explain the images of ``explanations`` (or ``images`` in their place) again with ``model``, same targets and contrasts.

    Images are grouped by contrast label, one call per group.
    """
    sources = [e.image for e in explanations] if images is None else list(images)
    out: dict[int, ImageExplanation] = {}
    groups: dict[str | None, list[int]] = {}
    for index, explanation in enumerate(explanations):
        groups.setdefault(explanation.contrast_label, []).append(index)
    for contrast, indices in groups.items():
        again = list(explainer(model, [sources[i] for i in indices], [explanations[i].target_label for i in indices], contrast))
        if len(again) != len(indices):
            raise InvalidInputError(
                f"the explainer returned {len(again)} explanations for {len(indices)} images; it must return one per image"
            )
        out.update(zip(indices, again))
    return [out[i] for i in range(len(explanations))]
