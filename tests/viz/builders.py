"""Hand-built explanations for the view tests: no model needed."""

from __future__ import annotations

import re

from limelight.engine.evidence import Evidence
from limelight.text.explanation import Explanation, Span

WORD = re.compile(r"\w+|[^\w\s]+")

AMAZING = "The movie was one of those amazing movies"
TERRIBLE = "The movie was one of those terrible movies"
AMAZING_SCORES = [0.05, 0.1, 0.02, -0.05, 0.01, 0.03, 2.5, 0.2]
TERRIBLE_SCORES = [0.04, 0.08, 0.02, -0.04, 0.01, 0.02, -2.0, -0.1]

HOSTILE_TEXTS = [
    '<img src=x onerror="window.__limelight_pwned=1;alert(1)">',
    "</table><script>window.__limelight_pwned=1;alert(1)</script>",
    '"><svg onload="window.__limelight_pwned=1">',
    "</style></title><script>window.__limelight_pwned=1</script> & &amp; done",
]
HOSTILE_LABEL = "<b onmouseover=alert(1)>pos</b>"


def spans_for(text: str, scores: list[float] | float, segment: int = 0) -> list[Span]:
    """One span per word of ``text`` (runs of word characters or of punctuation); one score each, or one for all."""
    matches = list(WORD.finditer(text))
    if isinstance(scores, float):
        scores = [scores] * len(matches)
    if len(matches) != len(scores):
        raise ValueError(f"{len(matches)} words but {len(scores)} scores in {text!r}")
    return [
        Span(m.group(), m.start(), m.end(), score, segment=segment, token_indices=(i,)) for i, (m, score) in enumerate(zip(matches, scores))
    ]


def make_explanation(
    text: str,
    scores: list[float] | float,
    *,
    text_pair: str | None = None,
    pair_scores: list[float] | float = 0.0,
    labels: tuple[str, str] = ("positive", "negative"),
    p_first: float = 0.99,
    delta: float | None = 1e-5,
    **fields: object,
) -> Explanation:
    """An explanation whose tokens are its words plus [CLS]/[SEP] special tokens."""
    words = spans_for(text, scores)
    if text_pair is not None:
        words += spans_for(text_pair, pair_scores, segment=1)
    end = len(text_pair if text_pair is not None else text)
    specials = [Span("[CLS]", 0, 0, 0.3, special=True), Span("[SEP]", end, end, -0.1, 1 if text_pair else 0, True)]
    tokens = [specials[0], *words, specials[1]]
    first, second = labels
    values = {
        "predicted_label": first if p_first >= 0.5 else second,
        "probabilities": {first: p_first, second: 1.0 - p_first},
        "target_label": first,
        "evidence": Evidence(
            delta=delta, input_value=sum(span.score for span in words) + 0.5, baseline_value=0.5, n_steps=64, tolerance=0.01
        ),
    }
    values.update(fields)
    return Explanation(text=text, word_spans=words, token_spans=tokens, text_pair=text_pair, **values)  # type: ignore[arg-type]
