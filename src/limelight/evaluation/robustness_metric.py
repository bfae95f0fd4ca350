"""The robustness-based faithfulness metric: how many top-attributed words must go before the decision flips.

Per text, words are erased in the explanation's ranking order (``rank_by``, :func:`.ranking.rank_order`)
with the eraser's fill, and the search of :func:`limelight.robust.minimal_word_deletion` finds the
fewest that flip the model's predicted class (one word less does not). The value is that count as
a fraction of the text's words: lower is better (a faithful explanation puts the words the decision
rests on first, so few must go); ``nan`` when erasing every word does not flip it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from limelight.robust import minimal_word_deletion

from .ranking import rank_order


def words_to_flip(context: Any) -> np.ndarray:
    """Per explanation of a :class:`~.metrics.MetricContext`, the fraction of top words whose erasure flips the decision."""
    subjects = context.eraser.prepare(context.explanations)
    orders = [[int(w) for w in rank_order(s.scores, context.settings.rank_by)] for s in subjects]
    found = minimal_word_deletion(
        context.model, context.tokenizer, context.explanations, fill=context.eraser.fill, mode="linear", orders=orders,
        batch_size=context.eraser.runner.batch_size,
    )  # fmt: skip
    return np.array([item.fraction for item in found], dtype=np.float64)
