"""``explain_image``: images in, pixel scores in the model's input space and on the original image out.

The pipeline runs one way: images -> float images in ``[0, 1]`` -> preprocessing -> model inputs
(and the input as an image, baselines built and preprocessed as images, segments) -> predictions
-> the engine method -> channel-pooled scores -> scores mapped back onto the image ->
:class:`ImageExplanation`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .._progress import progress
from .._warnings import warn
from ..engine.evidence import ExampleEvidence
from ..engine.objective import Objective, check_quantity, output_transform
from ..errors import ContrastWarning, InvalidInputError
from .baselines import BaselineLike, baseline_input, describe_baseline, parse_baseline
from .explanation import ImageExplanation, ImageExplanations
from .features import FeatureSpec, parse_features, segment_map, segment_sums
from .geometry import preprocessed, pull_back, seen_image
from .images import Images, load_images, match_channels
from .methods import Batch, Setting, vision_method
from .objective import LabelSpec, class_names, resolve_label
from .preprocess import Preprocess, Preprocessing, identity
from .pretrained import load_local_image_classifier, model_patch_size
from .runner import ImageRunner

POOLINGS = ("sum", "mean", "max_abs", "l2")
"""How channels are pooled into one score per pixel: ``"sum"`` keeps additive methods additive."""
TOP_PROBABILITIES = 5
Targets = LabelSpec | Sequence[LabelSpec]


def pool_channels(attributions: Tensor, pooling: str) -> Tensor:
    """``(C, H', W')`` attributions to ``(H', W')`` scores."""
    if pooling == "sum":
        return attributions.sum(0)
    if pooling == "mean":
        return attributions.mean(0)
    if pooling == "max_abs":
        return attributions.abs().amax(0)
    return attributions.norm(dim=0)


class ImageExplainer:
    """Explain an image classifier's predictions pixel by pixel.

    ``model`` maps ``(N, C, H', W')`` inputs to ``(N, classes)`` logits (a tensor, or an output with
    ``logits``). ``preprocess`` turns an image ``(C, H, W)`` in ``[0, 1]`` into the model's input:
    ``"imagenet"`` (default: :class:`~limelight.vision.preprocess.Preprocess`, resize 256, centre
    crop 224, ImageNet mean and std), any callable, or ``None`` (the image is the input).
    ``labels`` names the classes (default: the model's ``config.id2label``, else ``class_<i>``).
    Settings apply to every :meth:`explain` call: the ``method`` (see
    :mod:`limelight.vision.methods`), the ``baseline`` (:mod:`limelight.vision.baselines`), the
    ``features`` of perturbation methods (``"slic"`` by default; :mod:`limelight.vision.features`;
    with a gradient method, segments get the sum of their pixels' scores), the ``quantity``
    (``"logit"``, ``"probability"``, ``"log_probability"``), how channels are ``pooling`` into one
    score per pixel (``"sum"``, ``"mean"``, ``"max_abs"``, ``"l2"``), the ``layer`` of GradCAM and
    layer integrated gradients (a module or its dotted name; default: the model's last ``Conv2d``), and ``batch_size`` images per call.
    Other keyword arguments go to the method (``n_steps=``, ``window=``/``stride=`` in input pixels
    for occlusion, ``n_samples=``, ``internal_batch_size=``, ...).
    """

    def __init__(
        self,
        model: nn.Module,
        preprocess: Preprocessing | str | None = "imagenet",
        labels: Sequence[str] | None = None,
        *,
        method: str = "integrated_gradients",
        baseline: BaselineLike = "black",
        features: FeatureSpec = None,
        quantity: str = "logit",
        pooling: str = "sum",
        layer: nn.Module | str | None = None,
        batch_size: int = 8,
        show_progress: bool | None = None,
        **method_options: Any,
    ) -> None:
        self.runner = ImageRunner(model, batch_size)
        self.model = model
        self.preprocess = resolve_preprocessing(preprocess)
        self.method_name, self.method = vision_method(method)
        self.baseline = parse_baseline(baseline)
        self.features = parse_features("slic" if features is None and self.method.segments else features, model_patch_size(model))
        self.quantity = check_quantity(quantity)
        if pooling not in POOLINGS:
            raise InvalidInputError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.layer = _layer(model, layer) if self.method.needs_layer else None
        self.show_progress = show_progress
        self.options = {**self.method.defaults, **method_options}
        self._labels = None if labels is None else [str(n) for n in labels]
        self._engine = self.method.build(Setting(model, output_transform(quantity), self.layer))

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], **settings: Any) -> ImageExplainer:
        """An explainer for the Hugging Face image classifier saved in a local folder (``save_pretrained``).

        Its image processor is the preprocessing (:class:`~limelight.vision.pretrained.ProcessorPreprocess`;
        ``preprocess=`` replaces it), its ``config.id2label`` names the classes, and ``features="patches"``
        are a vision transformer's own patches (``config.patch_size``).
        """
        model, processor = load_local_image_classifier(path)
        return cls(model, **{"preprocess": processor, **settings})

    def labels(self, n_classes: int) -> list[str]:
        """The class names for a model with ``n_classes`` outputs."""
        return class_names(self.model, n_classes, self._labels)

    def explain(self, images: Images, *, target: Targets = None, contrast: LabelSpec = None) -> ImageExplanation | ImageExplanations:
        """Explain one image (returns an :class:`ImageExplanation`) or many (:class:`ImageExplanations`).

        ``target`` is a label name or index (or one per image); by default the class predicted at the
        input, fixed for the whole computation. A greyscale image given to a model whose first
        convolution takes three channels is repeated into RGB (and ``image`` is that RGB image);
        other channel mismatches are refused with an :class:`~limelight.errors.InvalidInputError`. ``contrast`` explains the target's score minus this
        label's: why one class rather than the other.
        """
        originals, image_names, single = load_images(images)
        originals = [match_channels(image, self.runner.input_channels) for image in originals]
        inputs = [preprocessed(self.preprocess, image).detach() for image in originals]
        shapes = {tuple(x.shape) for x in inputs}
        if len(shapes) != 1:
            raise InvalidInputError(f"the images preprocess to different shapes {sorted(shapes)}; the model needs one input shape")
        batch = torch.stack(inputs)
        self.runner.check_channels(batch)
        logits = self.runner.logits(batch)
        names = self.labels(logits.shape[1])
        objectives = self._objectives(target, contrast, logits, names)
        seen = [seen_image(self.preprocess, image, x) for image, x in zip(originals, inputs)]
        segments = None if self.features is None else torch.stack([segment_map(self.features, s, i) for i, s in enumerate(seen)])
        baselines = torch.stack(
            [baseline_input(self.baseline, self.preprocess, image, x, i) for i, (image, x) in enumerate(zip(originals, inputs))]
        )
        attributions, evidence = self._attribute(batch, baselines, segments, objectives)
        explanations = ImageExplanations(
            self._assemble(
                i, image_names[i], originals[i], inputs[i], seen[i], attributions[i], evidence[i], logits[i], objectives[i], names, segments
            )
            for i in range(len(originals))
        )
        return explanations[0] if single else explanations

    def _objectives(self, target: Targets, contrast: LabelSpec, logits: Tensor, names: list[str]) -> list[Objective]:
        count = logits.shape[0]
        if target is None or isinstance(target, (str, int)):
            specs: list[LabelSpec] = [target] * count
        elif not isinstance(target, Sequence):
            raise InvalidInputError(f"target must be a label name, a class index or a list of them (one per image), got {target!r}")
        else:
            specs = list(target)
            if len(specs) != count:
                raise InvalidInputError(f"target lists {len(specs)} labels for {count} images; give one per image or a single label")
        targets = [int(row.argmax()) if spec is None else resolve_label(spec, names) for spec, row in zip(specs, logits)]
        versus = None if contrast is None else resolve_label(contrast, names, "contrast")
        if versus is not None and versus in targets:
            warn(
                f"the contrast label {names[versus]!r} is also a target: target minus itself is zero, so those scores are all zero",
                ContrastWarning,
            )
        return [Objective(t, self.quantity, versus) for t in targets]

    def _attribute(
        self, inputs: Tensor, baselines: Tensor, segments: Tensor | None, objectives: list[Objective]
    ) -> tuple[Tensor, list[ExampleEvidence]]:
        device = self.runner.device
        size = 1 if self.method.per_image else self.runner.batch_size
        rows = [slice(start, min(start + size, inputs.shape[0])) for start in range(0, inputs.shape[0], size)]
        parts: list[Tensor] = []
        evidence: list[ExampleEvidence] = []
        for part in progress(rows, len(rows), f"explaining images ({self.method_name})", self.show_progress):
            batch = Batch(
                self.runner.to_model(inputs[part]),
                self.runner.to_model(baselines[part]),
                None if segments is None else segments[part].to(device),
                Objective.engine_target(objectives[part]),
            )
            values, result = self.method.run(self._engine, batch, self.options)
            parts.append(values.cpu())
            evidence.extend(result.evidence.row(i) for i in range(values.shape[0]))
        return torch.cat(parts), evidence

    def _assemble(
        self,
        index: int,
        name: str,
        image: Tensor,
        model_input: Tensor,
        seen: Tensor,
        attributions: Tensor,
        evidence: ExampleEvidence,
        logits: Tensor,
        objective: Objective,
        names: list[str],
        segments: Tensor | None,
    ) -> ImageExplanation:
        dtype = model_input.dtype
        scores = pool_channels(attributions, self.pooling)
        image_scores, mapping = pull_back(self.preprocess, image, scores)
        probabilities = torch.softmax(logits, -1)
        shown = set(probabilities.argsort(descending=True)[:TOP_PROBABILITIES].tolist()) | {objective.target}
        if objective.contrast is not None:
            shown.add(objective.contrast)
        own = None if segments is None else segments[index]
        return ImageExplanation(
            image=image,
            input=model_input,
            input_image=seen,
            attributions=attributions.to(dtype),
            scores=scores.to(dtype),
            image_scores=image_scores.to(dtype),
            predicted_label=names[int(logits.argmax())],
            probabilities={names[i]: float(probabilities[i]) for i in sorted(shown, key=lambda i: -float(probabilities[i]))},
            target_label=names[objective.target],
            contrast_label=None if objective.contrast is None else names[objective.contrast],
            quantity=self.quantity,
            method=self.method_name,
            method_settings={k: v for k, v in self.options.items() if isinstance(v, (int, float, str, bool, type(None)))},
            baseline=describe_baseline(self.baseline) if self.method.uses_baseline else "none",
            features="pixels" if self.features is None else self.features.describe(),
            pooling=self.pooling,
            image_mapping=mapping,
            segments=own,
            segment_scores=None if own is None else segment_sums(scores, own),
            name=name,
            evidence=evidence,
        )


def explain_image(
    model: nn.Module | str | os.PathLike[str],
    images: Images,
    target: Targets = None,
    method: str = "integrated_gradients",
    *,
    contrast: LabelSpec = None,
    **settings: Any,
) -> ImageExplanation | ImageExplanations:
    """Explain ``images`` with ``model`` in one call; see :class:`ImageExplainer` for the settings.

    ``model`` may be a local folder holding a Hugging Face image classifier and its processor
    (:meth:`ImageExplainer.from_pretrained`).
    """
    if isinstance(model, (str, os.PathLike)):
        explainer = ImageExplainer.from_pretrained(model, method=method, **settings)
    else:
        explainer = ImageExplainer(model, method=method, **settings)
    return explainer.explain(images, target=target, contrast=contrast)


def resolve_preprocessing(preprocess: Preprocessing | str | None) -> Preprocessing:
    """``preprocess=`` as given to an explainer: ``"imagenet"``, a callable, or ``None`` (the image as is)."""
    if preprocess is None:
        return identity
    if preprocess == "imagenet":
        return Preprocess()
    if callable(preprocess):
        return preprocess
    raise InvalidInputError(
        f"preprocess must be 'imagenet', a callable from an image (C, H, W) in [0, 1] to the model's input, or None; got {preprocess!r}"
    )


def _layer(model: nn.Module, layer: nn.Module | str | None) -> nn.Module:
    """A layer method's layer: a module, a dotted name in the model, or the model's last ``Conv2d``."""
    if isinstance(layer, nn.Module):
        return layer
    if isinstance(layer, str):
        try:
            return model.get_submodule(layer)
        except AttributeError as error:
            raise InvalidInputError(f"the model has no module {layer!r}; pass a module or one of its dotted names") from error
    convolutions = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convolutions:
        raise InvalidInputError("this method needs a convolutional layer: the model has no nn.Conv2d, so pass layer=")
    return convolutions[-1]
