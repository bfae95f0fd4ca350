"""Guided GradCAM (Selvaraju et al., 2017): guided backpropagation times the upsampled GradCAM map.

The element-wise product keeps guided backpropagation's fine detail only where GradCAM finds the
class: ``guided_backprop(x) * upsample(ReLU(GradCAM))``, the map shared by every channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from torch import Tensor, nn
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..forward import OutputSpec
from ..gradient.grad_cam import INTERPOLATE_MODES, LayerGradCam
from ..inputs import Inputs
from ..method import Method
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from ..validation import check_choice
from .guided import GuidedBackprop


@dataclass(frozen=True)
class GuidedGradCamOptions(MethodOptions):
    """Guided GradCAM's option: how the GradCAM map is upsampled to the input (``interpolate_mode``)."""

    interpolate_mode: str = "bilinear"

    def __post_init__(self) -> None:
        check_choice("interpolate_mode", self.interpolate_mode, INTERPOLATE_MODES)


class GuidedGradCam(Method[GuidedGradCamOptions]):
    """Guided GradCAM of ``forward`` with the GradCAM map taken at ``layer``.

    Inputs must have spatial dimensions after the channels (``(N, C, H, W)``); attributions
    are shaped like them.
    """

    name = "guided_grad_cam"
    options_type = GuidedGradCamOptions

    def __init__(
        self,
        forward: Any,
        layer: nn.Module,
        *,
        output: OutputSpec = "logits",
        eval_mode: bool = True,
        check_forward: bool = True,
    ) -> None:
        super().__init__(forward, output=output, eval_mode=eval_mode, check_forward=check_forward)
        self.grad_cam = LayerGradCam(forward, layer, output=output, eval_mode=eval_mode, check_forward=check_forward)
        self.guided = GuidedBackprop(forward, output=output, eval_mode=eval_mode, check_forward=check_forward)

    def attribute(
        self, inputs: Inputs, target: TargetSpec = None, *, interpolate_mode: str = "bilinear", **common: Unpack[CommonKwargs]
    ) -> Attribution:
        """Guided GradCAM attributions of ``target`` for a single input tensor."""
        options = self.make_options(interpolate_mode=interpolate_mode)
        if not isinstance(inputs, Tensor) or inputs.dim() < 3:
            raise InvalidInputError("GuidedGradCam takes one input tensor with channels and spatial dimensions, (N, C, H, W)")
        cam = self.grad_cam.attribute(inputs, target, relu_attributions=True, interpolate_mode=options.interpolate_mode, **common)
        guided = self.guided.attribute(inputs, target, **common)
        product = cast(Tensor, guided.attributions) * cast(Tensor, cam.attributions)  # one input tensor in, one out
        return Attribution(product, method=self.name, settings=options)
