"""Training-data attribution: which training examples made a prediction (TracIn, Pruthi et al. 2020).

* :class:`TracInCP`: ``sum_c lr_c * grad L(w_c, z) . grad L(w_c, z')`` over saved checkpoints, with
  per-example gradients of chosen layers batched by ``torch.func`` and optional seeded random
  projections of large layers; :meth:`~TracInCP.influence` gives each test example's top proponents and
  opponents, :meth:`~TracInCP.self_influence` every training example's ``sum_c lr_c * ||grad L(w_c, z)||^2``;
* :class:`TracInCPFast`: the same over the last linear layer only, in closed form;
* results (:class:`Influence`, :class:`SelfInfluence`) name training examples by index and text or
  reference, as JSON, a DataFrame, a terminal listing or HTML; :func:`detection` scores a ranking
  against known flags (found in the top 10%/20%, AUC).
"""

from __future__ import annotations

from .data import Batch, Examples
from .result import Influence, SelfInfluence, TestInfluence, TrainingExample, detection
from .tracin import TracInCP, TracInCPFast

__all__ = [
    "Batch",
    "Examples",
    "Influence",
    "SelfInfluence",
    "TestInfluence",
    "TracInCP",
    "TracInCPFast",
    "TrainingExample",
    "detection",
]
