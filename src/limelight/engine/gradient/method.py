"""What every gradient method shares: the layer, one attribution *call*, and the protocol wrappers use.

A :class:`Call` binds the forward to this call's inputs, extra arguments and target, knows the
space attributions live in, and decides the chunk size. Methods only say which rows to evaluate.

Wrappers such as :class:`~limelight.engine.gradient.noise_tunnel.NoiseTunnel` compose with a
method through :class:`Composable`: they build its options with ``make_options``, run its call
with ``run(..., transform=...)`` and attribute their own points with ``attribute_points``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from ..._progress import progress_bar
from ...errors import InvalidInputError
from ..accumulate import Accumulated, RowPlan, accumulate
from ..chunking import AUTO_MIN_CHUNKS, rows_for_budget
from ..forward import OutputSpec
from ..guards import check_forward, measure_row_bytes
from ..inputs import BaselineSpec, Inputs, as_tuple, resolve_baselines
from ..memo import ProbeMemo, row_size, signature
from ..method import Method, OptionsT
from ..model import BoundModel
from ..options import CommonKwargs, CommonOptions
from ..result import Attribution
from ..spaces import InputSpace, LayerSpace, Points, Space
from ..targets import TargetSpec


@dataclass(frozen=True)
class Call:
    """One ``attribute`` call: the bound model, the space, the raw inputs and the chunking policy.

    ``memo`` is the method's memory of earlier probes; ``context`` what their verdicts depend on
    beyond the points (the space, the modules' modes).
    """

    model: BoundModel
    space: Space
    inputs: Points
    common: CommonOptions
    check: bool
    name: str
    memo: ProbeMemo
    context: Hashable

    @property
    def n_examples(self) -> int:
        return self.inputs[0].shape[0]

    def points(self, raw: Points) -> Points:
        """The space's representation of raw inputs (the inputs, or the layer's value)."""
        return self.space.capture(self.model, raw)

    def expand(self, repeats: int) -> Call:
        """This call with every example repeated ``repeats`` times in a row (for noise samples)."""
        inputs = tuple(x.repeat_interleave(repeats, dim=0) for x in self.inputs)
        space = replace(self.space, raw_inputs=inputs) if isinstance(self.space, LayerSpace) else self.space
        return replace(self, model=self.model.expand(repeats), space=space, inputs=inputs)

    def chunk_rows(self, inputs: Points, baselines: Points) -> int:
        """Check the forward's contract, then pick the rows per chunk (both remembered per signature)."""
        key = signature(inputs, self.model, self.context)
        if self.check:
            self.memo.check_once(key, lambda: check_forward(self.space, self.model, inputs, baselines))
        if self.common.internal_batch_size is not None:
            return self.common.internal_batch_size
        per_row = self.memo.bytes_per_row(
            key, row_size(inputs, self.model), lambda: measure_row_bytes(self.space, self.model, inputs, baselines)
        )
        return rows_for_budget(per_row, self.common.memory_budget)

    def run(self, plan: RowPlan, chunk_rows: int, grad: bool = True) -> Accumulated:
        """Evaluate a row plan (see :func:`accumulate`), with a progress bar per ``show_progress``."""
        total = math.ceil(plan.n_rows / chunk_rows)
        with progress_bar(f"{self.name}: {plan.n_rows} rows", total, self.common.show_progress, minimum=AUTO_MIN_CHUNKS) as tick:

            def points(rows: Tensor) -> Points:
                tick()
                return plan.points(rows)

            return accumulate(self.space, self.model, replace(plan, points=points), chunk_rows, grad)


Transform = Callable[[Call, Points, Any, Any], Attribution]
"""What a wrapper does instead of ``attribute_points``: ``(call, x, b, options) -> Attribution``."""


@runtime_checkable
class Composable(Protocol):
    """The internal protocol through which wrappers (the noise tunnel) compose with a gradient method."""

    name: str

    def make_options(self, **given: Any) -> Any:
        """The method's validated options from keyword arguments (defaults for the rest)."""

    def run(
        self,
        inputs: Inputs,
        baselines: Any,
        target: TargetSpec,
        options: Any,
        common: CommonKwargs,
        *,
        layer_baselines: BaselineSpec = None,
        transform: Transform | None = None,
    ) -> Attribution:
        """One call; ``transform`` replaces the last step, :meth:`attribute_points`."""

    def attribute_points(self, call: Call, x: Points, b: Any, options: Any) -> Attribution:
        """Attributions (a tuple, one per point tensor) at points ``x`` against baselines ``b``."""

    def expand_baselines(self, b: Any, repeats: int) -> Any:
        """Baselines for examples repeated ``repeats`` times in a row."""


class GradientMethod(Method[OptionsT]):
    """Base of gradient methods: ``Method(forward, layer=None, ...)`` then ``.attribute(inputs, ...)``.

    The forward and ``output``, ``eval_mode``, ``check_forward`` are as for every method (see
    :class:`~limelight.engine.method.Method`). With ``layer``, attributions are for that module's
    output (or its positional inputs with ``attribute_to_layer_input=True``).
    """

    name = "gradient"

    def __init__(
        self,
        forward: Callable[..., Any],
        layer: nn.Module | None = None,
        *,
        attribute_to_layer_input: bool = False,
        output: OutputSpec = "logits",
        eval_mode: bool = True,
        check_forward: bool = True,
    ) -> None:
        super().__init__(forward, output=output, eval_mode=eval_mode, check_forward=check_forward)
        if layer is not None and not isinstance(layer, nn.Module):
            raise InvalidInputError(f"layer must be a torch.nn.Module, got {type(layer).__name__}")
        self.layer = layer
        self.attribute_to_layer_input = attribute_to_layer_input

    @contextmanager
    def _call(self, inputs: Points, target: TargetSpec, common: CommonOptions) -> Iterator[Call]:
        """The shared prologue, then this call's space (the inputs, or the layer)."""
        space = self.attribution_space(inputs)
        with self.bound(inputs, target, common, [] if self.layer is None else [self.layer]) as model:
            where = "inputs" if self.layer is None else (id(self.layer), self.attribute_to_layer_input)
            yield Call(model, space, inputs, common, self.check_forward, self.name, self.memo, (where, self.probe_context()))

    def attribution_space(self, inputs: Points) -> Space:
        """Where attributions live: the inputs (which must be floating point), or the layer's value."""
        if self.layer is None:
            _require_float(inputs)
            return InputSpace()
        return LayerSpace(self.layer, inputs, self.attribute_to_layer_input)

    def run(
        self,
        inputs: Inputs,
        baselines: Any,
        target: TargetSpec,
        options: OptionsT,
        common: CommonKwargs,
        *,
        layer_baselines: BaselineSpec = None,
        transform: Transform | None = None,
    ) -> Attribution:
        """The template of every ``attribute``: validate, enter the call, find points, attribute.

        ``transform`` replaces the last step (the noise tunnel uses it to attribute noisy copies).
        """
        points = as_tuple(inputs)
        with self._call(points, target, self.common_options(common)) as call:
            x = call.points(call.inputs)
            b = self._baselines(call, x, baselines, layer_baselines)
            result = (transform or self.attribute_points)(call, x, b, options)
        single = self.layer is not None or isinstance(inputs, Tensor)
        return replace(
            result,
            method=self.name,
            attributions=result.attributions[0] if single and len(result.attributions) == 1 else result.attributions,
        )

    def attribute_points(self, call: Call, x: Points, b: Any, options: OptionsT) -> Attribution:
        """Attributions (a tuple, one per point tensor) at points ``x`` against baselines ``b``."""
        raise NotImplementedError

    def expand_baselines(self, b: Any, repeats: int) -> Any:
        """Baselines for examples repeated ``repeats`` times in a row (per-example points by default)."""
        return tuple(p.repeat_interleave(repeats, dim=0) for p in b)

    def _baselines(self, call: Call, x: Points, baselines: Any, layer_baselines: BaselineSpec = None) -> Any:
        """Baselines in the attribution space: zeros by default, given in input space, or at the layer."""
        if layer_baselines is not None:
            if baselines is not None:
                raise InvalidInputError("pass either baselines (input space) or layer_baselines (layer space), not both")
            if self.layer is None:
                raise InvalidInputError("layer_baselines needs a method constructed with a layer")
            return resolve_baselines(layer_baselines, x, "layer_baselines")
        if baselines is None:
            return tuple(torch.zeros_like(p) for p in x)
        resolved = resolve_baselines(baselines, call.inputs)
        return resolved if self.layer is None else call.points(resolved)


def _require_float(inputs: Points) -> None:
    integer = [i for i, x in enumerate(inputs) if not x.dtype.is_floating_point]
    if integer:
        raise InvalidInputError(
            f"input {integer[0]} has dtype {inputs[integer[0]].dtype}: gradients need floating-point inputs. "
            "For token ids, attribute at the embedding layer, e.g. "
            "LayerIntegratedGradients(model, model.get_input_embeddings())."
        )


def per_tensor(stdevs: float | tuple[float, ...], count: int, what: str) -> tuple[float, ...]:
    """One noise standard deviation per tensor: a tuple of ``count``, or one number for all."""
    values = stdevs if isinstance(stdevs, tuple) else (stdevs,) * count
    if len(values) != count:
        raise InvalidInputError(f"stdevs has {len(values)} entries but there are {count} {what}")
    return values
