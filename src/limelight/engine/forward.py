"""The user's forward function: calling it, reading its output, and keeping the model in eval mode."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from torch import Tensor, nn

from .._warnings import warn
from ..errors import ForwardError, OutputShapeError, TrainingModeWarning

OutputSpec = str | Callable[[Any], Tensor]


def read_output(raw: Any, output: OutputSpec) -> Tensor:
    """The tensor to explain from whatever the forward returned.

    A tensor is used as is. A mapping (a Hugging Face ``ModelOutput`` or a dict) gives its
    ``output`` key (``"logits"`` by default); a tuple or list gives its first element. A
    callable ``output`` is applied to the raw value instead.
    """
    if callable(output):
        value = output(raw)
    elif isinstance(raw, Tensor):
        value = raw
    elif isinstance(raw, Mapping):
        if output not in raw:
            raise ForwardError(
                f"the forward returned a mapping without {output!r}; it has {list(raw.keys())}. "
                "Pass output='<key>' or a callable that picks the tensor to explain"
            )
        value = raw[output]
    elif isinstance(raw, (tuple, list)) and raw and isinstance(raw[0], Tensor):
        value = raw[0]
    else:
        raise ForwardError(f"cannot read a tensor from the forward's {type(raw).__name__} output; pass output=<callable>")
    if not isinstance(value, Tensor):
        raise ForwardError(f"the explained output must be a tensor, got {type(value).__name__}")
    return value


def check_rows(output: Tensor, rows: int) -> None:
    """Every evaluated row must produce exactly one output row."""
    if output.dim() == 0 or output.shape[0] != rows:
        got = "a 0-d output" if output.dim() == 0 else f"an output whose first dimension is {output.shape[0]}"
        raise OutputShapeError(
            f"the forward returned {got} for a batch of {rows} rows. limelight evaluates many rows "
            "(examples x steps) per call, so output row i must be computed from input row i alone. "
            "If your forward indexes the batch (e.g. `[0]`) or reduces over it, remove that and select "
            "the explained value with target= instead."
        )


def find_modules(forward: Callable[..., Any]) -> list[nn.Module]:
    """Modules a forward evidently runs: itself, the object of a bound method, closure and partial args."""
    found: list[nn.Module] = []
    pending: list[Any] = [forward]
    seen: set[int] = set()
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, nn.Module):
            found.append(obj)
        elif isinstance(obj, functools.partial):
            pending.extend([obj.func, *obj.args, *obj.keywords.values()])
        elif callable(obj):
            pending.append(getattr(obj, "__self__", None))
            for cell in getattr(obj, "__closure__", None) or ():
                try:
                    pending.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    continue
    return found


@contextmanager
def eval_mode(modules: list[nn.Module], enabled: bool) -> Iterator[None]:
    """Run in eval mode (dropout off, batch-norm running statistics), restoring each submodule's mode."""
    if not enabled:
        yield
        return
    training = [m for root in modules for m in root.modules() if m.training]
    if any(_mode_sensitive(m) for m in training):
        warn(
            "the model is in training mode; limelight attributes in eval mode (no dropout, running batch-norm "
            "statistics) and restores the mode afterwards. Call model.eval() first to silence this, or pass "
            "eval_mode=False to attribute the model as it is.",
            TrainingModeWarning,
        )
    for module in training:
        module.training = False
    try:
        yield
    finally:
        for module in training:
            module.training = True


def _mode_sensitive(module: nn.Module) -> bool:
    """Whether training mode changes what ``module`` computes: dropout, batch statistics, dropout rates."""
    if isinstance(module, (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)):
        return True
    return any("dropout" in name and isinstance(value, float) and value > 0 for name, value in vars(module).items())
