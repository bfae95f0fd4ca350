"""Layer GradientSHAP: expected gradients at a layer, over a baseline distribution in input space.

Each sampled row (a baseline ``b`` from the distribution, noise ``e``, a point ``a ~ U(0, 1)``)
evaluates the model at ``b + a (x + e - b)`` and contributes the gradient at the layer times
``y(x + e) - y(b)``, the layer's change between the noisy input and the baseline (Captum's
definition). ``delta = sum(attributions) - (F(x) - mean F(b))``, a Monte-Carlo check.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor
from typing_extensions import Unpack

from ..inputs import Inputs
from ..options import CommonKwargs
from ..result import Attribution
from ..targets import TargetSpec
from .gradient_shap import GradientShapOptions, Stdevs, baseline_distribution, expected_gradients
from .layer_methods import ThroughLayerMethod
from .layers import LayerSpec
from .method import Call, Points


class LayerGradientShap(ThroughLayerMethod[GradientShapOptions]):
    """GradientSHAP at ``layer`` (Captum's constructor shape, ``multiply_by_inputs=False``: the expected layer gradient).

    ``baselines`` is a distribution ``(M, *input_shape)`` per input; reproducible with ``seed``.
    """

    name = "layer_gradient_shap"
    options_type = GradientShapOptions

    def __init__(self, forward: Any, layer: LayerSpec, *, multiply_by_inputs: bool = True, **kwargs: Any) -> None:
        super().__init__(forward, layer, **kwargs)
        self.multiply_by_inputs = bool(multiply_by_inputs)

    def attribute(
        self,
        inputs: Inputs,
        baselines: Tensor | tuple[Tensor, ...],
        target: TargetSpec = None,
        *,
        n_samples: int = 5,
        stdevs: Stdevs = 0.0,
        seed: int | None = None,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """Expected layer gradients of ``target`` over ``baselines``, times the layer's change."""
        options = self.make_options(n_samples=n_samples, stdevs=stdevs, seed=seed, multiply_by_inputs=self.multiply_by_inputs)
        return self.run(inputs, baselines, target, options, common)

    def _baselines(self, call: Call, x: Points, baselines: Any, layer_baselines: Any = None) -> Points:
        return baseline_distribution(baselines, x)

    def expand_baselines(self, b: Points, repeats: int) -> Points:
        return b

    def attribute_points(self, call: Call, x: Points, b: Points, options: GradientShapOptions) -> Attribution:
        space = self.space()

        return expected_gradients(
            call, x, b, options, self.name, lambda noisy, base, examples: space.change(call.model, base, noisy, examples)
        )
