"""The attribution methods the vision front end offers, and how each turns a batch into pixel scores.

Three families, all engine methods under their engine names (:mod:`limelight.engine.names`):

- gradient methods on the model's input (integrated gradients, saliency, input x gradient,
  GradientSHAP, SmoothGrad, guided backpropagation, deconvolution, DeepLift, LRP);
- GradCAM and guided GradCAM, which need a convolutional ``layer``, and layer integrated gradients
  at that layer (each cell's score shared among the input pixels it covers, so totals and the
  completeness delta are the layer's);
- perturbation methods on segments (feature ablation, Shapley values, Shapley sampling,
  KernelSHAP, LIME), and occlusion with a window and stride in input pixels.

A score the engine gives a group of elements (a segment, or a pixel's channels under an occlusion
window) is shared equally among them, so sums over pixels read the group's score and additive
methods stay additive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ..engine import (
    Attribution,
    FeatureAblation,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    LayerIntegratedGradients,
    Lime,
    NoiseTunnel,
    Occlusion,
    Saliency,
    ShapleyValues,
    ShapleyValueSampling,
)
from ..engine.gradient.grad_cam import LayerGradCam
from ..engine.names import canonical_name
from ..engine.perturbation.method import PerturbationMethod
from ..engine.propagation import LRP, Deconvolution, DeepLift, GuidedBackprop, GuidedGradCam
from ..engine.result import PerturbationExtras
from ..errors import InvalidInputError
from .geometry import spread_layer_scores


@dataclass(frozen=True)
class Setting:
    """What a method is built from: the model, the explained output, and GradCAM's layer."""

    model: nn.Module
    output: Callable[[Any], Tensor]
    layer: nn.Module | None


@dataclass(frozen=True)
class Batch:
    """Images ready for a method: inputs and baselines ``(N, C, H', W')``, segments ``(N, H', W')`` or ``None``."""

    inputs: Tensor
    baselines: Tensor
    segments: Tensor | None
    target: Any


@dataclass(frozen=True)
class VisionMethod:
    """One method: how to build its engine object and call it on a batch."""

    build: Callable[[Setting], Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    uses_baseline: bool = False
    needs_layer: bool = False
    segments: bool = False
    per_image: bool = False
    """GradientSHAP draws baselines from one distribution for a whole call, so each image is its own call."""
    occludes: bool = False
    at_layer: bool = False
    """Attributions are for the layer's cells, spread back onto the input (:func:`~.geometry.spread_layer_scores`)."""

    def run(self, engine: Any, batch: Batch, options: dict[str, Any]) -> tuple[Tensor, Attribution]:
        """Attributions ``(N, C, H', W')`` (float64) and the engine's result."""
        kwargs = dict(options)
        if self.uses_baseline:
            kwargs["baselines"] = batch.baselines
        channels = batch.inputs.shape[1]
        if self.occludes:
            window, stride = pixels("window", kwargs.pop("window")), pixels("stride", kwargs.pop("stride"))
            if any(s > w for s, w in zip(stride, window)):
                raise InvalidInputError(
                    f"the stride {stride} is longer than the window {window}: pixels between windows would never be occluded"
                )
            kwargs.update(sliding_window_shapes=(channels, *window), strides=(channels, *stride))
        segments = batch.segments
        if self.segments:
            if segments is None:
                raise InvalidInputError("this method perturbs segments: pass features='slic', 'patches' or a mask")
            kwargs["feature_mask"] = segments[:, None]
        result = engine.attribute(batch.inputs, target=batch.target, **kwargs)
        if segments is not None and self.segments and isinstance(result.extras, PerturbationExtras):
            return _shared(result.extras.feature_scores, segments, channels), result
        attributions = result.attributions.detach().to(torch.float64)
        if self.at_layer:
            return spread_layer_scores(attributions, tuple(batch.inputs.shape[-2:])), result  # type: ignore[arg-type]  # (H', W')
        return (attributions / channels if self.occludes else attributions), result


def pixels(name: str, value: Any) -> tuple[int, int]:
    """A window or stride in pixels: an int for a square, or ``(height, width)``."""
    pair = (value, value) if isinstance(value, int) else value
    if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in pair)):
        raise InvalidInputError(f"{name} must be a positive number of pixels or a (height, width) pair of them, got {value!r}")
    return pair


def _shared(feature_scores: Tensor, segments: Tensor, channels: int) -> Tensor:
    """Each segment's score shared equally among its elements (pixels x channels)."""
    flat = segments.flatten(1).cpu()
    sizes = torch.zeros_like(feature_scores).scatter_add_(1, flat, torch.ones_like(flat, dtype=feature_scores.dtype))
    per_pixel = (feature_scores / (sizes.clamp(min=1) * channels)).gather(1, flat).reshape(segments.shape)
    return per_pixel[:, None].expand(-1, channels, -1, -1).to(torch.float64)


def _perturbation(method: type[PerturbationMethod[Any]], **defaults: Any) -> VisionMethod:
    return VisionMethod(lambda s: method(s.model, output=s.output), defaults, uses_baseline=True, segments=True)


VISION_METHODS: dict[str, VisionMethod] = {
    "integrated_gradients": VisionMethod(lambda s: IntegratedGradients(s.model, output=s.output), uses_baseline=True),
    "saliency": VisionMethod(lambda s: Saliency(s.model, output=s.output)),
    "input_x_gradient": VisionMethod(lambda s: InputXGradient(s.model, output=s.output)),
    "gradient_shap": VisionMethod(
        lambda s: GradientShap(s.model, output=s.output), {"n_samples": 20, "seed": 0}, uses_baseline=True, per_image=True
    ),
    "noise_tunnel": VisionMethod(
        lambda s: NoiseTunnel(Saliency(s.model, output=s.output)), {"abs": False, "nt_samples": 20, "stdevs": 0.15, "seed": 0}
    ),
    "guided_backprop": VisionMethod(lambda s: GuidedBackprop(s.model, output=s.output)),
    "deconvolution": VisionMethod(lambda s: Deconvolution(s.model, output=s.output)),
    "deeplift": VisionMethod(lambda s: DeepLift(s.model, output=s.output), uses_baseline=True),
    "lrp": VisionMethod(lambda s: LRP(s.model, output=s.output)),
    "layer_grad_cam": VisionMethod(lambda s: LayerGradCam(s.model, s.layer, output=s.output), needs_layer=True),  # type: ignore[arg-type]  # needs_layer: checked before building
    "layer_integrated_gradients": VisionMethod(
        lambda s: LayerIntegratedGradients(s.model, s.layer, output=s.output),  # type: ignore[arg-type]  # needs_layer: checked before building
        uses_baseline=True,
        needs_layer=True,
        at_layer=True,
    ),
    "guided_grad_cam": VisionMethod(lambda s: GuidedGradCam(s.model, s.layer, output=s.output), needs_layer=True),  # type: ignore[arg-type]  # needs_layer: checked before building
    "occlusion": VisionMethod(
        lambda s: Occlusion(s.model, output=s.output), {"window": 16, "stride": 8}, uses_baseline=True, occludes=True
    ),
    "feature_ablation": _perturbation(FeatureAblation),
    "shapley_values": _perturbation(ShapleyValues),
    "shapley_value_sampling": _perturbation(ShapleyValueSampling, seed=0),
    "kernel_shap": _perturbation(KernelShap, seed=0),
    "lime": _perturbation(Lime, seed=0),
}

ALIASES = {"smoothgrad": "noise_tunnel"}
"""Vision spellings besides the engine's names: ``"smoothgrad"`` is SmoothGrad over saliency."""


def vision_method(name: str) -> tuple[str, VisionMethod]:
    """The canonical name and the vision method for ``name``; the error lists what exists."""
    try:
        canonical = ALIASES.get(name) or canonical_name(name)
    except InvalidInputError:
        canonical = name
    if canonical not in VISION_METHODS:
        raise InvalidInputError(f"unknown image method {name!r}; choose one of {sorted(VISION_METHODS)} (or 'smoothgrad')")
    return canonical, VISION_METHODS[canonical]
