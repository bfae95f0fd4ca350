"""Permutation feature importance (Breiman, 2001; Fisher et al., 2019) for tabular batches.

``score_j(i) = F(x_i) - F(x_i with feature j taken from example perm_j(i))``: each feature is
shuffled *across the batch* with its own random permutation (never the identity), and the drop
of the output is the feature's importance for that example.

This is the one method whose rows legitimately depend on each other: an example's score
depends on which other examples are in the batch (they supply its replacement values), so a
batch does not equal per-example runs, and a batch of one is refused. The forward itself must
still be row-independent, and is probed for it like every other method's
(:data:`FeaturePermutation.rows_depend_on_batch` tells checks that compare a batch with
per-example runs to skip this method).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..inputs import Inputs, as_tuple
from ..options import SampledOptions
from ..result import Attribution
from ..spaces import Points
from ..targets import TargetSpec
from ..validation import seeded_generator
from .ablation import FeatureAblation
from .features import FeatureMask, Features, resolve_features
from .method import FeatureKwargs, PerturbationKwargs


def permutations(features: int, examples: int, generator: torch.Generator) -> Tensor:
    """One permutation of ``range(examples)`` per feature, ``(features, examples)``, none the identity."""
    identity = torch.arange(examples)
    rows = []
    for _ in range(features):
        perm = torch.randperm(examples, generator=generator)
        while torch.equal(perm, identity):
            perm = torch.randperm(examples, generator=generator)
        rows.append(perm)
    return torch.stack(rows)


@dataclass(frozen=True)
class Permuted:
    """A perturber: an absent feature of example ``i`` takes its values from example ``perms[feature, i]``."""

    inputs: Points
    features: Features
    perms: Tensor

    def perturb(self, example_index: Tensor, coalitions: Tensor) -> Points:
        keep = self.features.present(example_index, coalitions)
        device = self.inputs[0].device
        rows = example_index.to(device)
        perms = self.perms.to(device)
        out = []
        for x, ids, present in zip(self.inputs, self.features.ids, keep):
            element_ids = ids[rows].clamp(min=0)
            source = perms[element_ids, rows.reshape(-1, *([1] * (x.dim() - 1))).expand_as(element_ids)]
            flat = x.reshape(x.shape[0], -1)
            shuffled = flat.gather(0, source.reshape(source.shape[0], -1)).view(source.shape)
            out.append(torch.where(present, x[rows], shuffled))
        return tuple(out)


class FeaturePermutation(FeatureAblation):
    """Permutation importance within the batch (needs at least two examples; see the module docs).

    ``feature_mask`` groups elements into features as for :class:`FeatureAblation`; ``seed``
    fixes the permutations (the seed used is in ``settings.seed``). ``input_value`` is ``F(x)``.
    """

    name = "feature_permutation"
    options_type = SampledOptions
    rows_depend_on_batch = True
    """An example's scores depend on the other examples of the batch (by design)."""

    def attribute(  # type: ignore[override]
        self,
        inputs: Inputs,
        target: TargetSpec = None,
        *,
        seed: int | None = None,
        feature_mask: FeatureMask = None,
        **common: Unpack[PerturbationKwargs],
    ) -> Attribution:
        """Score every feature by shuffling it across the batch."""
        if common.get("perturber") is not None:
            raise InvalidInputError("FeaturePermutation builds its own perturbed inputs (shuffled features); it takes no perturber")
        points = as_tuple(inputs)
        if points[0].shape[0] < 2:
            raise InvalidInputError("FeaturePermutation shuffles each feature across the batch, so it needs at least two examples; got one")
        options = SampledOptions(seed=seed)
        features = resolve_features(feature_mask, points)
        perturber = Permuted(points, features, permutations(features.width, points[0].shape[0], seeded_generator(options.seed)))
        given: FeatureKwargs = {**common, "feature_mask": feature_mask, "perturber": perturber}
        return self._run(inputs, None, target, options, given)
