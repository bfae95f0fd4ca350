"""Feature ablation (leave one out): the drop of the output when one feature is removed.

``score_j = f(x) - f(x without feature j)``: one forward row per feature plus the input itself.
"""

from __future__ import annotations

import torch
from torch import Tensor
from typing_extensions import Unpack

from ..inputs import BaselineSpec, Inputs
from ..options import MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from .evaluator import CoalitionEvaluator
from .method import FeatureKwargs, PerturbationMethod, Scores, positions_in_groups


class FeatureAblation(PerturbationMethod[MethodOptions]):
    """Leave-one-out: each feature's score is how much the output falls when it alone is removed.

    Removed features take the baseline's values (or whatever ``perturber`` does). Every element of
    a feature gets the feature's score. ``input_value`` is ``f(x)``.
    """

    name = "feature_ablation"
    options_type = MethodOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        **common: Unpack[FeatureKwargs],
    ) -> Attribution:
        """Score every feature of ``inputs`` by ablating it alone (see :class:`PerturbationMethod`)."""
        return self._run(inputs, baselines, target, self.make_options(), common)

    def _scores(self, evaluator: CoalitionEvaluator, options: MethodOptions) -> Scores:
        counts, width = evaluator.features.counts, evaluator.features.width
        examples = torch.arange(counts.shape[0]).repeat_interleave(counts + 1)
        removed = positions_in_groups(counts + 1) - 1  # -1: the input itself

        def coalitions(rows: Tensor) -> Tensor:
            column = torch.where(removed[rows] < 0, width, removed[rows])[:, None]
            return torch.ones((rows.shape[0], width + 1), dtype=torch.bool).scatter_(1, column, False)[:, :width]

        values = evaluator.lazy(examples, coalitions)
        whole = removed < 0
        fx = values[whole]
        scores = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        scores[examples[~whole], removed[~whole]] = fx[examples[~whole]] - values[~whole]
        return Scores(scores, input_value=fx)
