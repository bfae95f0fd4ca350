"""Guided backpropagation and deconvolution: gradients whose rectifiers pass only positive signal back.

Both are the gradient of the target at the inputs (or a layer) computed through
:func:`~limelight.engine.propagation.context.modified_backward`: every rectifier (ReLU, ReLU6,
``clamp(min=0)``, module or functional, however often it runs) passes back the positive part of
the ordinary gradient (guided backpropagation, Springenberg et al. 2015) or of the incoming
gradient regardless of its forward input (deconvolution, Zeiler & Fergus 2014). Other
operations differentiate as usual. Neither promises completeness, so results carry no delta.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from ..gradient.gradients import _gradient_at
from ..gradient.method import Call, GradientMethod, Points
from ..inputs import Inputs
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from .context import modified_backward
from .rectifiers import GradientRule, deconvolution_rule, guided_rule


class _ModifiedGradient(GradientMethod[MethodOptions]):
    """The gradient of the target through rectifiers that follow :attr:`rule`."""

    options_type = MethodOptions
    rule: GradientRule

    def attribute(self, inputs: Inputs, target: TargetSpec = None, **common: Unpack[CommonKwargs]) -> Attribution:
        """The modified gradient of ``target`` with respect to ``inputs`` (or the layer)."""
        return self.run(inputs, None, target, self.make_options(), common)

    def attribute_points(self, call: Call, x: Points, b: Any, options: MethodOptions) -> Attribution:
        with modified_backward(type(self).rule, self.forward):
            grads = _gradient_at(call, x, b, multiply=False)
        return Attribution(grads, method=self.name, settings=options)


class GuidedBackprop(_ModifiedGradient):
    """Guided backpropagation: rectifiers pass back ``max(0, ordinary gradient)``."""

    name = "guided_backprop"
    rule = staticmethod(guided_rule)


class Deconvolution(_ModifiedGradient):
    """Deconvolution: rectifiers pass back ``max(0, incoming gradient)``, ignoring their forward input."""

    name = "deconvolution"
    rule = staticmethod(deconvolution_rule)
