"""Judging and reporting whether a path integral converged."""

from __future__ import annotations

import torch
from torch import Tensor

from .._warnings import warn
from ..errors import ConvergenceWarning

ABSOLUTE_TOLERANCE = 1e-4
"""Absolute floor added to ``tolerance * |f(input) - f(baseline)|``, for examples where the two nearly agree."""


def within_tolerance(delta: Tensor, change: Tensor, tolerance: float) -> Tensor:
    """``|delta| <= tolerance * |change| + ABSOLUTE_TOLERANCE``, per example."""
    return delta.abs() <= tolerance * change.abs() + ABSOLUTE_TOLERANCE


def warn_unconverged(converged: Tensor, delta: Tensor, change: Tensor, tolerance: float, advice: str, rows: str = "examples") -> None:
    """Emit one :class:`ConvergenceWarning` naming the rows whose delta exceeds the tolerance.

    ``rows`` names what a row is to the reader ("examples"; "generated tokens" for generation).
    """
    failed = (~converged).nonzero().flatten().tolist()
    if not failed:
        return
    shown = ", ".join(
        f"#{i}: |delta|={abs(delta[i].item()):.3g} vs allowed {tolerance * abs(change[i].item()) + ABSOLUTE_TOLERANCE:.3g}"
        for i in failed[:5]
    )
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    warn(
        f"{len(failed)} of {converged.numel()} {rows} did not converge ({shown}{more}): the attributions do not add up "
        f"to the change of the output. {advice}",
        ConvergenceWarning,
    )


def completeness_delta(attributions: tuple[Tensor, ...], change: Tensor) -> Tensor:
    """``sum(attributions) - change`` per example, in float64."""
    total = sum(a.to(torch.float64).reshape(a.shape[0], -1).sum(1).cpu() for a in attributions)
    return total - change
