"""What every perturbation method shares: construction, one attribution call, and the result.

A method only says which coalitions to evaluate and how their values become per-feature
scores (:meth:`PerturbationMethod._scores`); this module validates the common arguments,
binds the model, probes the forward, sizes chunks and spreads the scores back over the inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import TypedDict

import torch
from torch import Tensor

from ...errors import InvalidInputError
from ..binding import bind_model, check_forward_spec, chunk_limits
from ..forward import OutputSpec, eval_mode, find_modules
from ..inputs import BaselineSpec, Inputs, as_tuple, resolve_baselines, restore_structure
from ..result import Attribution
from ..spaces import Points
from ..targets import TargetSpec
from .evaluator import CoalitionEvaluator, rows_for_memory
from .features import FeatureMask, Features, resolve_features
from .perturbers import MaskedBaseline, Perturber
from .probe import check_perturbed_forward


class CommonOptions(TypedDict, total=False):
    """Keyword arguments every perturbation ``attribute`` takes (see :class:`PerturbationMethod`)."""

    perturber: Perturber | None
    additional_forward_args: Any
    forward_kwargs: Mapping[str, Any] | None
    internal_batch_size: int | None
    memory_budget: int | str | None
    show_progress: bool | None


class PerturbationOptions(CommonOptions, total=False):
    """:class:`CommonOptions` and ``feature_mask``, for the methods that take feature groups."""

    feature_mask: FeatureMask


@dataclass(frozen=True)
class Scores:
    """A method's per-feature scores ``(N, width)`` (float64) and the evidence that goes with them."""

    feature_scores: Tensor
    delta: Tensor | None = None
    input_values: Tensor | None = None
    baseline_values: Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class PerturbationMethod:
    """Base of perturbation methods: ``Method(forward, ...)`` then ``.attribute(inputs, ...)``.

    ``forward`` is a model or a callable as for the gradient methods (``output`` picks the tensor
    to explain; models run in eval mode unless ``eval_mode=False``; ``check_forward`` probes that
    output rows depend only on their own input row). Every ``attribute`` takes:

    - ``baselines``: what absent features are replaced by (zeros by default), as for the gradient methods;
    - ``feature_mask``: integer feature ids per element, one tensor per input, broadcastable to it
      (``0..F-1`` per example; ``-1`` for elements never perturbed); by default each element is a feature;
    - ``perturber``: a :class:`~limelight.engine.perturbation.Perturber` that builds the perturbed
      inputs itself (then ``baselines`` must be left out);
    - ``internal_batch_size`` (rows per forward) or ``memory_budget`` (bytes, or ``"512MB"``) to size
      chunks; results do not depend on either;
    - ``show_progress``: a progress bar on stderr (by default for long runs in a terminal).

    Results carry ``extras["feature_scores"]`` ``(N, F)`` (zero past an example's own count,
    ``extras["n_features"]``) and ``extras["evaluations"]``, the number of rows evaluated.
    """

    name = "perturbation"

    def __init__(self, forward: Callable[..., Any], *, output: OutputSpec = "logits", eval_mode: bool = True, check_forward: bool = True) -> None:
        check_forward_spec(forward, output)
        self.forward = forward
        self.output = output
        self.eval_mode = eval_mode
        self.check_forward = check_forward

    def _run(
        self,
        inputs: Inputs,
        baselines: BaselineSpec,
        target: TargetSpec,
        options: dict[str, Any],
        *,
        feature_mask: FeatureMask = None,
        perturber: Perturber | None = None,
        additional_forward_args: Any = None,
        forward_kwargs: Mapping[str, Any] | None = None,
        internal_batch_size: int | None = None,
        memory_budget: int | str | None = None,
        show_progress: bool | None = None,
    ) -> Attribution:
        """The template of every ``attribute``: validate, bind, probe, size chunks, score, spread."""
        points = as_tuple(inputs)
        features = self._features(feature_mask, points)
        options = self._prepare(features, options)
        budget = chunk_limits(internal_batch_size, memory_budget)
        if show_progress not in (None, True, False):
            raise InvalidInputError(f"show_progress must be True, False or None (automatic), got {show_progress!r}")
        model = bind_model(self.forward, self.output, points[0].shape[0], target, additional_forward_args, forward_kwargs)
        chosen = _choose_perturber(perturber, baselines, points, features)
        with eval_mode(find_modules(self.forward), self.eval_mode):
            if self.check_forward:
                check_perturbed_forward(model, chosen, features)
            chunk = internal_batch_size or rows_for_memory(model, chosen, features.width, budget)
            evaluator = CoalitionEvaluator(model, chosen, features, chunk, show_progress, self.name)
            scores = self._scores(evaluator, options)
        spread = features.spread(scores.feature_scores)
        attributions = tuple(s.to(x.dtype if x.dtype.is_floating_point else torch.get_default_dtype()) for s, x in zip(spread, points))
        extras = {"feature_scores": scores.feature_scores, "n_features": features.counts, "evaluations": evaluator.evaluations, **scores.extras}
        return Attribution(
            restore_structure(attributions, inputs), method=self.name, delta=scores.delta,
            input_values=scores.input_values, baseline_values=scores.baseline_values, extras=extras,
        )

    def _features(self, feature_mask: FeatureMask, points: Points) -> Features:
        """The features this method perturbs (the user's mask, or each element)."""
        return resolve_features(feature_mask, points)

    def _prepare(self, features: Features, options: dict[str, Any]) -> dict[str, Any]:
        """Check the options against the features, before any forward, and precompute what needs them."""
        return options

    def _scores(self, evaluator: CoalitionEvaluator, options: dict[str, Any]) -> Scores:
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


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """A sample count (or similar) at the API boundary: an int of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def resolve_seed(seed: int | None) -> int:
    """A sampled method's seed; ``None`` draws one from torch's global RNG (so ``torch.manual_seed`` works too).

    The seed used is reported in ``extras["seed"]`` so that any run can be repeated.
    """
    if seed is None:
        return int(torch.randint(0, 2**62, (1,)))
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInputError(f"seed must be an int or None, got {seed!r}")
    return seed


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
