"""KernelSHAP (Lundberg & Lee, 2017): Shapley values as a weighted linear regression.

Shapley values are the coefficients ``phi`` of the linear model ``v(z) ~ v(none) + z . phi``
fitted with the Shapley kernel ``pi(z) = (F - 1) / (C(F, |z|) |z| (F - |z|))`` under the
constraint ``sum(phi) = v(all) - v(none)``. Coalitions are drawn from the kernel itself (a
size ``k`` with probability proportional to ``1 / (k (F - k))``, then a uniform subset of that
size), so every draw has weight 1; with ``paired=True`` each draw comes with its complement. When
``n_samples`` reaches the ``2^F - 2`` proper coalitions they are all used with their kernel
weights instead, and the fit is exactly the Shapley values. The constraint is solved exactly.

With a budget (``n_evaluations``, or a ``sampling`` other than ``"kernel"``) draws continue
until the budget's *distinct* coalitions are reached, so repeats cost nothing and the budget is
spent in full. ``sampling="stratified"`` (Covert & Lee's paired sampling, stratified by size)
gives each size and its complement's a fixed share of the budget, in proportion to the kernel's
mass on them (at least one pair each, at most all their coalitions), and draws them without
replacement as windows of random orders, so every feature is drawn about equally often; a size
drawn in full has no sampling error. ``sampling="leverage"`` draws sizes uniformly (the
leverage scores of the kernel regression, Musco & Witter 2024) and reweights them. Standard
errors per feature come from the spread of the draws (:mod:`.uncertainty`). With
``regression_adjusted=True`` the fit is corrected by a cubic single-index surrogate whose Shapley
values are exact (:mod:`.adjustment`), once at least ``4 F`` coalitions are drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from typing_extensions import Unpack

from ..inputs import BaselineSpec, Inputs
from ..options import SampledOptions
from ..result import Attribution, SurrogateFit
from ..targets import TargetSpec
from ..validation import check_choice, check_optional_count, seeded_generator
from .adjustment import rows_needed, surrogate_split
from .budget import check_budget, example_generator, too_small
from .evaluator import CoalitionEvaluator
from .method import FeatureKwargs, PerturbationMethod, Scores, evaluate_with_ends, random_subsets
from .shapley import coalition_bits
from .surrogate import sum_constrained_least_squares, weighted_r2
from .uncertainty import regression_standard_errors

EXTRA_SAMPLES = 2048
"""With ``n_samples=None``, ``2 F + 2048`` coalitions per example (the default of the ``shap`` package)."""


SAMPLINGS = ("kernel", "stratified", "leverage")

DRAW_LIMIT = 64
"""Draws stop after ``DRAW_LIMIT`` times the wanted distinct coalitions (near-complete budgets repeat a lot)."""

Drawn = tuple[Tensor, Tensor, Tensor, Tensor]
"""Proper coalitions ``(rows, F)``, their regression weights, each row's draw (unit; ``-1``: exact) and each draw's stratum.

Units and strata are what :func:`~.uncertainty.regression_standard_errors` measures the spread over.
"""


def size_mass(n_features: int, size: int) -> float:
    """The Shapley kernel's total weight on the coalitions of one size: ``(F - 1) / (k (F - k))``."""
    return (n_features - 1) / (size * (n_features - size))


def every_coalition(n_features: int) -> Drawn:
    """All proper coalitions with their kernel weights: the fit is exact."""
    coalitions = coalition_bits(torch.arange(1, 2**n_features - 1), n_features)
    weights = torch.tensor(
        [(n_features - 1) / (math.comb(n_features, k) * k * (n_features - k)) for k in coalitions.sum(1).tolist()], dtype=torch.float64
    )
    return coalitions, weights, torch.full((coalitions.shape[0],), -1), torch.zeros(0, dtype=torch.long)


def kernel_coalitions(n_features: int, n_samples: int, paired: bool, generator: torch.Generator) -> Drawn:
    """``n_samples`` proper coalitions (neither none nor all) drawn from the kernel, and their weights, for one example."""
    if n_features < 2:
        return (
            torch.zeros((0, n_features), dtype=torch.bool),
            torch.zeros(0, dtype=torch.float64),
            torch.zeros(0, dtype=torch.long),
            torch.zeros(0, dtype=torch.long),
        )
    if n_samples >= 2**n_features - 2:
        return every_coalition(n_features)
    sizes = torch.arange(1, n_features)
    drawn = math.ceil(n_samples / 2) if paired else n_samples
    chosen = sizes[torch.multinomial(1 / (sizes * (n_features - sizes)).double(), drawn, replacement=True, generator=generator)]
    coalitions = random_subsets(chosen, n_features, generator)
    if paired:
        coalitions = torch.stack([coalitions, ~coalitions], 1).reshape(-1, n_features)[:n_samples]
    units = torch.arange(n_samples) // 2 if paired else torch.arange(n_samples)
    return (
        coalitions,
        torch.ones(n_samples, dtype=torch.float64),
        units,
        torch.zeros(int(units[-1]) + 1 if n_samples else 0, dtype=torch.long),
    )


def budget_coalitions(n_features: int, budget: int, paired: bool, sampling: str, generator: torch.Generator) -> Drawn:
    """``budget`` distinct proper coalitions (fewer only if draws keep repeating), drawn as ``sampling`` says."""
    if n_features < 2:
        return kernel_coalitions(n_features, 0, paired, generator)
    if budget >= 2**n_features - 2:
        return every_coalition(n_features)
    sizes = torch.arange(1, n_features)
    mass = torch.tensor([size_mass(n_features, int(k)) for k in sizes], dtype=torch.float64)
    proposal = mass / mass.sum() if sampling != "leverage" else torch.full_like(mass, 1 / len(sizes))
    wanted = budget - budget % 2 if paired else budget
    strata = _strata(n_features, sizes.tolist(), paired)
    if sampling == "stratified" and wanted // (2 if paired else 1) >= len(strata):
        rows, weights, units, unit_strata = _stratified_draws(n_features, strata, wanted, paired, generator)
    else:
        rows, units = _distinct_draws(n_features, sizes, proposal, wanted, paired, generator)
        # each row stands for 1 / len(rows) of the kernel's mass, reweighted from the proposal
        ratio = dict(zip(sizes.tolist(), (mass / proposal).tolist()))
        weights = [ratio[int(z.sum())] / len(rows) for z in rows]
        unit_strata = [0] * (units[-1] + 1 if units else 0)
    return (
        torch.stack(rows),
        torch.tensor(weights, dtype=torch.float64),
        torch.tensor(units, dtype=torch.long),
        torch.tensor(unit_strata, dtype=torch.long),
    )


def _strata(n_features: int, sizes: list[int], paired: bool) -> list[list[int]]:
    """The sizes drawn together: a size and its complement's if ``paired``, else each size alone."""
    if not paired:
        return [[k] for k in sizes]
    return [[k] if 2 * k == n_features else [k, n_features - k] for k in sizes if 2 * k <= n_features]


def _allocate(total: int, masses: list[float], capacities: list[int]) -> list[int]:
    """``total`` draws over strata: one each, the rest in proportion to mass (largest remainders), within capacities."""
    counts = [1] * len(masses)
    while sum(counts) < total:
        open_ = [i for i, c in enumerate(counts) if c < capacities[i]]
        if not open_:
            break
        left = total - sum(counts)
        share = sum(masses[i] for i in open_)
        ideal = {i: masses[i] / share * (sum(counts[j] for j in open_) + left) - counts[i] for i in open_}
        step = {i: min(max(int(ideal[i]), 0), capacities[i] - counts[i]) for i in open_}
        if sum(step.values()) == 0:
            step = {max(open_, key=lambda i: ideal[i]): 1}
        for i, extra in step.items():
            counts[i] += extra
    return counts


def _stratified_draws(
    n_features: int, strata: list[list[int]], wanted: int, paired: bool, generator: torch.Generator
) -> tuple[list[Tensor], list[float], list[int], list[int]]:
    """Distinct draws allocated to the strata by mass, balanced within each: rows, weights, units and each unit's stratum.

    A stratum drawn in full is exact: its rows get the unit ``-1`` (no sampling error).
    """
    per_unit = 2 if paired else 1
    masses = [sum(size_mass(n_features, k) for k in stratum) for stratum in strata]
    capacities = [math.comb(n_features, stratum[0]) // (2 if paired and len(stratum) == 1 else 1) for stratum in strata]
    counts = _allocate(wanted // per_unit, masses, capacities)
    rows: list[Tensor] = []
    weights: list[float] = []
    units: list[int] = []
    unit_strata: list[int] = []
    for index, (stratum, mass, count, capacity) in enumerate(zip(strata, masses, counts, capacities)):
        drawn = _balanced_subsets(n_features, stratum[0], count, paired, generator)
        rows += drawn
        weights += [mass / len(drawn)] * len(drawn)
        if len(drawn) == capacity * per_unit:
            units += [-1] * len(drawn)
            continue
        units += [len(unit_strata) + u for u in range(len(drawn) // per_unit) for _ in range(per_unit)]
        unit_strata += [index] * (len(drawn) // per_unit)
    return rows, weights, units, unit_strata


def _balanced_subsets(n_features: int, size: int, count: int, paired: bool, generator: torch.Generator) -> list[Tensor]:
    """``count`` distinct subsets of one size (with complements if ``paired``), cut as windows from random orders.

    Each window of a uniformly random order is a uniformly random subset; the windows of one order,
    stepping by ``size`` around it, hold every feature equally often, so the draws are balanced
    over features, as Latin-hypercube sampling balances a coordinate.
    """
    rows: list[Tensor] = []
    seen: set[bytes] = set()
    windows = n_features // math.gcd(n_features, size)
    for _ in range(DRAW_LIMIT * max(count, 1)):
        if len(rows) >= count * (2 if paired else 1):
            break
        order = torch.rand(n_features, generator=generator).argsort()
        for start in range(windows):
            if len(rows) >= count * (2 if paired else 1):
                break
            z = torch.zeros(n_features, dtype=torch.bool)
            z[order[(start * size + torch.arange(size)) % n_features]] = True
            key = z.numpy().tobytes()
            if key in seen:
                continue
            group = [z, ~z] if paired else [z]
            seen.update(m.numpy().tobytes() for m in group)
            rows += group
    return rows


def _distinct_draws(
    n_features: int, sizes: Tensor, proposal: Tensor, wanted: int, paired: bool, generator: torch.Generator, replace: bool = True
) -> tuple[list[Tensor], list[int]]:
    """Draws (with their complements if ``paired``) until ``wanted`` distinct coalitions: the rows and each row's draw.

    With ``replace`` a repeated draw is kept (it weighs twice, at no cost); without, it is skipped.
    """
    rows: list[Tensor] = []
    units: list[int] = []
    seen: set[bytes] = set()
    draws = attempts = 0
    while len(seen) < wanted and attempts < DRAW_LIMIT * max(wanted, 1):
        batch = max(wanted - len(seen), 1)
        attempts += batch
        chosen = sizes[torch.multinomial(proposal, batch, replacement=True, generator=generator)]
        for z in random_subsets(chosen, n_features, generator):
            if len(seen) >= wanted:
                break
            group = [z, ~z] if paired else [z]
            if not replace and z.numpy().tobytes() in seen:
                continue
            for member in group:
                seen.add(member.numpy().tobytes())
            rows += group
            units += [draws] * len(group)
            draws += 1
    return rows, units


@dataclass(frozen=True)
class KernelShapOptions(SampledOptions):
    """KernelSHAP's options: ``n_samples`` coalitions (``None``: ``2 F + 2048``) or an ``n_evaluations`` budget, ``paired`` draws,
    ``sampling``, ``regression_adjusted``, the ``seed`` used."""

    n_samples: int | None = None
    paired: bool = True
    n_evaluations: int | None = None
    sampling: str = "kernel"
    regression_adjusted: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_optional_count("n_samples", self.n_samples)
        check_budget(self.n_samples, self.n_evaluations)
        check_choice("sampling", self.sampling, SAMPLINGS)
        object.__setattr__(self, "paired", bool(self.paired))
        object.__setattr__(self, "regression_adjusted", bool(self.regression_adjusted))

    @property
    def budgeted(self) -> bool:
        """Whether coalitions are drawn to a distinct-coalition budget, each example from its own stream."""
        return self.n_evaluations is not None or self.sampling != "kernel"


class KernelShap(PerturbationMethod[KernelShapOptions]):
    """Shapley values estimated by the Shapley-kernel regression, efficiency enforced exactly.

    ``n_samples`` proper coalitions per example (``None``: ``2 F + 2048``); exact when it reaches
    ``2^F - 2``. Repeated coalitions are evaluated once. ``n_evaluations=B`` instead spends at
    most ``B`` rows per example (the empty and full coalitions included) on distinct coalitions,
    each example drawing from its own stream; ``sampling="stratified"`` or ``"leverage"`` choose
    how coalitions are drawn (see the module). ``regression_adjusted=True`` corrects the fit with a
    cubic single-index surrogate (:mod:`~limelight.engine.perturbation.adjustment`); with
    ``sampling="stratified"`` it is the most accurate per evaluation. ``extras.fit.r2`` is the weighted R^2 of each
    example's fit (how linear the model looks on these coalitions), ``extras.standard_errors``
    each score's estimated sampling error, and ``settings.seed`` the seed used. ``delta`` is
    ``sum(phi) - (f(x) - f(baseline))``, zero up to rounding.
    """

    name = "kernel_shap"
    options_type = KernelShapOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_samples: int | None = None,
        paired: bool = True,
        seed: int | None = None,
        n_evaluations: int | None = None,
        sampling: str = "kernel",
        regression_adjusted: bool = False,
        **common: Unpack[FeatureKwargs],
    ) -> Attribution:
        """KernelSHAP values of the features of ``inputs`` (see :class:`PerturbationMethod`)."""
        options = self.make_options(
            n_samples=n_samples,
            paired=paired,
            seed=seed,
            n_evaluations=n_evaluations,
            sampling=sampling,
            regression_adjusted=regression_adjusted,
        )
        return self._run(inputs, baselines, target, options, common)

    def _scores(self, evaluator: CoalitionEvaluator, options: KernelShapOptions) -> Scores:
        counts, width = evaluator.features.counts, evaluator.features.width
        drawn = _draw(counts.tolist(), options)
        values = evaluate_with_ends(evaluator, [z for z, *_ in drawn])
        scores = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        errors = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        r2 = torch.full((counts.shape[0],), float("nan"), dtype=torch.float64)
        for example, ((z, weights, units, strata), v) in enumerate(zip(drawn, values)):
            design, gain = z.double(), v[2:] - v[1]
            if design.shape[0] == 0:
                scores[example, : z.shape[1]] = v[0] - v[1]
                continue
            total = v[0] - v[1]
            phi = sum_constrained_least_squares(design, gain, weights, total)
            r2[example] = weighted_r2(gain, design @ phi, weights)
            offset = torch.zeros_like(phi)
            if options.regression_adjusted and bool((units >= 0).any()) and design.shape[0] >= rows_needed(z.shape[1]):
                offset, gain, total = surrogate_split(design, gain, weights, total, phi)
                phi = sum_constrained_least_squares(design, gain, weights, total)
            scores[example, : z.shape[1]] = offset + phi
            errors[example, : z.shape[1]] = regression_standard_errors(design, gain, weights, total, phi, units, strata)
        fx, fb = torch.stack([v[0] for v in values]), torch.stack([v[1] for v in values])
        return Scores(
            scores, delta=scores.sum(1) - (fx - fb), input_value=fx, baseline_value=fb, fit=SurrogateFit(r2), standard_errors=errors
        )


def _draw(counts: list[int], options: KernelShapOptions) -> list[Drawn]:
    """Each example's coalitions: ``n_samples`` draws from one shared stream, or a distinct budget from its own."""
    if not options.budgeted:
        generator = seeded_generator(options.seed)
        return [kernel_coalitions(f, options.n_samples or 2 * f + EXTRA_SAMPLES, options.paired, generator) for f in counts]
    drawn = []
    for i, f in enumerate(counts):
        least = 4 if options.paired else 3
        if options.n_evaluations is not None and options.n_evaluations < least and f > 1:
            raise too_small(options.n_evaluations, i, f, least, "a fit with one draw besides the empty and full coalitions")
        proper = options.n_samples or 2 * f + EXTRA_SAMPLES if options.n_evaluations is None else options.n_evaluations - 2
        drawn.append(budget_coalitions(f, proper, options.paired, options.sampling, example_generator(options.seed, i)))
    return drawn
