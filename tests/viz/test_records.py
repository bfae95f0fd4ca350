"""What every view shows: text cut at the original offsets, header facts, alignment of texts."""

from __future__ import annotations

import random

import pytest

from limelight.errors import InvalidInputError
from limelight.text.explanation import Span
from limelight.viz.align import align
from limelight.viz.records import (
    as_explanation_list,
    exact_score,
    format_probability,
    pieces,
    summarize,
    visible,
)
from tests.viz.builders import AMAZING, AMAZING_SCORES, make_explanation


def _original(segment):
    return "".join(p.text for p in segment if not p.synthetic)


def test_pieces_rebuild_the_original_strings_exactly():
    text, pair = "  Wow,  it's\tgood!! ", "Really?\nYes."
    explanation = make_explanation(text, [1.0] * 7, text_pair=pair, pair_scores=[0.5] * 4)
    for level in ("word", "token"):
        first, second = pieces(explanation, level)
        assert _original(first) == text and _original(second) == pair
    word_pieces = [p for p in pieces(explanation, "word")[0] if p.span is not None]
    assert [p.text for p in word_pieces] == ["Wow", ",", "it", "'", "s", "good", "!!"]
    assert [p.index for p in word_pieces] == list(range(7))


def test_special_tokens_show_as_synthetic_pieces_in_model_order():
    segment = pieces(make_explanation(AMAZING, AMAZING_SCORES), "token")[0]
    assert (segment[0].text, segment[0].synthetic) == ("[CLS]", True)
    assert (segment[-1].text, segment[-1].synthetic) == ("[SEP]", True)
    assert not any(p.synthetic for p in segment[1:-1])


def test_tokens_sharing_offsets_are_shown_once_then_by_their_own_text():
    explanation = make_explanation("ab", [1.0])
    explanation.token_spans = [Span("Ġa", 0, 1, 0.2), Span("Ġa#", 0, 1, 0.3), Span("b", 1, 2, 0.1)]
    segment = pieces(explanation, "token")[0]
    assert [(p.text, p.synthetic) for p in segment] == [("a", False), ("Ġa#", True), ("b", False)]


@pytest.mark.parametrize("span", [Span("x", 3, 99, 1.0), Span("x", -1, 2, 1.0), Span("x", 0, 1, 1.0, segment=1)])
def test_spans_that_do_not_index_the_text_are_rejected(span):
    explanation = make_explanation(AMAZING, AMAZING_SCORES)
    explanation.word_spans = [span]
    with pytest.raises(InvalidInputError):
        pieces(explanation, "word")


def test_bad_level_and_bad_inputs_are_rejected():
    explanation = make_explanation(AMAZING, AMAZING_SCORES)
    with pytest.raises(InvalidInputError, match="level"):
        pieces(explanation, "char")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="at least one"):
        as_explanation_list([])
    with pytest.raises(InvalidInputError, match="str"):
        as_explanation_list(["not an explanation"])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="int"):
        as_explanation_list(3)  # type: ignore[arg-type]
    assert as_explanation_list(explanation) == [explanation]


@pytest.mark.parametrize(
    "p, shown",
    [
        (0.99, "0.99"),
        (0.0001, "0.0001"),
        (0.5, "0.5"),
        (0.123456, "0.123"),
        (1.234e-7, "1.23e-07"),
        (0.9999995, "1 - 5e-07"),
        (1.0, "1"),
    ],
)
def test_probabilities_keep_the_digits_that_matter(p, shown):
    assert format_probability(p) == shown


def test_exact_score_round_trips():
    for score in (0.1, -2.0, 1 / 3, 1e-300):
        assert float(exact_score(score)) == score
    assert exact_score(0.5).startswith("+")


def test_summary_states_prediction_target_quantity_method_and_delta():
    converged = summarize(make_explanation(AMAZING, AMAZING_SCORES, p_first=0.0001, contrast_label="negative"))
    assert converged.prediction == "negative (p = 1 - 0.0001)"
    assert converged.target == "positive (p = 0.0001) vs negative (p = 1 - 0.0001)"
    assert converged.quantity.startswith("logit = ")
    assert "integrated_gradients" in converged.method and "64 steps" in converged.method
    assert converged.converged is True and converged.warning is None


def test_summary_warns_when_delta_is_above_tolerance():
    summary = summarize(make_explanation(AMAZING, AMAZING_SCORES, delta=0.5))
    assert summary.converged is False
    assert summary.warning is not None and "not converged" in summary.warning and "+0.5" in summary.warning


def test_summary_without_delta_says_so_without_warning():
    summary = summarize(make_explanation(AMAZING, AMAZING_SCORES, delta=None, method="occlusion"))
    assert summary.converged is None and summary.warning is None and summary.delta.startswith("n/a")


def test_visible_writes_control_and_bidi_characters_out():
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("abc\u202edef") == "abc\\u202edef"
    assert visible("line\nnext\tcol é 日本") == "line\nnext\tcol é 日本"
    assert visible("crlf\r\nlone\rcr") == "crlf\r\nlone\\rcr"


def test_align_minimal_pair_word_for_word():
    first = "the movie was amazing".split()
    second = "the movie was terrible".split()
    assert align([first, second]) == [[0, 1, 2, 3], [0, 1, 2, 3]]


def test_align_puts_inserted_words_in_columns_of_their_own():
    rows = align([["a", "b", "c"], ["a", "x", "y", "b", "c"], ["a", "c"]])
    assert rows == [[0, None, None, 1, 2], [0, 1, 2, 3, 4], [0, None, None, None, 1]]


def test_align_keeps_every_index_once_in_order():
    rng = random.Random(1)
    for _ in range(50):
        sequences = [[rng.choice("abcde") for _ in range(rng.randint(0, 8))] for _ in range(rng.randint(1, 4))]
        rows = align(sequences)
        assert len({len(row) for row in rows}) <= 1
        for row, sequence in zip(rows, sequences):
            assert [i for i in row if i is not None] == list(range(len(sequence)))
        assert align([sequences[0]] * 3) == [list(range(len(sequences[0])))] * 3
