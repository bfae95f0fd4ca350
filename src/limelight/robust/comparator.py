"""How a classifier fares under several attacks and augmentations, side by side: :class:`AttackComparator`.

Each entry is an attack with ``perturb`` (:class:`~.fgsm.FGSM`, :class:`~.pgd.PGD`; called with
the entry's keyword arguments, ``target`` and ``additional_forward_args``) or a callable
``augment(inputs) -> inputs`` (noise, blur, a crop), tried ``attempts`` times. An example counts
as broken by an entry when *any* attempt changes its prediction away from ``target`` (the worst
case, as an adversary would pick); its target probability is the lowest over the attempts.
Perturbation sizes are the largest over the attempts, per example, of the L2 and L-inf norm of
the change over all of its input elements.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .._optional import pandas
from ..engine.forward import OutputSpec
from ..engine.validation import check_count
from ..errors import InvalidInputError
from .core import Inputs, as_tuple, batch_size, run_forward, target_classes


@dataclass(frozen=True)
class AttackRow:
    """One entry's figures over the batch: accuracy under it, the share of correct predictions it flipped, sizes."""

    name: str
    accuracy: float
    flip_rate: float
    mean_target_probability: float
    mean_l2: float
    mean_linf: float
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (``nan`` as ``None``)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class AttackSummary:
    """The rows of :meth:`AttackComparator.evaluate`, the unperturbed inputs first (named ``"original"``)."""

    rows: list[AttackRow]

    def to_dict(self) -> dict[str, Any]:
        """``{"rows": [...]}``, JSON-ready."""
        return {"rows": [row.to_dict() for row in self.rows]}

    def to_dataframe(self) -> Any:
        """The rows as a pandas DataFrame indexed by entry name (needs ``limelight[pandas]``)."""
        pd = pandas()
        return pd.DataFrame([row.to_dict() for row in self.rows]).set_index("name")

    def __str__(self) -> str:
        header = f"{'attack':<24} {'accuracy':>9} {'flipped':>8} {'p(target)':>10} {'L2':>9} {'Linf':>9}"
        lines = [header] + [
            f"{r.name[:24]:<24} {r.accuracy:>9.3f} {r.flip_rate:>8.3f} {r.mean_target_probability:>10.3f} {r.mean_l2:>9.4f} {r.mean_linf:>9.4f}"
            for r in self.rows
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Entry:
    name: str
    attack: Any
    kwargs: dict[str, Any]
    attempts: int


class AttackComparator:
    """``AttackComparator(forward)``; :meth:`add` attacks or augmentations, :meth:`evaluate` a batch (module docstring)."""

    def __init__(self, forward: Callable[..., Any], *, output: OutputSpec = "logits") -> None:
        if not callable(forward):
            raise InvalidInputError(f"forward must be callable, got {type(forward).__name__}")
        self.forward, self.output = forward, output
        self.entries: list[_Entry] = []

    def add(self, name: str, attack: Any, *, attempts: int = 1, **kwargs: Any) -> AttackComparator:
        """Add an attack (``perturb`` is called with ``kwargs``) or an augmentation ``callable(inputs)``; returns ``self``."""
        if not isinstance(name, str) or not name or name == "original" or any(e.name == name for e in self.entries):
            raise InvalidInputError(f"each entry needs a new, non-empty name other than 'original', got {name!r}")
        if not (callable(getattr(attack, "perturb", None)) or callable(attack)):
            raise InvalidInputError(f"entry {name!r} must have perturb(...) (FGSM, PGD) or be callable(inputs)")
        self.entries.append(_Entry(name, attack, dict(kwargs), check_count("attempts", attempts)))
        return self

    def evaluate(self, inputs: Inputs, target: Any, additional_forward_args: Any = None) -> AttackSummary:
        """Accuracy, flip rate, target probability and perturbation size under each entry (module docstring)."""
        if not self.entries:
            raise InvalidInputError("add at least one attack or augmentation before evaluate")
        values = as_tuple(inputs)
        classes = target_classes(target, batch_size(values))
        correct, probability = self._judge(values, classes, additional_forward_args)
        zero = torch.zeros(len(classes), dtype=torch.float64)
        rows = [_row("original", correct, correct, probability, zero, zero, 1)]
        for entry in self.entries:
            broken = torch.zeros(len(classes), dtype=torch.bool)
            lowest = torch.full((len(classes),), math.inf, dtype=torch.float64)
            l2, linf = zero.clone(), zero.clone()
            for _ in range(entry.attempts):
                moved = self._apply(entry, values, inputs, classes, additional_forward_args)
                right, p = self._judge(moved, classes, additional_forward_args)
                broken |= ~right
                lowest = torch.minimum(lowest, p)
                change = torch.cat([(m - x).detach().reshape(len(classes), -1).double() for m, x in zip(moved, values)], dim=1)
                l2 = torch.maximum(l2, change.norm(dim=1).cpu())
                linf = torch.maximum(linf, change.abs().amax(dim=1).cpu() if change.shape[1] else zero)
            rows.append(_row(entry.name, correct, ~broken, lowest, l2, linf, entry.attempts))
        return AttackSummary(rows)

    def _apply(self, entry: _Entry, values: tuple[Tensor, ...], template: Inputs, classes: Tensor, extra: Any) -> tuple[Tensor, ...]:
        given = values if isinstance(template, tuple) else values[0]
        perturb = getattr(entry.attack, "perturb", None)
        moved = perturb(given, target=classes, additional_forward_args=extra, **entry.kwargs) if callable(perturb) else entry.attack(given)
        moved = as_tuple(moved, f"the output of {entry.name!r}")
        if [m.shape for m in moved] != [x.shape for x in values]:
            raise InvalidInputError(f"entry {entry.name!r} changed the inputs' shapes; attacks and augmentations must keep them")
        return moved

    def _judge(self, values: tuple[Tensor, ...], classes: Tensor, extra: Any) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            outputs = run_forward(self.forward, values, extra, self.output)
        if outputs.dim() != 2:
            raise InvalidInputError(f"comparing attacks needs outputs of shape (rows, classes), got {tuple(outputs.shape)}")
        index = classes.to(outputs.device)
        probability = torch.softmax(outputs.double(), dim=-1).gather(1, index[:, None])[:, 0].cpu()
        return (outputs.argmax(dim=-1) == index).cpu(), probability


def _row(name: str, before: Tensor, after: Tensor, probability: Tensor, l2: Tensor, linf: Tensor, attempts: int) -> AttackRow:
    flipped = (before & ~after).sum().item() / max(int(before.sum()), 1) if bool(before.any()) else math.nan
    return AttackRow(
        name, float(after.double().mean()), float(flipped), float(probability.mean()), float(l2.mean()), float(linf.mean()), attempts
    )
