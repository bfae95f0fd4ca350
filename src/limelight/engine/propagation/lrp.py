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
Eval-mode BatchNorms are merged into the layers before them while LRP runs
(:class:`~.canonizers.BatchNormCanonizer`; ``canonize=False`` keeps them), so the rules see the
weights that act on the input and the BatchNorms' shifts become biases of those layers.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
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
from .canonizers import BatchNormCanonizer, Canonization
from .composites import Composite, composite
from .context import Propagation
from .functions import NonlinearFunctions
from .reference import ZeroReference


@dataclass(frozen=True)
class LRPOptions(MethodOptions):
    """LRP's setting as recorded in results: the composite that ran, described in one line, and the canonization.

    ``merged_batchnorms``: how many BatchNorms were merged into the layer before them (0: no
    canonization happened); ``kept_batchnorms``: those left as they are, each with the reason.
    """

    composite: str = ""
    canonize: bool = True
    merged_batchnorms: int = 0
    kept_batchnorms: tuple[str, ...] = ()


class LRP(GradientMethod[LRPOptions]):
    """LRP of ``forward`` with ``composite`` (a name from :data:`~.composites.COMPOSITES` or a :class:`~.composites.Composite`).

    ``composite=None`` picks the default for the model family (see the module docstring). With
    ``layer``, relevance is given for that module's output (or inputs). ``canonize`` merges
    eval-mode BatchNorms into the layers before them for the attribution (see :mod:`.canonizers`).
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
        canonize: bool = True,
    ) -> None:
        if canonize not in (True, False):
            raise InvalidInputError(f"canonize must be True or False, got {canonize!r}")
        super().__init__(
            forward,
            layer,
            attribute_to_layer_input=attribute_to_layer_input,
            output=output,
            eval_mode=eval_mode,
            check_forward=check_forward,
        )
        self.composite = _composite(composite, find_modules(forward))
        self.canonize = bool(canonize)

    def attribute(
        self,
        inputs: Inputs,
        target: TargetSpec = None,
        *,
        composite: str | Composite | None = None,
        observe: Callable[[Any], None] | None = None,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """The relevance of ``target`` at ``inputs`` (or the layer); ``delta`` is ``sum - f(x)``.

        ``composite`` replaces the constructor's for this call (the text front end passes it through).
        ``observe`` receives the raw output of each forward that the relevance flows back through
        (one per chunk of rows, in row order, every row at its input): a caller that needs the
        prediction at the inputs reads it there instead of running the model once more.
        """
        rules = self.composite if composite is None else _composite(composite, find_modules(self.forward))
        return self.run(
            inputs,
            None,
            target,
            LRPOptions(composite=rules.describe(), canonize=self.canonize),
            common,
            transform=self._with(rules, observe),
        )

    def _with(self, rules: Composite, observe: Callable[[Any], None] | None) -> Any:
        return lambda call, x, b, options: self._relevance(call, x, b, options, rules, observe)

    def make_options(self, **given: Any) -> LRPOptions:
        return super().make_options(composite=self.composite.describe(), canonize=self.canonize, **given)

    def attribute_points(self, call: Call, x: Points, b: Any, options: LRPOptions) -> Attribution:
        return self._relevance(call, x, b, options, self.composite)

    def _relevance(
        self, call: Call, x: Points, b: Any, options: LRPOptions, rules: Composite, observe: Callable[[Any], None] | None = None
    ) -> Attribution:
        count = call.n_examples
        examples = torch.arange(count)
        plan = RowPlan(
            examples, examples, torch.ones(count, dtype=torch.float64), count, lambda rows: tuple(p[rows.to(p.device)] for p in x)
        )
        chunk = call.chunk_rows(x, b)
        reference = ZeroReference()
        context = Propagation(self.forward, NonlinearFunctions(reference), reference, rules)
        with self._canonized(call) as canonization, context.active():
            model = context.bind(call.model, len(x), self.layer, self.attribute_to_layer_input, relevance=True)
            model = model if observe is None else model.observed(observe)
            accumulated = replace(call, model=model).run(plan, chunk)
        options = replace(options, merged_batchnorms=len(canonization.merged), kept_batchnorms=canonization.kept)
        relevance = tuple(s.to(p.dtype) for s, p in zip(accumulated.gradient_sums, x))
        fx = accumulated.values
        zero = torch.zeros_like(fx)
        evidence = Evidence(delta=completeness_delta(relevance, fx), input_value=fx, baseline_value=zero)
        return Attribution(relevance, method=self.name, evidence=evidence, settings=options)

    def _canonized(self, call: Call) -> AbstractContextManager[Canonization]:
        """The BatchNorms merged for this call (probed on its first example), or nothing with ``canonize=False``."""
        if not self.canonize:
            return nullcontext(Canonization())
        rows, first = tuple(p[:1] for p in call.inputs), torch.zeros(1, dtype=torch.long)
        return BatchNormCanonizer().applied(
            find_modules(self.forward), lambda: call.model.outputs(rows, first), self.layer, self.attribute_to_layer_input
        )


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
