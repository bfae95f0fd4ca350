"""Layer-wise relevance propagation (LRP) and LayerLRP: relevance of the explained output, in one backward pass.

The backward carries relevance per unit of activation, so the relevance of any tensor is the
tensor times what reaches it; layers with weights follow the rules of a composite
(:mod:`.composites`, :mod:`.layers`), nonlinear functions the zero-reference rules of
:mod:`.functions` (identity for activations, constant normalising scale, attention softmax held
constant, the uniform split of products). Relevance is conserved up to what biases and
stabilisers absorb: every result reports ``delta = sum(relevance) - f(x)`` (``baseline_value``
is 0, the reference LRP explains against).

The default composite depends on the model: ``"transformer"`` for models with embeddings or
normalisation layers, ``"epsilon_plus"`` for convolutional networks, ``"epsilon"`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..accumulate import RowPlan
from ..convergence import completeness_delta
from ..evidence import Evidence
from ..forward import OutputSpec, find_modules
from ..gradient.method import Call, GradientMethod, Points
from ..inputs import Inputs
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from .composites import Composite, composite
from .context import Propagation
from .functions import NonlinearFunctions
from .reference import ZeroReference


@dataclass(frozen=True)
class LRPOptions(MethodOptions):
    """LRP's setting as recorded in results: the composite that ran, described in one line."""

    composite: str = ""


class LRP(GradientMethod[LRPOptions]):
    """LRP of ``forward`` with ``composite`` (a name from :data:`~.composites.COMPOSITES` or a :class:`~.composites.Composite`).

    ``composite=None`` picks the default for the model family (see the module docstring). With
    ``layer``, relevance is given for that module's output (or inputs).
    """

    name = "lrp"
    options_type = LRPOptions

    def __init__(
        self,
        forward: Any,
        layer: nn.Module | None = None,
        *,
        composite: str | Composite | None = None,
        attribute_to_layer_input: bool = False,
        output: OutputSpec = "logits",
        eval_mode: bool = True,
        check_forward: bool = True,
    ) -> None:
        super().__init__(
            forward,
            layer,
            attribute_to_layer_input=attribute_to_layer_input,
            output=output,
            eval_mode=eval_mode,
            check_forward=check_forward,
        )
        self.composite = _composite(composite, find_modules(forward))

    def attribute(
        self, inputs: Inputs, target: TargetSpec = None, *, composite: str | Composite | None = None, **common: Unpack[CommonKwargs]
    ) -> Attribution:
        """The relevance of ``target`` at ``inputs`` (or the layer); ``delta`` is ``sum - f(x)``.

        ``composite`` replaces the constructor's for this call (the text front end passes it through).
        """
        rules = self.composite if composite is None else _composite(composite, find_modules(self.forward))
        return self.run(inputs, None, target, LRPOptions(composite=rules.describe()), common, transform=self._with(rules))

    def _with(self, rules: Composite) -> Any:
        return lambda call, x, b, options: self._relevance(call, x, b, options, rules)

    def make_options(self, **given: Any) -> LRPOptions:
        return super().make_options(composite=self.composite.describe(), **given)

    def attribute_points(self, call: Call, x: Points, b: Any, options: LRPOptions) -> Attribution:
        return self._relevance(call, x, b, options, self.composite)

    def _relevance(self, call: Call, x: Points, b: Any, options: LRPOptions, rules: Composite) -> Attribution:
        count = call.n_examples
        examples = torch.arange(count)
        plan = RowPlan(
            examples, examples, torch.ones(count, dtype=torch.float64), count, lambda rows: tuple(p[rows.to(p.device)] for p in x)
        )
        chunk = call.chunk_rows(x, b)
        reference = ZeroReference()
        context = Propagation(self.forward, NonlinearFunctions(reference), reference, rules)
        with context.active():
            model = context.bind(call.model, len(x), self.layer, self.attribute_to_layer_input, relevance=True)
            accumulated = replace(call, model=model).run(plan, chunk)
        relevance = tuple(s.to(p.dtype) for s, p in zip(accumulated.gradient_sums, x))
        fx = accumulated.values
        zero = torch.zeros_like(fx)
        evidence = Evidence(delta=completeness_delta(relevance, fx), input_value=fx, baseline_value=zero)
        return Attribution(relevance, method=self.name, evidence=evidence, settings=options)


class LayerLRP(LRP):
    """LRP relevance of ``layer``'s output (or inputs with ``attribute_to_layer_input=True``)."""

    name = "layer_lrp"

    def __init__(self, forward: Any, layer: nn.Module, **kwargs: Any) -> None:
        if layer is None:
            raise InvalidInputError("LayerLRP needs a layer; use LRP for the inputs")
        super().__init__(forward, layer, **kwargs)


def _composite(spec: str | Composite | None, modules: list[nn.Module]) -> Composite:
    if spec is not None and not isinstance(spec, (str, Composite)):
        raise InvalidInputError(f"composite must be a name or a Composite, got {type(spec).__name__}")
    return composite(spec, modules)
