"""Robustness: adversarial attacks (FGSM, PGD) and the smallest change that flips a decision.

* :class:`FGSM`, :class:`PGD`: Captum's ``perturb(inputs, ...)`` arguments (L-inf and L2 balls,
  random start, masks, targeted or not) on continuous inputs, or on a text model's word embeddings
  through :func:`text_embeddings`;
* :class:`MinimalPerturbation`: per example, the smallest attack strength on a grid that flips the
  prediction (linear or binary search; one step less does not flip); :func:`minimal_word_deletion`:
  the fewest top-attributed words whose deletion flips a text classifier's decision;
* :class:`AttackComparator`: accuracy, flip rate and perturbation size under several attacks and
  augmentations side by side.
"""

from __future__ import annotations

from .comparator import AttackComparator, AttackRow, AttackSummary
from .fgsm import FGSM
from .minimal import MinimalPerturbation, MinimalResult
from .pgd import PGD
from .text import TextEmbeddings, text_embeddings
from .words import WordDeletion, minimal_word_deletion

__all__ = [
    "FGSM",
    "PGD",
    "AttackComparator",
    "AttackRow",
    "AttackSummary",
    "MinimalPerturbation",
    "MinimalResult",
    "TextEmbeddings",
    "WordDeletion",
    "minimal_word_deletion",
    "text_embeddings",
]
