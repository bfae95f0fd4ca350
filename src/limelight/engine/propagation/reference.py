"""What each intercepted tensor is compared with: its baseline's twin (DeepLift) or zero (LRP).

DeepLift evaluates every example next to its baseline, rows ``2r`` (input) and ``2r + 1``
(baseline), so each operation sees both and computes its multiplier from the differences
(:class:`PairedRows`). LRP has no baseline: relevance is measured from zero
(:class:`ZeroReference`). Rules are written once against this interface.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ...errors import InvalidInputError

RESCALE_EPS = 1e-10
"""Below this input difference a multiplier ``dy / dx`` is replaced by the ordinary derivative (Captum's choice)."""


def _relative_tolerance(dtype: torch.dtype) -> float:
    """Differences below ``sqrt(machine epsilon)`` times the values are rounding noise in ``dy / dx``.

    In float32, ``dy`` carries rounding errors of about ``1e-7 |y|``; dividing them by a ``dx``
    of the same size would give multipliers that are noise, so the derivative is used there
    (its error, ``f'' dx^2 / 2``, is negligible for such ``dx``).
    """
    return float(torch.finfo(dtype).eps) ** 0.5 if dtype.is_floating_point else 0.0


class Reference:
    """The reference of every tensor in one propagation backward."""

    paired = False

    def difference(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        """``t`` minus its reference, shaped like ``t``."""
        raise NotImplementedError

    def midpoint(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        """Halfway between ``t`` and its reference, shaped like ``t``."""
        raise NotImplementedError

    def partner(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        """The reference of every row of ``t``."""
        return torch.zeros_like(t)

    def ends(self, t: Tensor, where: Callable[[], str]) -> tuple[Tensor, Tensor]:
        """The two ends of each row's change, shaped like ``t``: the input's value and the reference's."""
        return t, torch.zeros_like(t)

    def shared_max(self, t: Tensor, dim: int, where: Callable[[], str]) -> Tensor:
        """The maximum of ``t`` along ``dim`` over ``t`` and its reference (a shift both can use)."""
        return t.amax(dim, keepdim=True)

    def multiplier(self, x: Tensor, y: Tensor, derivative: Tensor | Callable[[], Tensor], where: Callable[[], str]) -> Tensor:
        """Rescale: ``(y - y_ref) / (x - x_ref)``, or ``derivative`` where the inputs (nearly) agree.

        ``derivative`` may be a function computing it, called only when some inputs do agree.
        """
        dx, dy = self.difference(x.detach(), where), self.difference(y.detach().to(x.dtype), where)
        return ratio_or_slope(dy, dx, self.unchanged(x.detach(), dx), derivative)

    def unchanged(self, x: Tensor, dx: Tensor) -> Tensor:
        """Where ``x`` and its reference (nearly) agree: ``|dx|`` below ``sqrt(machine epsilon)`` of their size.

        NaN (e.g. ``-inf - -inf`` in masked attention scores) counts as unchanged.
        """
        size = x.abs() + (x - dx).abs()
        return ~(dx.abs() >= torch.clamp(size * _relative_tolerance(x.dtype), min=RESCALE_EPS))


def ratio_or_slope(dy: Tensor, dx: Tensor, small: Tensor, derivative: Tensor | Callable[[], Tensor]) -> Tensor:
    """``dy / dx``, or ``derivative`` (a tensor, or a function computing it only when needed) where ``small``."""
    ratio = dy / torch.where(small, torch.ones_like(dx), dx)
    if not bool(small.any()):
        return ratio
    slope = derivative() if callable(derivative) else derivative
    return torch.where(small, slope.to(dx.dtype).expand_as(dx), ratio)


class ZeroReference(Reference):
    """LRP's reference: zero for every tensor (so Rescale is ``y / x``, the identity rule)."""

    def difference(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        return t

    def unchanged(self, x: Tensor, dx: Tensor) -> Tensor:
        """The base rule in fewer operations: against zero, ``|dx| >= limit`` exactly when ``RESCALE_EPS <= |x| < inf``."""
        size = x.abs()
        return ~((size >= RESCALE_EPS) & (size < float("inf")))

    def midpoint(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        return t / 2


class PairedRows(Reference):
    """DeepLift's reference: row ``2r + 1`` of every tensor is the baseline of row ``2r``.

    ``rows`` is the number of rows of the forward now running (set by the context); a tensor on
    the propagation path whose first dimension is not that cannot be paired and is refused.
    """

    paired = True

    def __init__(self) -> None:
        self.rows: int | None = None

    def _pairs(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        if t.dim() == 0 or t.shape[0] != self.rows or t.shape[0] % 2:
            raise InvalidInputError(
                f"DeepLift pairs each input with its baseline along the first (batch) dimension, but {where()} "
                f"works on a tensor shaped {tuple(t.shape)} while the forward runs {self.rows} rows. Keep the batch "
                "first (e.g. batch_first=True for nn.MultiheadAttention) or attribute at a layer after that operation"
            )
        return t.unflatten(0, (-1, 2))

    def difference(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        pairs = self._pairs(t, where)
        delta = pairs[:, 0] - pairs[:, 1]
        return torch.stack([delta, delta], 1).flatten(0, 1)

    def midpoint(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        middle = self._pairs(t, where).mean(1)
        return torch.stack([middle, middle], 1).flatten(0, 1)

    def ends(self, t: Tensor, where: Callable[[], str]) -> tuple[Tensor, Tensor]:
        """The input row's value and the baseline row's, each on both rows of the pair."""
        pairs = self._pairs(t, where)
        return tuple(torch.stack([pairs[:, i], pairs[:, i]], 1).flatten(0, 1) for i in (0, 1))  # type: ignore[return-value]

    def partner(self, t: Tensor, where: Callable[[], str]) -> Tensor:
        """Each row's twin: the baseline row for an input row and the other way round."""
        return self._pairs(t, where).flip(1).flatten(0, 1)

    def shared_max(self, t: Tensor, dim: int, where: Callable[[], str]) -> Tensor:
        top = self._pairs(t.amax(dim, keepdim=True), where).amax(1)
        return torch.stack([top, top], 1).flatten(0, 1)
