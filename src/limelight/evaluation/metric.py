"""What a metric is, for any modality: its name, how to read it, and how it computes itself.

A :class:`Metric` is generic in its context ``C``: whatever one modality's metrics need to score
one method's explanations (for text, :class:`~.metrics.MetricContext`). The recommendation and the
reports read only the metadata, so they stay free of any modality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

C = TypeVar("C", contravariant=True)
"""A metric that computes itself from a general context (the erasure metrics) serves a more specific one too."""


@dataclass(frozen=True)
class Metric(Generic[C]):
    """One column of a comparison: metadata, and ``compute(context)`` -> one value per input (``nan``: undefined).

    ``family`` groups metrics for the recommendation ("faithfulness", "robustness", "sanity",
    "plausibility"); ``re_explains``: computing it explains every input again (a full explanation
    pass or more); ``needs_rationales``: it scores explanations against human rationales;
    ``by_default``: ``compare`` computes it unless told which metrics to compute (metrics that
    re-explain, need rationales or are costly searches are opt-in).
    """

    name: str
    label: str
    higher_is_better: bool
    family: str
    compute: Callable[[C], np.ndarray] = field(repr=False, compare=False)
    re_explains: bool = False
    needs_rationales: bool = False
    by_default: bool = True

    @property
    def arrow(self) -> str:
        """``↑`` when higher is better, else ``↓`` (the table header's hint)."""
        return "↑" if self.higher_is_better else "↓"
