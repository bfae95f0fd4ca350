"""DeepLift's RevealCancel rule (Shrikumar et al., 2017, section 3.5.3): positive and negative changes apart.

Rescale gives a nonlinearity one multiplier for its whole input change ``dx``. RevealCancel splits
``dx`` of a neuron fed by a layer with weights into the sum of its positive contributions ``dx+``
and of its negative ones ``dx-`` (the linear rule: ``dx+ = sum_i [w_i dx_i > 0] w_i dx_i`` over
the layer's inputs, biases contribute nothing), and gives each part its own multiplier:

- ``dy+ = 1/2 (f(x0 + dx+) - f(x0)) + 1/2 (f(x0 + dx- + dx+) - f(x0 + dx-))``, ``m+ = dy+ / dx+``;
- ``dy- = 1/2 (f(x0 + dx-) - f(x0)) + 1/2 (f(x0 + dx+ + dx-) - f(x0 + dx+))``, ``m- = dy- / dx-``,

so contributions that cancel each other are both revealed (Rescale would see only their net
change). ``dy+ + dy- = f(x) - f(x0)``, so summation-to-delta still holds exactly. Through the
layer, ``dx_i`` reaches the output's positive part with weight ``[w_i dx_i > 0] w_i`` and its
negative part with ``[w_i dx_i < 0] w_i`` (the paper's multipliers of the linear rule).

How it is built: the layer's forward hook (:class:`Splits`) records, next to its unchanged
output, two graphs from its input whose values are ``dx+`` and ``dx-`` and whose gradients are
the linear rule's (the signs of ``w_i dx_i`` held constant); an element-wise activation whose
input is such an output passes its gradient back through those two graphs, scaled by ``m+`` and
``m-`` (:func:`reveal_cancel`). An activation whose input is anything else (a residual sum, a
normalised or sliced tensor) has no split and keeps Rescale, which is what RevealCancel gives for
a change of one sign.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .layers import LayerFn, parameters_of
from .reference import Reference, ratio_or_slope
from .surrogates import substitute


@dataclass(frozen=True)
class Split:
    """A layer output and the two graphs (values ``dx+`` and ``dx-``, per row) its change is split into."""

    output: Tensor
    positive: Tensor
    negative: Tensor


class Splits:
    """The splits of the layer outputs of the forward now running, by tensor (cleared at each forward)."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self._by_id: dict[int, Split] = {}

    def clear(self) -> None:
        self._by_id.clear()

    def record(self, fn: LayerFn, module: nn.Module, x: Tensor, z: Tensor, where: Callable[[], str]) -> Tensor:
        """``z`` as it is, with its change split into positive and negative contributions of ``x``'s change."""
        dx = self.reference.difference(x.detach(), where)
        rising = dx >= 0  # held constant: the sign of each input's change (zero changes contribute nothing)
        change = x - (x.detach() - dx)  # the value dx, the graph of x
        up, down = change * rising, change * ~rising
        weight = parameters_of(module)[0]
        above, below = weight.clamp(min=0), weight.clamp(max=0)
        positive = fn(up, above, None) + fn(down, below, None)
        negative = fn(down, above, None) + fn(up, below, None)
        output = substitute(z, positive + negative)  # ordinary consumers of z: the layer's gradient
        self._by_id[id(output)] = Split(output, positive, negative)
        return output

    def take(self, x: Tensor, inplace: bool) -> Split | None:
        """The split of ``x`` if ``x`` is a recorded layer output (forgotten when an in-place call overwrites it)."""
        split = self._by_id.get(id(x))
        if split is None or split.output is not x:
            return None
        if inplace:
            del self._by_id[id(x)]
        return split


def reveal_cancel(
    func: Callable[[Tensor], Tensor],
    x: Tensor,
    split: Split,
    reference: Reference,
    slope: Callable[[], Tensor],
    where: Callable[[], str],
    inplace: bool,
) -> Tensor:
    """``func(x)`` (element-wise), whose gradient reaches ``split``'s positive and negative parts with ``m+`` and ``m-``.

    ``slope`` computes ``func``'s derivative, the multiplier of a part whose change is (nearly) zero.
    """
    with torch.no_grad():
        value = func(x.detach().clone()).to(x.dtype)
        x_reference = reference.ends(x.detach(), where)[1]
        y_input, y_reference = reference.ends(value, where)
        positive, negative = split.positive.detach(), split.negative.detach()
        after_positive, after_negative = func(x_reference + positive), func(x_reference + negative)
        rise = 0.5 * (after_positive - y_reference) + 0.5 * (y_input - after_negative)
        fall = 0.5 * (after_negative - y_reference) + 0.5 * (y_input - after_positive)
    m_rise = ratio_or_slope(rise, positive, reference.unchanged(x_reference + positive, positive), slope)
    m_fall = ratio_or_slope(fall, negative, reference.unchanged(x_reference + negative, negative), slope)
    return _RevealCancel.apply(x, value, split.positive, split.negative, m_rise, m_fall, inplace)


class _RevealCancel(torch.autograd.Function):
    """``value`` forward (in ``x``'s place if asked); backward ``grad * m+`` to the positive part, ``grad * m-`` to the negative."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, value: Tensor, positive: Tensor, negative: Tensor, m_rise: Tensor, m_fall: Tensor, inplace: bool
    ) -> Tensor:
        ctx.save_for_backward(m_rise, m_fall)
        if inplace:
            ctx.mark_dirty(x)
            return x.copy_(value)
        return value.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, None, Tensor, Tensor, None, None, None]:
        m_rise, m_fall = ctx.saved_tensors
        return None, None, grad * m_rise, grad * m_fall, None, None, None
