"""Fixtures for the view tests: a minimal pair and hostile texts, built by hand."""

from __future__ import annotations

import pytest

from limelight.text.explanation import Explanation
from tests.viz.builders import (
    AMAZING,
    AMAZING_SCORES,
    HOSTILE_LABEL,
    HOSTILE_TEXTS,
    TERRIBLE,
    TERRIBLE_SCORES,
    WORD,
    make_explanation,
)


@pytest.fixture
def minimal_pair() -> list[Explanation]:
    """The project's founding example: same sentence, one word flipped, very different outputs."""
    return [
        make_explanation(AMAZING, AMAZING_SCORES, p_first=0.99),
        make_explanation(TERRIBLE, TERRIBLE_SCORES, p_first=0.0001, delta=0.5),
    ]


@pytest.fixture
def hostile() -> list[Explanation]:
    """Texts, a pair and label names written to break out of HTML if not escaped."""
    made = [make_explanation(t, [0.4 * (i % 3 - 1) + 0.1 for i in range(len(WORD.findall(t)))]) for t in HOSTILE_TEXTS]
    made.append(
        make_explanation(
            "plain",
            [1.0],
            text_pair=HOSTILE_TEXTS[1],
            pair_scores=-0.3,
            labels=(HOSTILE_LABEL, "</th><script>alert(2)</script>"),
            contrast_label="</th><script>alert(2)</script>",
            method="<i>ig</i>",
            quantity="<u>logit</u>",
        )
    )
    return made
