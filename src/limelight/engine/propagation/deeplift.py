"""DeepLift (Rescale or RevealCancel), DeepLiftShap and LayerDeepLift: one backward pass whose multipliers add up.

Each example is evaluated next to its baseline in the same forward (rows ``2r`` and ``2r + 1``),
so every nonlinear operation sees both and passes back its multiplier
``(f(x) - f(x_ref)) / (x - x_ref)`` instead of its derivative (:mod:`.functions`); the
attribution is ``(x - b) * multiplier`` at the inputs (or the layer). For a network of linear
operations, element-wise nonlinearities, products, normalisations and softmaxes this sums exactly
to ``f(x) - f(b)`` (Shrikumar et al., 2017, "summation-to-delta"), which every result reports as
its ``delta``. Max pooling follows DeepLift's own rule; operations without a rule (maxima,
division by an attributed tensor) are refused with an error naming the module. DeepLiftShap
averages DeepLift over a distribution of baselines (Lundberg & Lee, 2017). ``rule="reveal_cancel"``
gives activations fed by layers with weights separate multipliers for the positive and negative
parts of their input change (:mod:`.reveal_cancel`), still summing to ``f(x) - f(b)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..accumulate import RowPlan
from ..convergence import completeness_delta
from ..evidence import Evidence
from ..gradient.method import Call, GradientMethod, Points
from ..inputs import BaselineSpec, Inputs, as_tuple
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from ..validation import check_choice
from .context import Propagation
from .functions import NonlinearFunctions
from .reference import PairedRows
from .reveal_cancel import Splits

RULES = ("rescale", "reveal_cancel")
"""DeepLift's rules for nonlinearities (Shrikumar et al., 2017): Rescale (the default) and RevealCancel."""


@dataclass(frozen=True)
class DeepLiftOptions(MethodOptions):
    """DeepLift's setting as recorded in results: the rule for nonlinearities."""

    rule: str = "rescale"

    def __post_init__(self) -> None:
        check_choice("rule", self.rule, RULES)


def paired_rows(
    call: Call, forward: Any, x: Points, b: Points, baseline_of: Tensor, per_example: int, rule: str
) -> tuple[Points, Tensor, Tensor]:
    """Attributions averaged over each example's ``per_example`` pairs (example, ``b[baseline_of[pair]]``), ``f(x)`` and mean ``f(b)``.

    Rows come in pairs (input, baseline) inside every chunk, so chunking changes nothing.
    """
    count = call.n_examples
    examples = torch.arange(count).repeat_interleave(per_example)
    n_pairs = examples.shape[0]
    weights = torch.stack([torch.full((n_pairs,), 1.0 / per_example, dtype=torch.float64), torch.zeros(n_pairs, dtype=torch.float64)], 1)

    def points(rows: Tensor) -> Points:
        pair, is_baseline = rows // 2, (rows % 2 == 1)
        return tuple(
            torch.where(
                is_baseline.to(p.device).reshape(-1, *([1] * (p.dim() - 1))),
                q[baseline_of[pair].to(q.device)],
                p[examples[pair].to(p.device)],
            )
            for p, q in zip(x, b)
        )

    def multipliers(rows: Tensor) -> Points:
        pair = rows // 2
        return tuple(p[examples[pair].to(p.device)] - q[baseline_of[pair].to(q.device)] for p, q in zip(x, b))

    plan = RowPlan(
        examples.repeat_interleave(2),
        examples.repeat_interleave(2),
        weights.flatten(),
        count,
        points,
        multipliers,
        describe_row=lambda row: "a baseline" if row % 2 else "an input",
    )
    probe = tuple(q[baseline_of[::per_example].to(q.device)] for q in b)
    chunk = call.chunk_rows(x, probe)
    chunk = max(2, chunk - chunk % 2)
    reference = PairedRows()
    splits = Splits(reference) if rule == "reveal_cancel" else None
    context = Propagation(forward, NonlinearFunctions(reference, splits), reference)
    with context.active():
        accumulated = replace(call, model=context.bind(call.model, len(x))).run(plan, chunk)
    attributions = tuple(s.to(p.dtype) for s, p in zip(accumulated.gradient_sums, x))
    values = accumulated.values.reshape(count, per_example, 2)
    return attributions, values[:, 0, 0], values[:, :, 1].mean(1)


def _result(name: str, attributions: Points, fx: Tensor, fb: Tensor, options: MethodOptions) -> Attribution:
    evidence = Evidence(delta=completeness_delta(attributions, fx - fb), input_value=fx, baseline_value=fb)
    return Attribution(attributions, method=name, evidence=evidence, settings=options)


class _Paired(GradientMethod[DeepLiftOptions]):
    """What DeepLift and DeepLiftShap share: the rule for nonlinearities, given at construction or per call."""

    options_type = DeepLiftOptions

    def __init__(self, forward: Any, layer: nn.Module | None = None, *, rule: str = "rescale", **kwargs: Any) -> None:
        super().__init__(forward, layer, **kwargs)
        self.rule = DeepLiftOptions(rule=rule).rule

    def make_options(self, **given: Any) -> DeepLiftOptions:
        return super().make_options(**{"rule": self.rule, **given})

    def _options(self, rule: str | None) -> DeepLiftOptions:
        return self.make_options() if rule is None else self.make_options(rule=rule)


class DeepLift(_Paired):
    """DeepLift against ``baselines`` (zeros by default); ``delta`` checks summation-to-delta.

    ``rule``: ``"rescale"`` (the default) or ``"reveal_cancel"`` (see the module docstring). With
    ``layer``, attributions are for that module's output (or inputs), and baselines are given in
    input space or at the layer (``layer_baselines``), as for Layer Integrated Gradients.
    """

    name = "deeplift"

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        layer_baselines: BaselineSpec = None,
        rule: str | None = None,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """DeepLift attributions of ``target``: ``(x - b) * multiplier``, summing to ``f(x) - f(b)``.

        ``rule`` replaces the constructor's for this call (the text front end passes it through).
        """
        return self.run(inputs, baselines, target, self._options(rule), common, layer_baselines=layer_baselines)

    def attribute_points(self, call: Call, x: Points, b: Points, options: DeepLiftOptions) -> Attribution:
        attributions, fx, fb = paired_rows(call, self.forward, x, b, torch.arange(call.n_examples), 1, options.rule)
        return _result(self.name, attributions, fx, fb, options)


class LayerDeepLift(DeepLift):
    """DeepLift in the space of ``layer``'s output (or its inputs with ``attribute_to_layer_input=True``).

    Rows feed the model the example's own inputs and swap the layer's value for the input's or
    the baseline's, so everything that bypasses the layer (position embeddings, masks) is the
    input's in both rows.
    """

    name = "layer_deeplift"

    def __init__(self, forward: Any, layer: nn.Module, **kwargs: Any) -> None:
        if layer is None:
            raise InvalidInputError("LayerDeepLift needs a layer; use DeepLift for the inputs")
        super().__init__(forward, layer, **kwargs)


class DeepLiftShap(_Paired):
    """DeepLift averaged over a distribution of baselines shaped ``(M, ...)``: ``delta`` is against ``f(x) - mean f(b)``."""

    name = "deeplift_shap"

    def attribute(
        self,
        inputs: Inputs,
        baselines: Tensor | tuple[Tensor, ...],
        target: TargetSpec = None,
        *,
        rule: str | None = None,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """DeepLiftShap attributions of ``target``: the mean of DeepLift over every baseline (``rule`` as for DeepLift)."""
        return self.run(inputs, baselines, target, self._options(rule), common)

    def make_options(self, **given: Any) -> DeepLiftOptions:
        if self.layer is not None:
            raise InvalidInputError("DeepLiftShap attributes to the inputs; construct it without a layer")
        return super().make_options(**given)

    def _baselines(self, call: Call, x: Points, baselines: Any, layer_baselines: Any = None) -> Points:
        distribution = as_tuple(baselines, "baselines")
        if len(distribution) != len(x) or any(
            d.dim() != p.dim() or d.shape[1:] != p.shape[1:] or d.shape[0] < 1 for d, p in zip(distribution, x)
        ):
            raise InvalidInputError(
                f"baselines must be a distribution shaped (M, *input_shape) for each input; got "
                f"{[tuple(d.shape) for d in distribution]} for inputs {[tuple(p.shape) for p in x]}"
            )
        return tuple(d.to(device=p.device, dtype=p.dtype) for d, p in zip(distribution, x))

    def expand_baselines(self, b: Points, repeats: int) -> Points:
        return b

    def attribute_points(self, call: Call, x: Points, b: Points, options: DeepLiftOptions) -> Attribution:
        m = b[0].shape[0]
        attributions, fx, fb = paired_rows(call, self.forward, x, b, torch.arange(m).repeat(call.n_examples), m, options.rule)
        return _result(self.name, attributions, fx, fb, options)
