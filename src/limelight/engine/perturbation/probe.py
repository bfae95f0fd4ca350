"""The forward-contract probe for perturbation methods.

Perturbation methods evaluate many perturbed rows per forward, which is only right if each output
row depends on its own input row alone. With the default perturber and floating-point inputs the
gradient engine's probe applies as is (it also tries points far outside the data). Otherwise
(token ids, or a custom perturber) the probe uses perturbed rows: the same pair twice, then the
pair with other rows of other coalitions and examples added; row 0 must not move.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ...errors import BatchDependenceError
from ..guards import ATOL, RTOL, check_forward
from ..model import BoundModel
from ..spaces import InputSpace, Points
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
    pair = perturber.perturb(pair_index, torch.stack([full, empty]))
    once, again = _values(model, pair, pair_index), _values(model, pair, pair_index)
    if not torch.allclose(once, again, rtol=RTOL, atol=ATOL):
        raise BatchDependenceError(
            f"the forward returned different values for the same perturbed inputs twice ({once.tolist()} then "
            f"{again.tolist()}): it is random, so attributions would be too. Put the model in eval mode (dropout off)."
        )
    last = features.counts.shape[0] - 1
    crowd_index = torch.tensor([0, 0, 0, last, last])
    crowd = perturber.perturb(crowd_index, torch.stack([full, empty, alternate, alternate, full]))
    moved = _values(model, crowd, crowd_index)
    if not torch.allclose(once[0], moved[0], rtol=RTOL, atol=ATOL):
        raise BatchDependenceError(
            f"output row 0 changed from {once[0].item():.6g} to {moved[0].item():.6g} when other rows joined the batch: "
            "the forward's rows are not independent, so results would depend on how rows are batched. Remove "
            "indexing or reductions over the batch (`[0]`, `.mean(0)`) and choose the explained value with target=."
        )


def _values(model: BoundModel, rows: Points, example_index: Tensor) -> Tensor:
    return InputSpace().evaluate(model, rows, example_index, grad=False)[0]
