"""What every perturbation method shares: one attribution call, and the result.

A method only says which coalitions to evaluate and how their values become per-feature
scores (:meth:`PerturbationMethod._scores`); this module validates the perturbation arguments,
probes the forward, sizes chunks and spreads the scores back over the inputs. Construction and
the call's prologue are every method's (:class:`~limelight.engine.method.Method`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ...errors import InvalidInputError
from ..chunking import cpu_capped, rows_for_budget
from ..evidence import Evidence
from ..inputs import BaselineSpec, Inputs, as_tuple, resolve_baselines, restore_structure
from ..memo import row_size, signature
from ..method import Method, OptionsT
from ..options import CommonKwargs
from ..result import Attribution, PerturbationExtras, SurrogateFit
from ..spaces import Points
from ..targets import TargetSpec
from .evaluator import CoalitionEvaluator, row_bytes
from .features import FeatureMask, Features, resolve_features
from .perturbers import MaskedBaseline, Perturber
from .probe import check_perturbed_forward


class PerturbationKwargs(CommonKwargs, total=False):
    """:class:`~limelight.engine.options.CommonKwargs` and ``perturber``: every perturbation ``attribute`` takes them."""

    perturber: Perturber | None


class FeatureKwargs(PerturbationKwargs, total=False):
    """:class:`PerturbationKwargs` and ``feature_mask``, for the methods that take feature groups."""

    feature_mask: FeatureMask


@dataclass(frozen=True)
class Scores:
    """A method's per-feature scores ``(N, width)`` (float64) and the evidence that goes with them (sampled Shapley: ``standard_errors``)."""

    feature_scores: Tensor
    delta: Tensor | None = None
    input_value: Tensor | None = None
    baseline_value: Tensor | None = None
    fit: SurrogateFit | None = None
    standard_errors: Tensor | None = None


class PerturbationMethod(Method[OptionsT]):
    """Base of perturbation methods: ``Method(forward, ...)`` then ``.attribute(inputs, ...)``.

    ``forward``, ``output``, ``eval_mode`` and ``check_forward`` are as for every method (see
    :class:`~limelight.engine.method.Method`). Every ``attribute`` takes the common keyword
    arguments (:class:`~limelight.engine.options.CommonKwargs`) and:

    - ``baselines``: what absent features are replaced by (zeros by default), as for the gradient methods;
    - ``feature_mask``: integer feature ids per element, one tensor per input, broadcastable to it
      (``0..F-1`` per example; ``-1`` for elements never perturbed); by default each element is a feature;
    - ``perturber``: a :class:`~limelight.engine.perturbation.Perturber` that builds the perturbed
      inputs itself (then ``baselines`` must be left out).

    Results carry :class:`~limelight.engine.result.PerturbationExtras`: ``feature_scores``
    ``(N, F)`` (zero past an example's own count, ``n_features``) and ``evaluations``, the
    number of rows evaluated.
    """

    name = "perturbation"

    def _run(
        self, inputs: Inputs, baselines: BaselineSpec, target: TargetSpec, options: OptionsT, given: PerturbationKwargs
    ) -> Attribution:
        """The template of every ``attribute``: validate, bind, probe, size chunks, score, spread."""
        kwargs: dict[str, Any] = dict(given)
        feature_mask, perturber = kwargs.pop("feature_mask", None), kwargs.pop("perturber", None)
        points = as_tuple(inputs)
        features = self._features(feature_mask, points)
        prepared = self._prepare(features, options)
        common = self.common_options(kwargs)
        with self.bound(points, target, common) as model:
            chosen = _choose_perturber(perturber, baselines, points, features)
            key = signature(points, model, type(chosen).__name__, self.probe_context())
            if self.check_forward:
                self.memo.check_once(key, lambda: check_perturbed_forward(model, chosen, features))
            chunk = common.internal_batch_size or cpu_capped(
                rows_for_budget(
                    self.memo.bytes_per_row(key, row_size(points, model), lambda: row_bytes(model, chosen, features.width)),
                    common.memory_budget,
                ),
                points[0].device,
            )
            evaluator = CoalitionEvaluator(model, chosen, features, chunk, common.show_progress, self.name)
            scores = self._scores(evaluator, prepared)
        spread = features.spread(scores.feature_scores)
        attributions = tuple(s.to(x.dtype if x.dtype.is_floating_point else torch.get_default_dtype()) for s, x in zip(spread, points))
        evidence = Evidence(delta=scores.delta, input_value=scores.input_value, baseline_value=scores.baseline_value)
        extras = PerturbationExtras(scores.feature_scores, features.counts, evaluator.evaluations, scores.fit, scores.standard_errors)
        return Attribution(restore_structure(attributions, inputs), method=self.name, evidence=evidence, settings=options, extras=extras)

    def _features(self, feature_mask: FeatureMask, points: Points) -> Features:
        """The features this method perturbs (the user's mask, or each element)."""
        return resolve_features(feature_mask, points)

    def _prepare(self, features: Features, options: OptionsT) -> Any:
        """Check the options against the features, before any forward; what it returns goes to :meth:`_scores`."""
        return options

    def _scores(self, evaluator: CoalitionEvaluator, prepared: Any) -> Scores:
        """Per-feature scores from the values of the coalitions the method chooses."""
        raise NotImplementedError


def _choose_perturber(perturber: Perturber | None, baselines: BaselineSpec, points: Points, features: Features) -> Perturber:
    if perturber is None:
        return MaskedBaseline(points, resolve_baselines(baselines, points), features)
    if not callable(getattr(perturber, "perturb", None)):
        raise InvalidInputError(f"perturber must have a perturb(example_index, coalitions) method, got {type(perturber).__name__}")
    if baselines is not None:
        raise InvalidInputError("a custom perturber builds the perturbed inputs itself: give it its baselines and leave baselines=None")
    return perturber


def positions_in_groups(sizes: Tensor) -> Tensor:
    """``0..size-1`` for each consecutive group: ``[2, 3] -> [0, 1, 0, 1, 2]``."""
    starts = sizes.cumsum(0) - sizes
    return torch.arange(int(sizes.sum())) - starts.repeat_interleave(sizes)


def random_subsets(sizes: Tensor, width: int, generator: torch.Generator) -> Tensor:
    """One uniformly random subset of ``range(width)`` per requested size, as ``(len(sizes), width)`` bool."""
    ranks = torch.rand((sizes.shape[0], width), generator=generator).argsort(1).argsort(1)
    return ranks < sizes[:, None]


def pad_columns(coalitions: Tensor, width: int) -> Tensor:
    """Coalitions of one example widened to ``width`` columns (the extra features do not exist)."""
    return torch.nn.functional.pad(coalitions, (0, width - coalitions.shape[1]))


def evaluate_with_ends(evaluator: CoalitionEvaluator, coalitions: list[Tensor]) -> tuple[Tensor, ...]:
    """Values of each example's ``coalitions`` (one batched evaluation), preceded by its full and empty coalition.

    Per example: ``[0]`` is ``f(x)``, ``[1]`` is ``f(baseline)`` and ``[2:]`` the values of its coalitions, in order.
    """
    blocks = [
        pad_columns(
            torch.cat([torch.ones((1, c.shape[1]), dtype=torch.bool), torch.zeros((1, c.shape[1]), dtype=torch.bool), c]),
            evaluator.features.width,
        )
        for c in coalitions
    ]
    sizes = torch.tensor([b.shape[0] for b in blocks])
    return evaluator.evaluate(torch.arange(len(blocks)).repeat_interleave(sizes), torch.cat(blocks)).split(sizes.tolist())
