"""Layer methods whose rows are input points: the shared base, LayerActivation and LayerGradientXActivation.

Captum's constructor shape: ``Method(forward, layer)``, where ``layer`` is a module of the model
or, for the methods that read several layers at once (:class:`LayerActivation`,
:class:`LayerGradientXActivation`), a list of modules: one forward reads all of them, and the
result's ``attributions`` has one tensor per layer (per tensor of a layer's value), in order.
The model runs on the inputs as given; the layers' values are read (and differentiated) as the
forward computes them (:class:`~limelight.engine.gradient.layers.ThroughLayers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..accumulate import RowPlan
from ..chunking import chunks
from ..forward import OutputSpec
from ..inputs import Inputs
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..spaces import Space
from ..targets import TargetSpec
from .layers import LayerSpec, ThroughLayers, as_layers, capture_batch, flat
from .method import Call, GradientMethod, OptionsT, Points, _require_float


class ThroughLayerMethod(GradientMethod[OptionsT]):
    """Base of layer methods evaluated at input points, with gradients at the layers' values.

    ``many_layers`` says whether a list of layers is accepted; ``multiply`` whether the space
    returns gradient times the layer's value.
    """

    many_layers = False

    def __init__(
        self,
        forward: Any,
        layer: LayerSpec,
        *,
        attribute_to_layer_input: bool = False,
        output: OutputSpec = "logits",
        eval_mode: bool = True,
        check_forward: bool = True,
    ) -> None:
        self.layers = as_layers(layer, type(self).__name__)
        if len(self.layers) > 1 and not self.many_layers:
            raise InvalidInputError(f"{type(self).__name__} attributes to one layer; got a list of {len(self.layers)}")
        super().__init__(
            forward,
            self.layers[0],
            attribute_to_layer_input=attribute_to_layer_input,
            output=output,
            eval_mode=eval_mode,
            check_forward=check_forward,
        )

    @property
    def multiply(self) -> bool:
        """Whether gradients come back times the layer's value."""
        return False

    def attribution_space(self, inputs: Points) -> Space:
        _require_float(inputs)
        return self.space()

    def space(self) -> ThroughLayers:
        """This method's :class:`ThroughLayers` space."""
        return ThroughLayers(self.layers, self.attribute_to_layer_input, self.multiply)

    def gradient_sums(self, call: Call, plan: RowPlan, chunk: int, like: Points) -> tuple[Tensor, ...]:
        """A plan's per-example sums at the layers, in the dtype of the inputs ``like``."""
        return tuple(s.to(like[0].dtype) for s in call.run(plan, chunk).gradient_sums)


def one_row_per_example(count: int, x: Points) -> RowPlan:
    """A plan of one row per example at the inputs themselves."""
    examples = torch.arange(count)
    return RowPlan(examples, examples, torch.ones(count, dtype=torch.float64), count, points=lambda rows: tuple(p[rows] for p in x))


@dataclass(frozen=True)
class LayerGradientXActivationOptions(MethodOptions):
    """Gradient x activation's option: ``multiply_by_inputs`` (``False``: the layer gradient alone)."""

    multiply_by_inputs: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "multiply_by_inputs", bool(self.multiply_by_inputs))


class LayerGradientXActivation(ThroughLayerMethod[LayerGradientXActivationOptions]):
    """The gradient of the target at a layer's value times that value (one layer or a list).

    ``multiply_by_inputs=False`` (Captum's constructor argument) gives the gradient alone.
    """

    name = "layer_gradient_x_activation"
    options_type = LayerGradientXActivationOptions
    many_layers = True

    def __init__(self, forward: Any, layer: LayerSpec, *, multiply_by_inputs: bool = True, **kwargs: Any) -> None:
        super().__init__(forward, layer, **kwargs)
        self.multiply_by_inputs = bool(multiply_by_inputs)

    @property
    def multiply(self) -> bool:
        return self.multiply_by_inputs

    def attribute(self, inputs: Inputs, target: TargetSpec = None, **common: Unpack[CommonKwargs]) -> Attribution:
        """Gradient x activation of ``target`` at the layer(s) for ``inputs``."""
        return self.run(inputs, None, target, self.make_options(multiply_by_inputs=self.multiply_by_inputs), common)

    def attribute_points(self, call: Call, x: Points, b: Any, options: LayerGradientXActivationOptions) -> Attribution:
        sums = self.gradient_sums(call, one_row_per_example(call.n_examples, x), call.chunk_rows(x, b), x)
        return Attribution(sums, method=self.name, settings=options)


class LayerActivation(ThroughLayerMethod[MethodOptions]):
    """The layer's value itself (one layer or a list, read in one forward stopped after the last).

    There is no target and no gradient, so integer inputs (token ids) are fine. Rows are read
    ``internal_batch_size`` examples at a time (all at once by default).
    """

    name = "layer_activation"
    options_type = MethodOptions
    many_layers = True

    def attribute(self, inputs: Inputs, **common: Unpack[CommonKwargs]) -> Attribution:
        """The activations of the layer(s) for ``inputs``."""
        return self.run(inputs, None, None, self.make_options(), common)

    def attribution_space(self, inputs: Points) -> Space:
        return self.space()

    def attribute_points(self, call: Call, x: Points, b: Any, options: MethodOptions) -> Attribution:
        count, index = call.n_examples, torch.arange(call.n_examples)
        parts = [
            flat(
                capture_batch(
                    call.model, self.layers, self.attribute_to_layer_input, tuple(p[rows] for p in x), index[rows], call.check and not i
                )
            )
            for i, rows in enumerate(chunks(count, call.common.internal_batch_size or count))
        ]
        return Attribution(tuple(torch.cat(column) for column in zip(*parts)), method=self.name, settings=options)
