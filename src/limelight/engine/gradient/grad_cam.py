"""GradCAM (Selvaraju et al., 2017): a layer's channels weighted by their mean gradient.

``cam = ReLU(sum_k alpha_k A_k)`` with ``alpha_k`` the spatial mean of ``d target / d A_k``, for
the activations ``A`` of a convolutional layer (``(N, K, h, w)``, or any ``(N, K, ...)``). The
ReLU of the paper is on by default (``relu_attributions=False`` keeps the sign). The map is
upsampled to the input's spatial size with bilinear interpolation by default
(``interpolate_mode=None`` keeps the layer's resolution). The layer must run once per forward
(a module used twice has two activations, so one map would be ambiguous: it is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from typing_extensions import Unpack

from ...errors import InvalidInputError, LayerError
from ..forward import OutputSpec
from ..inputs import Inputs
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from ..validation import check_choice
from .gradients import _gradient_at
from .method import Call, GradientMethod, Points

INTERPOLATE_MODES = ("bilinear", "nearest", "bicubic", "area")


@dataclass(frozen=True)
class LayerGradCamOptions(MethodOptions):
    """GradCAM's options: the paper's ReLU (``relu_attributions``) and the upsampling (``interpolate_mode``, ``None``: none)."""

    relu_attributions: bool = True
    interpolate_mode: str | None = "bilinear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "relu_attributions", bool(self.relu_attributions))
        if self.interpolate_mode is not None:
            check_choice("interpolate_mode", self.interpolate_mode, INTERPOLATE_MODES)


class LayerGradCam(GradientMethod[LayerGradCamOptions]):
    """GradCAM at ``layer`` (a module of the forward, typically the last convolutional block).

    Attributions are ``(N, 1, H, W)`` at the input's spatial size (or ``(N, 1, h, w)`` at the
    layer's with ``interpolate_mode=None``); they are not additive, so there is no delta.
    """

    name = "layer_grad_cam"
    options_type = LayerGradCamOptions

    def __init__(
        self,
        forward: Any,
        layer: nn.Module,
        *,
        attribute_to_layer_input: bool = False,
        output: OutputSpec = "logits",
        eval_mode: bool = True,
        check_forward: bool = True,
    ) -> None:
        if layer is None:
            raise InvalidInputError("LayerGradCam needs a layer: the module whose activations are weighted, e.g. the last conv block")
        super().__init__(
            forward,
            layer,
            attribute_to_layer_input=attribute_to_layer_input,
            output=output,
            eval_mode=eval_mode,
            check_forward=check_forward,
        )

    def attribute(
        self,
        inputs: Inputs,
        target: TargetSpec = None,
        *,
        relu_attributions: bool = True,
        interpolate_mode: str | None = "bilinear",
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """GradCAM maps of ``target`` for ``inputs``, one channel per example."""
        options = self.make_options(relu_attributions=relu_attributions, interpolate_mode=interpolate_mode)
        return self.run(inputs, None, target, options, common)

    def attribute_points(self, call: Call, x: Points, b: Any, options: LayerGradCamOptions) -> Attribution:
        if len(x) != 1 or x[0].dim() < 3:
            shapes = [tuple(p.shape) for p in x]
            raise LayerError(
                f"GradCAM needs one layer activation of shape (N, channels, *spatial); {type(self.layer).__name__} gives {shapes}"
            )
        activations = x[0]
        [grads] = _gradient_at(call, x, b, multiply=False)
        cam = grad_cam(activations, grads, options.relu_attributions)
        if options.interpolate_mode is not None:
            cam = upsample(cam, tuple(call.inputs[0].shape[2:]), options.interpolate_mode)
        return Attribution((cam,), method=self.name, settings=options)


def grad_cam(activations: Tensor, grads: Tensor, relu: bool) -> Tensor:
    """``sum_k mean(grad_k) A_k`` over channels (dim 1), kept as one channel, then the ReLU if asked."""
    spatial = tuple(range(2, activations.dim()))
    weights = grads.to(torch.float64).mean(dim=spatial, keepdim=True)
    cam = (weights * activations.to(torch.float64)).sum(1, keepdim=True)
    return (cam.clamp(min=0) if relu else cam).to(activations.dtype)


def upsample(maps: Tensor, size: tuple[int, ...], mode: str) -> Tensor:
    """Maps ``(N, 1, h, w)`` resized to the input's spatial ``size`` (``align_corners=False``, as Captum)."""
    if len(size) != maps.dim() - 2:
        raise InvalidInputError(
            f"cannot upsample a map of shape {tuple(maps.shape)} to the input's spatial size {size}; pass interpolate_mode=None"
        )
    if tuple(maps.shape[2:]) == size:
        return maps
    if mode == "bilinear":  # the same interpolation for maps of one or three spatial dimensions
        mode = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(len(size), mode)
    corners = {"align_corners": False} if mode in ("linear", "bilinear", "trilinear", "bicubic") else {}
    return F.interpolate(maps, size=size, mode=mode, **corners)
