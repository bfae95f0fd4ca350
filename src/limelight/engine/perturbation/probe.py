"""The forward-contract probe for perturbation methods.

Perturbation methods evaluate many perturbed rows per forward, which is only right if each output
row depends on its own input row alone. With the default perturber and floating-point inputs the
gradient engine's probe applies as is (it also tries points far outside the data). Otherwise
(token ids, or a custom perturber) the probe uses perturbed rows: the same pair twice, then the
pair with other rows of other coalitions and examples added; row 0 must not move.

The probe checks the forward, not the method: :class:`~limelight.engine.perturbation.FeaturePermutation`
builds each perturbed row from other examples of the batch by design (its class attribute
``rows_depend_on_batch`` says so, for checks that compare a batch with per-example runs), and
its forward is probed like any other.
"""

from __future__ import annotations

import torch

from ..guards import check_forward, check_independent
from ..model import BoundModel
from ..spaces import InputSpace
from .evaluator import probe_coalitions
from .features import Features
from .perturbers import MaskedBaseline, Perturber


def check_perturbed_forward(model: BoundModel, perturber: Perturber, features: Features) -> None:
    """Raise :class:`BatchDependenceError` if the forward is random or mixes rows of a batch."""
    if isinstance(perturber, MaskedBaseline) and all(x.dtype.is_floating_point for x in perturber.inputs):
        check_forward(InputSpace(), model, perturber.inputs, perturber.baselines)
        return
    full, empty, alternate = probe_coalitions(features.width)
    pair_index = torch.zeros(2, dtype=torch.long)
    last = features.counts.shape[0] - 1
    crowd_index = torch.tensor([0, 0, 0, last, last])
    check_independent(
        lambda rows, index: InputSpace().evaluate(model, rows, index, grad=False)[0],
        perturber.perturb(pair_index, torch.stack([full, empty])),
        pair_index,
        perturber.perturb(crowd_index, torch.stack([full, empty, alternate, alternate, full])),
        crowd_index,
    )
