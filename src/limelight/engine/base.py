"""What every gradient method shares: construction, argument checks, and one attribution *call*.

A :class:`Call` binds the forward to this call's inputs, extra arguments and target, knows the
space attributions live in, and decides the chunk size. Methods only say which rows to evaluate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import InvalidInputError
from .accumulate import Accumulated, RowPlan, accumulate
from .binding import bind_model, check_forward_spec, chunk_limits
from .chunking import rows_for_budget
from .forward import OutputSpec, eval_mode, find_modules
from .guards import check_forward, measure_row_bytes
from .inputs import BaselineSpec, Inputs, as_tuple, resolve_baselines
from .model import BoundModel
from .result import Attribution
from .spaces import InputSpace, LayerSpace, Points, Space
from .targets import TargetSpec


@dataclass(frozen=True)
class Call:
    """One ``attribute`` call: the bound model, the space, the raw inputs and the chunking policy."""

    model: BoundModel
    space: Space
    inputs: Points
    internal_batch_size: int | None
    memory_budget: int
    check: bool

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
        """Check the forward's contract once, then pick the rows per chunk."""
        if self.check:
            check_forward(self.space, self.model, inputs, baselines)
        if self.internal_batch_size is not None:
            return self.internal_batch_size
        return rows_for_budget(*measure_row_bytes(self.space, self.model, inputs, baselines), self.memory_budget)

    def run(self, plan: RowPlan, chunk_rows: int, grad: bool = True) -> Accumulated:
        """Evaluate a row plan (see :func:`accumulate`)."""
        return accumulate(self.space, self.model, plan, chunk_rows, grad)


class GradientMethod:
    """Base of gradient methods: ``Method(forward, layer=None, ...)`` then ``.attribute(inputs, ...)``.

    ``forward`` is a model or any callable taking the inputs (then extra arguments) and returning
    a tensor, a tuple, or a mapping such as a Hugging Face ``ModelOutput`` (``output`` picks the
    tensor: a key, ``"logits"`` by default, or a callable). With ``layer``, attributions are for
    that module's output (or its positional inputs with ``attribute_to_layer_input=True``).
    Models are run in eval mode unless ``eval_mode=False``. ``check_forward`` probes, with three
    two-row forwards, that output rows depend only on their own input row.
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
        check_forward_spec(forward, output)
        if layer is not None and not isinstance(layer, nn.Module):
            raise InvalidInputError(f"layer must be a torch.nn.Module, got {type(layer).__name__}")
        self.forward = forward
        self.layer = layer
        self.attribute_to_layer_input = attribute_to_layer_input
        self.output = output
        self.eval_mode = eval_mode
        self.check_forward = check_forward

    @contextmanager
    def _call(
        self,
        inputs: Points,
        target: TargetSpec,
        additional_forward_args: Any,
        forward_kwargs: Mapping[str, Any] | None,
        internal_batch_size: int | None,
        memory_budget: int | str | None,
    ) -> Iterator[Call]:
        """Validate the common arguments and hold the model in eval mode for the call."""
        budget = chunk_limits(internal_batch_size, memory_budget)
        model = bind_model(self.forward, self.output, inputs[0].shape[0], target, additional_forward_args, forward_kwargs)
        space: Space = InputSpace() if self.layer is None else LayerSpace(self.layer, inputs, self.attribute_to_layer_input)
        if self.layer is None:
            _require_float(inputs)
        modules = find_modules(self.forward) + ([self.layer] if self.layer is not None else [])
        with eval_mode(modules, self.eval_mode):
            yield Call(model, space, inputs, internal_batch_size, budget, self.check_forward)

    def _run(
        self,
        inputs: Inputs,
        baselines: Any,
        target: TargetSpec,
        options: dict[str, Any],
        *,
        layer_baselines: BaselineSpec = None,
        additional_forward_args: Any = None,
        forward_kwargs: Mapping[str, Any] | None = None,
        internal_batch_size: int | None = None,
        memory_budget: int | str | None = None,
        transform: Callable[[GradientMethod, Call, Points, Any, dict[str, Any]], Attribution] | None = None,
    ) -> Attribution:
        """The template of every ``attribute``: validate, enter the call, find points, attribute.

        ``transform`` replaces the last step (the noise tunnel uses it to attribute noisy copies).
        """
        points = as_tuple(inputs)
        with self._call(points, target, additional_forward_args, forward_kwargs, internal_batch_size, memory_budget) as call:
            x = call.points(call.inputs)
            b = self._baselines(call, x, baselines, layer_baselines)
            result = (transform or type(self)._attribute_points)(self, call, x, b, options)
        single = self.layer is not None or isinstance(inputs, Tensor)
        return replace(result, method=self.name, attributions=result.attributions[0] if single and len(result.attributions) == 1 else result.attributions)

    def _options(self) -> dict[str, Any]:
        """Validate the method's own keyword options (those of ``attribute`` beyond the common ones)."""
        raise NotImplementedError

    def _attribute_points(self, call: Call, x: Points, b: Any, options: dict[str, Any]) -> Attribution:
        """Attributions (a tuple, one per point tensor) at points ``x`` against baselines ``b``."""
        raise NotImplementedError

    def _expand_baselines(self, b: Any, repeats: int) -> Any:
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
