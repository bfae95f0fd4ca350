"""Binding a user's forward to one attribution call: what every method, gradient or perturbation, sets up.

The forward and its ``output`` spec are checked when a method is built; each call then binds the
forward to the call's extra arguments and target (a :class:`BoundModel`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidInputError
from .forward import OutputSpec
from .inputs import make_forward_args
from .model import BoundModel
from .targets import TargetSpec, resolve_target


def check_forward_spec(forward: Callable[..., Any], output: OutputSpec) -> None:
    """Validate a method's ``forward`` and ``output`` at construction."""
    if not callable(forward):
        raise InvalidInputError(f"forward must be a model or a callable, got {type(forward).__name__}")
    if not (isinstance(output, str) or callable(output)):
        raise InvalidInputError(f"output must be a key such as 'logits' or a callable, got {output!r}")


def bind_model(
    forward: Callable[..., Any],
    output: OutputSpec,
    n_examples: int,
    target: TargetSpec,
    additional_forward_args: Any,
    forward_kwargs: Mapping[str, Any] | None,
) -> BoundModel:
    """The forward bound to this call's per-example arguments and resolved target."""
    args = make_forward_args(additional_forward_args, forward_kwargs, n_examples)
    return BoundModel(forward, output, args, resolve_target(target, n_examples))
