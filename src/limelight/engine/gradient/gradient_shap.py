"""GradientSHAP: expected gradients over a baseline distribution, with input noise.

Each of ``n_samples`` rows per example draws a baseline ``b`` from the given distribution, a
point ``a ~ U(0, 1)`` on the path and noise ``e ~ N(0, stdevs^2)``, and contributes
``(x + e - b) * grad f(b + a (x + e - b)) / n_samples``. In expectation this is Integrated
Gradients averaged over baselines, which approximates SHAP values (Lundberg & Lee, 2017).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..accumulate import RowPlan
from ..convergence import completeness_delta
from ..evidence import Evidence
from ..inputs import Inputs, as_tuple, call_baselines
from ..options import CommonKwargs, SampledOptions
from ..result import Attribution
from ..targets import TargetSpec
from ..validation import check_count, seeded_generator
from .method import Call, GradientMethod, Points, per_tensor

Stdevs = float | tuple[float, ...]


@dataclass(frozen=True)
class GradientShapOptions(SampledOptions):
    """GradientSHAP's options: ``n_samples`` rows per example, input noise ``stdevs``, and the ``seed`` used."""

    n_samples: int = 5
    stdevs: Stdevs = 0.0
    multiply_by_inputs: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("n_samples", self.n_samples)
        object.__setattr__(self, "multiply_by_inputs", bool(self.multiply_by_inputs))


class GradientShap(GradientMethod[GradientShapOptions]):
    """GradientSHAP over a distribution of baselines (a tensor, or a tuple, of shape ``(M, ...)``).

    Reproducible with ``seed`` (the seed used, drawn when ``None``, is in ``settings.seed``).
    ``delta`` is ``sum(attributions) - (f(x) - mean f(b))`` over the sampled baselines: a
    Monte-Carlo check that shrinks as ``n_samples`` grows. ``multiply_by_inputs=False`` (Captum's
    constructor argument) gives the expected gradient alone, without a delta.
    """

    name = "gradient_shap"
    options_type = GradientShapOptions

    def __init__(self, forward: Any, layer: Any = None, *, multiply_by_inputs: bool = True, **kwargs: Any) -> None:
        super().__init__(forward, layer, **kwargs)
        self.multiply_by_inputs = bool(multiply_by_inputs)

    def attribute(
        self,
        inputs: Inputs,
        baselines: Tensor | tuple[Tensor, ...],
        target: TargetSpec = None,
        *,
        n_samples: int = 5,
        stdevs: Stdevs = 0.0,
        seed: int | None = None,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """Attribute ``target`` to ``inputs`` as the expected gradient over ``baselines``."""
        return self.run(inputs, baselines, target, self.make_options(n_samples=n_samples, stdevs=stdevs, seed=seed), common)

    def make_options(self, **given: Any) -> GradientShapOptions:
        if self.layer is not None:
            raise InvalidInputError("GradientShap attributes to the inputs; construct it without a layer")
        given.setdefault("multiply_by_inputs", self.multiply_by_inputs)
        return super().make_options(**given)

    def _baselines(self, call: Call, x: Points, baselines: Any, layer_baselines: Any = None) -> Points:
        return baseline_distribution(baselines, x)

    def expand_baselines(self, b: Points, repeats: int) -> Points:
        return b

    def attribute_points(self, call: Call, x: Points, b: Points, options: GradientShapOptions) -> Attribution:
        return expected_gradients(call, x, b, options, self.name)


def baseline_distribution(baselines: Any, x: Points) -> Points:
    """Baselines given as a distribution ``(M, *input_shape)`` per input, on the inputs' device and dtype."""
    distribution = as_tuple(call_baselines(baselines, x), "baselines")
    if len(distribution) != len(x) or any(d.shape[1:] != p.shape[1:] for d, p in zip(distribution, x)):
        raise InvalidInputError(
            f"baselines must be a distribution shaped (M, *input_shape) for each input; got "
            f"{[tuple(d.shape) for d in distribution]} for inputs {[tuple(p.shape) for p in x]}"
        )
    return tuple(d.to(device=p.device, dtype=p.dtype) for d, p in zip(distribution, x))


Increments = Callable[[Points, Points, Tensor], Points]
"""``(noisy input rows, baseline rows, example index) -> factors`` the sampled gradients are multiplied by."""


def expected_gradients(
    call: Call, x: Points, b: Points, options: GradientShapOptions, name: str, increments: Increments | None = None
) -> Attribution:
    """GradientSHAP's sampled rows in ``call``'s space, gradients times ``increments`` (default: input minus baseline).

    The gradients are wherever the space takes them (the inputs, or a layer, whose increments
    are then the layer's values at the noisy input minus at the baseline).
    """
    count, samples = call.n_examples, options.n_samples
    generator = seeded_generator(options.seed)
    examples = torch.arange(count).repeat_interleave(samples)
    chosen = torch.randint(b[0].shape[0], (count * samples,), generator=generator)
    alphas = torch.rand(count * samples, generator=generator, dtype=torch.float64)
    stdevs = per_tensor(options.stdevs, len(x), "inputs")
    noisy = tuple(
        p[examples] + s * torch.randn(p[examples].shape, generator=generator, dtype=p.dtype).to(p.device) for p, s in zip(x, stdevs)
    )

    def points(rows: Tensor) -> Points:
        return tuple(
            d[chosen[rows]] + alphas[rows].to(d.dtype).reshape(-1, *([1] * (d.dim() - 1))) * (n[rows] - d[chosen[rows]])
            for d, n in zip(b, noisy)
        )

    def factors(rows: Tensor) -> Points:
        noisy_rows, baseline_rows = tuple(n[rows] for n in noisy), tuple(d[chosen[rows]] for d in b)
        if increments is None:
            return tuple(n - d for n, d in zip(noisy_rows, baseline_rows))
        return increments(noisy_rows, baseline_rows, examples[rows])

    plan = RowPlan(
        examples,
        examples,
        torch.full((count * samples,), 1.0 / samples, dtype=torch.float64),
        count,
        points,
        multipliers=factors if options.multiply_by_inputs else None,
        describe_row=lambda row: f"sample {row % samples}",
    )
    chunk = call.chunk_rows(x, tuple(d[chosen[::samples]] for d in b))
    sums = call.run(plan, chunk).gradient_sums
    attributions = tuple(s.to(x[i].dtype if increments is None else x[0].dtype) for i, s in enumerate(sums))
    fx, fb = _expected_values(call, x, b, examples, chosen, chunk)
    delta = completeness_delta(attributions, fx - fb) if options.multiply_by_inputs else None
    evidence = Evidence(delta=delta, input_value=fx, baseline_value=fb)
    return Attribution(attributions, method=name, evidence=evidence, settings=options)


def _expected_values(call: Call, x: Points, b: Points, examples: Tensor, chosen: Tensor, chunk: int) -> tuple[Tensor, Tensor]:
    """``f(x)`` per example and the mean of ``f`` over each example's sampled baselines (one no-grad pass)."""
    count = call.n_examples
    pairs = torch.unique(examples * b[0].shape[0] + chosen, return_counts=True)
    pair_examples, pair_baselines = pairs[0] // b[0].shape[0], pairs[0] % b[0].shape[0]
    row_examples = torch.cat([torch.arange(count), pair_examples])
    stacked = tuple(torch.cat([p, d[pair_baselines.to(d.device)]]) for p, d in zip(x, b))

    def points(rows: Tensor) -> Points:
        return tuple(t[rows] for t in stacked)

    plan = RowPlan(row_examples, row_examples, torch.ones(row_examples.shape[0], dtype=torch.float64), count, points)
    values = call.run(plan, chunk, grad=False).values
    counts = pairs[1].to(torch.float64)
    fb = torch.zeros(count, dtype=torch.float64).index_add_(0, pair_examples, values[count:] * counts)
    fb = fb / torch.zeros(count, dtype=torch.float64).index_add_(0, pair_examples, counts)
    return values[:count], fb
