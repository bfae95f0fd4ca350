"""Layer feature ablation: leave-one-out over groups of a layer's neurons.

The layer's value for each example is read once; then :class:`FeatureAblation` runs on a forward
that feeds every row its example's own inputs and swaps the layer's value for the perturbed one
(the example's inputs travel as per-example extra arguments, so chunking and probing are the
ordinary perturbation machinery). ``layer_mask`` groups the layer's elements into features as
``feature_mask`` does for inputs; removed features take ``layer_baselines`` (zeros by default).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..forward import OutputSpec
from ..gradient.layers import capture_batch, check_ran, hooked
from ..inputs import BaselineSpec, Inputs, as_tuple
from ..method import Method
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..spaces import _replace
from ..targets import TargetSpec
from .ablation import FeatureAblation
from .features import FeatureMask
from .method import FeatureKwargs


@dataclass
class _Split:
    """How many of a swapped forward's positional arguments are the layer's tensors (the model's inputs follow)."""

    layer_tensors: int = 1


def _swapped_forward(forward: Any, layer: nn.Module, at_input: bool, split: _Split) -> Any:
    def swapped(*args: Any, **kwargs: Any) -> Any:
        value, rest = args[: split.layer_tensors], args[split.layer_tensors :]
        with hooked((layer,), at_input, lambda position, original: _replace(original, value, layer)) as calls:
            out = forward(*rest, **kwargs)
        check_ran((layer,), calls)
        return out

    return swapped


class LayerFeatureAblation(Method[MethodOptions]):
    """Feature ablation at ``layer``: ``score_j = F(y) - F(y without feature j)`` for the layer's value ``y``.

    Captum's shape: ``LayerFeatureAblation(forward, layer).attribute(inputs, layer_baselines,
    target, layer_mask=...)``; ``attribute_to_layer_input=True`` (constructor) ablates the
    layer's positional inputs instead. ``input_value`` is ``F(x)``.
    """

    name = "layer_feature_ablation"
    options_type = MethodOptions

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
        super().__init__(forward, output=output, eval_mode=eval_mode, check_forward=check_forward)
        if not isinstance(layer, nn.Module):
            raise InvalidInputError(f"LayerFeatureAblation ablates one layer (a torch.nn.Module of the model), got {layer!r}")
        self.layer = layer
        self.attribute_to_layer_input = attribute_to_layer_input
        self.split = _Split()
        self.inner = FeatureAblation(
            _swapped_forward(forward, self.layer, attribute_to_layer_input, self.split),
            output=output,
            eval_mode=eval_mode,
            check_forward=check_forward,
        )

    def attribute(
        self,
        inputs: Inputs,
        layer_baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        layer_mask: FeatureMask = None,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """Score groups of the layer's neurons (``layer_mask``; each element by default) by ablating each alone."""
        points = as_tuple(inputs)
        options = self.common_options(common)
        with self.bound(points, None, options, [self.layer]) as model:
            every = torch.arange(points[0].shape[0])
            [value] = capture_batch(model, (self.layer,), self.attribute_to_layer_input, points, every, self.check_forward)
        given = common.get("additional_forward_args")
        extra = () if given is None else given if isinstance(given, tuple) else (given,)
        self.split.layer_tensors = len(value)
        inner: FeatureKwargs = {**common, "feature_mask": layer_mask, "additional_forward_args": (*points, *extra)}
        result = self.inner.attribute(value[0] if len(value) == 1 else value, layer_baselines, target, **inner)
        return replace(result, method=self.name)
