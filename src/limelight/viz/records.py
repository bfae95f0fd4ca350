"""What every view shows about an explanation, whatever it is drawn with.

Views (HTML, terminal, images) share three things defined here: how the original string is cut
into scored pieces and plain text between them, the facts printed above each text (prediction,
target, explained quantity, method, convergence delta, and the windows of a long text), and how
numbers and invisible characters are written. Names that come from the model's config (labels)
or from settings are written on one line (:func:`one_line`): a newline or a bidirectional
override in a label cannot forge a header fact or a terminal line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation, Span
from limelight.viz.colors import ColorScale, choose_scales

Level = Literal["word", "token"]
ExplanationsLike = Explanation | Iterable[Explanation]

_KEPT_CONTROLS = {"\n", "\t"}
_BIDI_CONTROLS = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
_BIDI_MARKS = {"\u200e", "\u200f", "\u061c"}
"""The left-to-right, right-to-left and Arabic letter marks: invisible, and their bidi classes are plain L, R, AL."""


def as_explanation_list(explanations: ExplanationsLike) -> list[Explanation]:
    """Accept one explanation or an iterable of them; reject anything else and empty input."""
    if not isinstance(explanations, (Explanation, Iterable)):
        raise InvalidInputError(f"views take an Explanation or a list of them, got {type(explanations).__name__}")
    items = [explanations] if isinstance(explanations, Explanation) else list(explanations)
    if not items:
        raise InvalidInputError("nothing to show: pass at least one Explanation")
    wrong = sorted({type(item).__name__ for item in items if not isinstance(item, Explanation)})
    if wrong:
        raise InvalidInputError(f"views take limelight Explanation objects, got {', '.join(wrong)}")
    return items


def spans_at(explanation: Explanation, level: Level) -> list[Span]:
    """The explanation's word spans (``level="word"``) or token spans (``level="token"``)."""
    if level == "word":
        return explanation.word_spans
    if level == "token":
        return explanation.token_spans
    raise InvalidInputError(f"level must be 'word' or 'token', got {level!r}")


def visible(text: str) -> str:
    """``text`` with control and bidirectional-override characters written as ``\\xNN``/``\\uNNNN``.

    Such characters would otherwise be invisible, move the cursor in a terminal, or reorder
    the text shown around them; newlines (``\n`` and ``\r\n``) and tabs are kept.
    """
    out = []
    for position, char in enumerate(text):
        line_end = char == "\r" and text[position + 1 : position + 2] == "\n"
        hidden = unicodedata.category(char) == "Cc" and char not in _KEPT_CONTROLS and not line_end
        out.append(_escaped(char) if hidden or _is_bidi_control(char) else char)
    return "".join(out)


def one_line(text: str) -> str:
    """A name (label, method) shown as one line: every control, line separator and bidi override escaped."""
    return "".join(_escaped(char) if unicodedata.category(char) in _LINE_BREAKING or _is_bidi_control(char) else char for char in str(text))


_LINE_BREAKING = {"Cc", "Zl", "Zp"}


def _is_bidi_control(char: str) -> bool:
    return char in _BIDI_MARKS or unicodedata.bidirectional(char) in _BIDI_CONTROLS


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


@dataclass(frozen=True)
class Piece:
    """A run of one segment as shown: a scored span, or plain original text between spans.

    ``index`` is the span's position in :func:`spans_at` (``None`` for plain text).
    ``synthetic`` pieces show the span's own token text because it covers no original
    characters (special tokens, or tokens whose offsets another token already covered).
    """

    text: str
    span: Span | None = None
    index: int | None = None
    synthetic: bool = False


def segment_texts(explanation: Explanation) -> list[str]:
    """The original strings: ``[text]`` or ``[text, text_pair]``."""
    return [explanation.text] if explanation.text_pair is None else [explanation.text, explanation.text_pair]


def pieces(explanation: Explanation, level: Level) -> list[list[Piece]]:
    """Cut each original string into pieces using the spans' character offsets.

    Every character of the original appears exactly once, in order: either inside a scored
    piece or as plain text between pieces.
    """
    texts = segment_texts(explanation)
    by_segment: list[list[tuple[int, Span]]] = [[] for _ in texts]
    for index, span in enumerate(spans_at(explanation, level)):
        if span.segment not in range(len(texts)):
            raise InvalidInputError(
                f"{level} {index} ({span.text!r}) is in segment {span.segment}, but the explanation has "
                f"{len(texts)} text(s); set text_pair for segment 1"
            )
        if not 0 <= span.start <= span.end <= len(texts[span.segment]):
            raise InvalidInputError(
                f"{level} {index} ({span.text!r}) has offsets {span.start}:{span.end} outside its text of "
                f"length {len(texts[span.segment])}; offsets must index the original string"
            )
        by_segment[span.segment].append((index, span))
    return [_cut(text, sorted(spans, key=lambda item: item[1].start)) for text, spans in zip(texts, by_segment)]


def _cut(text: str, spans: list[tuple[int, Span]]) -> list[Piece]:
    result: list[Piece] = []
    cursor = 0
    for index, span in spans:
        if span.start > cursor:
            result.append(Piece(text[cursor : span.start]))
        start = max(span.start, cursor)
        covered = text[start : span.end]
        if covered and not span.special:
            result.append(Piece(covered, span, index))
        else:
            result.append(Piece(span.text, span, index, synthetic=True))
        cursor = max(cursor, span.end)
    if cursor < len(text):
        result.append(Piece(text[cursor:]))
    return result


def is_marked(explanation: Explanation, piece: Piece) -> bool:
    """Whether a scored piece overlaps a span the explained output is about (``Explanation.marks``)."""
    span = piece.span
    if span is None or span.special:
        return False
    return any(segment == span.segment and start < span.end and end > span.start for segment, start, end in explanation.marks)


def format_probability(probability: float) -> str:
    """A probability with the digits that matter: ``0.99``, ``0.0001``, ``1 - 2e-06``."""
    if probability >= 0.999 and probability < 1.0:
        return f"1 - {1.0 - probability:.2g}"
    if probability >= 0.5:
        return f"{probability:.3f}".rstrip("0").rstrip(".")
    return f"{probability:.3g}"


def format_score(score: float) -> str:
    """A score rounded for display, always signed."""
    return f"{score:+.3g}"


def exact_score(score: float) -> str:
    """A score with every digit needed to recover it exactly, always signed."""
    return ("+" if score >= 0 else "") + repr(float(score))


@dataclass(frozen=True)
class Summary:
    """The facts shown above an explanation's text, as plain strings (views escape them)."""

    prediction: str
    target: str
    quantity: str
    method: str
    delta: str
    converged: bool | None
    warning: str | None
    windows: str | None = None

    def items(self) -> list[tuple[str, str]]:
        """``(name, value)`` pairs in display order (``windowed`` only for a text explained in windows)."""
        return [
            ("prediction", self.prediction),
            ("target", self.target),
            ("explains", self.quantity),
            ("method", self.method),
            ("delta", self.delta),
            *([("windowed", self.windows)] if self.windows else []),
        ]

    def lines(self) -> list[list[tuple[str, str]]]:
        """:meth:`items` in lines: what is predicted and explained, then how well (then the windows)."""
        items = self.items()
        return [items[:3], items[3:5], *([items[5:]] if self.windows else [])]


def summarize(explanation: Explanation, level: Level = "word") -> Summary:
    """The header facts of one explanation: what was predicted, what is explained, and how well."""
    probabilities = explanation.probabilities

    def labelled(label: str) -> str:
        return f"{one_line(label)} (p = {format_probability(probabilities[label])})" if label in probabilities else one_line(label)

    target = labelled(explanation.target_label)
    if explanation.contrast_label is not None:
        target += f" vs {labelled(explanation.contrast_label)}"
    prediction = labelled(explanation.predicted_label)
    head = explanation.head
    if head == "regression" and explanation.input_value is not None:
        prediction = f"{explanation.input_value:.4g} (a regression model's value: there is no class)"
        target = "the predicted value"
    elif head == "question_answering":
        prediction = f"answer {one_line(explanation.predicted_label)!r}"
        target = {"start": "start logit of the answer", "end": "end logit of the answer"}.get(
            explanation.target_label, "start + end logit of the answer"
        )
    elif head == "token_classification":
        marked = ", ".join(one_line(explanation.text[a:b]) for seg, a, b in explanation.marks if seg == 0)
        target += f" at token {marked!r}" if marked else ""
    elif not probabilities and head != "sentence_similarity":
        prediction += " (the model's only output: a score, not a class probability)"
    count = len(explanation.windows)
    summed = f", sum over {count} windows" if explanation.is_windowed else ""
    quantity = one_line(explanation.quantity)
    if explanation.input_value is not None and explanation.baseline_value is not None:
        quantity += f" = {explanation.input_value:.4g} (input{summed}) vs {explanation.baseline_value:.4g} ({one_line(explanation.baseline)} baseline{summed})"
    windows = None
    if explanation.is_windowed:
        windows = (
            f"{count} windows: the text is longer than the model reads at once; each word's score comes from one window, "
            "the input and baseline values and delta are sums over windows, probabilities come from the mean of their logits"
        )
    steps = explanation.n_steps
    method = one_line(explanation.method) + ("" if steps is None else f", {steps} step{'' if steps == 1 else 's'}")
    method += f", {level} level"
    converged = explanation.converged
    warning = None
    if explanation.delta is None:
        delta = "n/a (method makes no completeness promise)"
    else:
        delta = format_score(explanation.delta)
        if converged is True:
            delta += f" (within relative tolerance {explanation.tolerance:g})"
        elif converged is False:
            delta += f" (ABOVE relative tolerance {explanation.tolerance:g})"
            warning = (
                f"not converged: delta {format_score(explanation.delta)} is above the relative tolerance "
                f"{explanation.tolerance:g}, so the scores do not add up to the explained change; use more steps"
            )
    return Summary(prediction, target, quantity, method, delta, converged, warning, windows)


def color_scales(explanations: list[Explanation], level: Level, scale: str | float, percentile: float) -> list[ColorScale]:
    """One colour scale per explanation, from the scores shown at ``level`` (see :func:`choose_scales`)."""
    return choose_scales([[span.score for span in spans_at(e, level)] for e in explanations], scale, percentile)
