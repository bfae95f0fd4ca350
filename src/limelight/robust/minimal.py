"""The smallest attack strength that flips each example's prediction: :class:`MinimalPerturbation`.

The strengths tried are the grid ``arg_min, arg_min + arg_step, ...`` up to ``arg_max``; the
search (:mod:`.search`) is linear or binary and per example, so one fragile example does not
stop the search for the others, and every example's answer is minimal on the grid: one step less
does not flip it. A flip is a prediction (arg max of the output) different from ``target``
(untargeted), or equal to it (``targeted=True``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from ..engine.forward import OutputSpec
from ..engine.validation import check_choice, check_positive, is_number
from ..errors import InvalidInputError
from .core import Inputs, as_tuple, batch_size, like_inputs, predictions, target_classes
from .search import MODES, first_flip


@dataclass(frozen=True)
class MinimalResult:
    """Per example: the smallest flipping strength (``None``: none on the grid), its step, and the evidence.

    ``perturbed`` holds the flipping input of each example that flipped (the original input of the
    others); ``predicted`` the class there (``original`` the class before); ``evaluations`` counts
    example-evaluations the search ran; ``settings`` records the grid and the mode.
    """

    values: list[float | None]
    steps: list[int | None]
    perturbed: Inputs
    predicted: list[int]
    original: list[int]
    evaluations: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def flipped(self) -> list[bool]:
        """Whether each example's prediction flips somewhere on the grid."""
        return [value is not None for value in self.values]


class MinimalPerturbation:
    """``MinimalPerturbation(forward, attack, arg_name, arg_min, arg_max, arg_step, mode="linear")``.

    ``attack`` is an object with ``perturb`` (:class:`~.fgsm.FGSM`, :class:`~.pgd.PGD`): it is called as
    ``attack.perturb(inputs, **{arg_name: value}, target=..., additional_forward_args=..., targeted=..., **attack_kwargs)``;
    or a callable ``attack(inputs, value)`` returning the perturbed inputs (noise, blur, a
    word-level edit of an embedding). See :func:`~.words.minimal_word_deletion` for deleting top-attributed words.
    """

    def __init__(
        self,
        forward: Callable[..., Any],
        attack: Any,
        arg_name: str,
        arg_min: float,
        arg_max: float,
        arg_step: float,
        mode: str = "linear",
        *,
        output: OutputSpec = "logits",
    ) -> None:
        if not callable(forward):
            raise InvalidInputError(f"forward must be callable, got {type(forward).__name__}")
        if not (callable(getattr(attack, "perturb", None)) or callable(attack)):
            raise InvalidInputError("attack must have a perturb(...) method (FGSM, PGD) or be callable(inputs, value)")
        if not isinstance(arg_name, str) or not arg_name:
            raise InvalidInputError(f"arg_name must name the attack's strength argument (e.g. 'epsilon'), got {arg_name!r}")
        if not (is_number(arg_min) and is_number(arg_max)) or arg_min > arg_max:
            raise InvalidInputError(f"arg_min and arg_max must be numbers with arg_min <= arg_max, got {arg_min!r}, {arg_max!r}")
        check_positive("arg_step", arg_step)
        self.forward, self.attack, self.arg_name, self.output = forward, attack, arg_name, output
        self.mode = check_choice("mode", mode, MODES)
        self.grid = [
            round(float(arg_min) + k * float(arg_step), 12) for k in range(int(math.floor((arg_max - arg_min) / arg_step + 1e-9)) + 1)
        ]

    def evaluate(
        self,
        inputs: Inputs,
        target: Any,
        additional_forward_args: Any = None,
        targeted: bool = False,
        attack_kwargs: dict[str, Any] | None = None,
    ) -> MinimalResult:
        """Per example of ``inputs``, the smallest grid strength that flips its prediction (module docstring)."""
        values = as_tuple(inputs)
        rows = batch_size(values)
        classes = target_classes(target, rows)
        original = predictions(self.forward, values, additional_forward_args, self.output)

        def probe(chosen: list[int], steps: list[int]) -> tuple[list[bool], list[Any]]:
            flipped: dict[int, bool] = {}
            payload: dict[int, Any] = {}
            groups: dict[int, list[int]] = defaultdict(list)
            for row, step in zip(chosen, steps):
                groups[step].append(row)
            for step, group in groups.items():
                index = torch.tensor(group)
                moved = self._attack(
                    tuple(x[index] for x in values),
                    self.grid[step],
                    classes[index],
                    _rows(additional_forward_args, index, rows),
                    targeted,
                    attack_kwargs or {},
                )
                predicted = predictions(self.forward, moved, _rows(additional_forward_args, index, rows), self.output)
                hits = predicted == classes[index] if targeted else predicted != classes[index]
                for position, row in enumerate(group):
                    flipped[row] = bool(hits[position])
                    payload[row] = (tuple(x[position] for x in moved), int(predicted[position]))
            return [flipped[row] for row in chosen], [payload[row] for row in chosen]

        found = first_flip([len(self.grid)] * rows, probe, self.mode)
        perturbed = [list(x.detach().clone().unbind(0)) for x in values]
        predicted = original.tolist()
        for row, payload in enumerate(found.payloads):
            if payload is not None:
                for number, value in enumerate(payload[0]):
                    perturbed[number][row] = value
                predicted[row] = payload[1]
        return MinimalResult(
            values=[None if step is None else self.grid[step] for step in found.steps],
            steps=found.steps,
            perturbed=like_inputs(inputs, tuple(torch.stack(column) for column in perturbed)),
            predicted=predicted,
            original=original.tolist(),
            evaluations=found.evaluations,
            settings={"arg_name": self.arg_name, "grid": list(self.grid), "mode": self.mode, "targeted": bool(targeted)},
        )

    def _attack(
        self, inputs: tuple[Tensor, ...], value: float, target: Tensor, extra: Any, targeted: bool, kwargs: dict[str, Any]
    ) -> tuple[Tensor, ...]:
        perturb = getattr(self.attack, "perturb", None)
        if callable(perturb):
            moved = perturb(inputs, **{self.arg_name: value}, target=target, additional_forward_args=extra, targeted=targeted, **kwargs)
        else:
            moved = self.attack(inputs, value)
        return as_tuple(moved, "the attack's output")


def _rows(additional_forward_args: Any, index: Tensor, rows: int) -> Any:
    """The additional forward arguments of the chosen rows (tensors with a batch dimension are sliced)."""
    if additional_forward_args is None:
        return None
    values = additional_forward_args if isinstance(additional_forward_args, tuple) else (additional_forward_args,)
    return tuple(v[index] if isinstance(v, Tensor) and v.dim() > 0 and v.shape[0] == rows else v for v in values)
