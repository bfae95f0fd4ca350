"""The one explained scalar of the vision front end: a class, an optional contrast, a quantity.

``quantity(logits)[target] - quantity(logits)[contrast]`` (no contrast: the target's alone), with
the quantity the class's logit (default), probability or log-probability. The engine's target
(:meth:`Objective.engine_target`) and output transform (:func:`output_transform`) come from here.
Labels are chosen by index or name (:func:`resolve_label`); an unknown name is an error that lists
the closest names first, which matters with ImageNet's thousand classes.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..engine.forward import read_output
from ..engine.targets import Contrast
from ..errors import InvalidInputError, TargetError

QUANTITIES = ("logit", "probability", "log_probability")
LabelSpec = int | str | None
_SHOWN = 20


def check_quantity(quantity: str) -> str:
    """Validate the explained quantity's name."""
    if quantity not in QUANTITIES:
        raise InvalidInputError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    return quantity


def scores_of(logits: Tensor, quantity: str) -> Tensor:
    """The class scores in ``quantity``, from ``(rows, classes)`` logits."""
    if quantity == "probability":
        return torch.softmax(logits, -1)
    if quantity == "log_probability":
        return torch.log_softmax(logits, -1)
    return logits


def output_transform(quantity: str) -> Callable[[Any], Tensor]:
    """The engine's ``output=``: a classifier's raw output (a tensor or a ``logits`` mapping) to class scores."""
    check_quantity(quantity)
    return lambda raw: scores_of(read_output(raw, "logits"), quantity)


def resolve_label(spec: LabelSpec, names: Sequence[str], role: str = "target") -> int:
    """The class index of a label name or index; the error lists valid labels, closest names first."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        if 0 <= spec < len(names):
            return spec
        raise TargetError(f"{role} index {spec} is out of range: the model has {len(names)} classes, 0..{len(names) - 1}")
    if isinstance(spec, str):
        if spec in names:
            return list(names).index(spec)
        folded = [n.casefold() for n in names]
        if folded.count(spec.casefold()) == 1:
            return folded.index(spec.casefold())
        raise TargetError(f"unknown {role} label {spec!r}; {_listing(spec, names)}")
    raise TargetError(f"{role} must be a label name or a class index, got {spec!r}")


def _listing(spec: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(spec, names, n=5, cutoff=0.5)
    close += [n for n in names if spec.casefold() in n.casefold() and n not in close][: 5 - len(close)]
    rest = [n for n in names if n not in close]
    shown = close + rest[: max(0, _SHOWN - len(close))]
    more = f", ... ({len(names)} labels in all)" if len(shown) < len(names) else ""
    lead = "closest first: " if close else ""
    return f"valid labels ({lead}index: name): " + ", ".join(f"{names.index(n)}: {n!r}" for n in shown) + more


@dataclass(frozen=True)
class Objective:
    """``quantity(logits)[target] - quantity(logits)[contrast]`` (no contrast: the target's alone)."""

    target: int
    quantity: str = "logit"
    contrast: int | None = None

    def __post_init__(self) -> None:
        check_quantity(self.quantity)

    def value(self, logits: Tensor) -> Tensor:
        """One value per row of ``(rows, classes)`` logits, in float64."""
        scores = scores_of(logits.to(torch.float64), self.quantity)
        value = scores[:, self.target]
        return value if self.contrast is None else value - scores[:, self.contrast]

    @staticmethod
    def engine_target(objectives: Sequence[Objective]) -> Any:
        """The engine's target for one objective per row: class indices, or a :class:`Contrast` of them."""
        targets = [o.target for o in objectives]
        if all(o.contrast is None for o in objectives):
            return targets
        if any(o.contrast is None for o in objectives):
            raise InvalidInputError("a batch mixes contrastive and plain objectives; explain them in separate calls")
        return Contrast(targets, [o.contrast for o in objectives if o.contrast is not None])
