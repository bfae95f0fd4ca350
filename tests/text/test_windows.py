"""Sliding windows over long texts and stitching their scores back."""

from __future__ import annotations

import itertools
import time

import pytest
import torch

from limelight.errors import InvalidInputError
from limelight.text.encoding import encode
from limelight.text.windows import plan_windows, stitch, window_encodings
from limelight.text.words import word_spans
from tests.text.tiny_tokenizers import CORPUS, wordpiece_tokenizer


def long_text(words: int) -> str:
    """A deterministic text of exactly ``words`` whitespace-separated words."""
    return " ".join(itertools.islice(itertools.cycle(" ".join(CORPUS).split()), words))


def agreeing_scores(plan, full):
    """What each window would give if windows agreed with one another: the full scores, picked."""
    return [full[list(window.indices)] for window in plan.windows]


def test_a_text_that_fits_is_one_window_and_stitching_is_identity(tokenizer):
    encoding = encode(tokenizer, "A short text.")
    plan = plan_windows(encoding, max_length=len(encoding))
    assert not plan.is_windowed
    (window,) = plan.windows
    assert window.indices == tuple(range(len(encoding)))
    scores = torch.randn(len(encoding))
    assert torch.equal(stitch(plan, [scores]), scores)


@pytest.mark.parametrize("overlap", [None, 0, 5])
def test_windows_fit_rewrap_specials_and_cover_every_token(tokenizer, overlap):
    text = long_text(120)
    encoding = encode(tokenizer, text)
    max_length = 32
    plan = plan_windows(encoding, max_length, overlap)
    assert plan.is_windowed and len(encoding) > max_length
    content = encoding.content_indices()
    seen = set()
    for window, piece in zip(plan.windows, window_encodings(encoding, plan)):
        assert len(piece) == len(window.indices) <= max_length
        assert piece.input_ids[0] == encoding.input_ids[0] and piece.input_ids[-1] == encoding.input_ids[-1]
        assert piece.special_mask == (True, *[False] * (len(piece) - 2), True)
        assert piece.input_ids[1:-1] == encoding.input_ids[window.content_start : window.content_end]
        assert text[window.char_start : window.char_end].strip() == text[window.char_start : window.char_end]
        seen.update(range(window.content_start, window.content_end))
    assert seen == set(content)
    owned = [index for window in plan.windows for index in range(window.owned_start, window.owned_end)]
    assert owned == content
    assert all(window.owned_end > window.owned_start for window in plan.windows)
    for left, right in itertools.pairwise(plan.windows):
        assert left.content_end - right.content_start >= plan.overlap
        assert left.char_start < right.char_start


def test_stitching_reproduces_scores_when_windows_agree(tokenizer):
    encoding = encode(tokenizer, long_text(80))
    plan = plan_windows(encoding, max_length=24, overlap=6)
    full = torch.randn(len(encoding), 3, dtype=torch.float64)
    assert torch.allclose(stitch(plan, agreeing_scores(plan, full)), full)


def test_stitching_takes_each_token_from_the_window_where_it_is_farthest_from_a_cut():
    encoding = encode(wordpiece_tokenizer(), "a b c d e f g h i j")
    assert len(encoding.content_indices()) == 10
    plan = plan_windows(encoding, max_length=6, overlap=1)
    # Room for 4 content tokens, stride 3: windows over content positions [0,4) [3,7) [6,10).
    # Position 3 is 0 from a cut in both of the first two windows: the tie goes to the earlier.
    assert [(w.content_start - 1, w.content_end - 1) for w in plan.windows] == [(0, 4), (3, 7), (6, 10)]
    assert [(w.owned_start - 1, w.owned_end - 1) for w in plan.windows] == [(0, 4), (4, 7), (7, 10)]
    scores = [torch.full((len(w.indices),), float(k + 1)) for k, w in enumerate(plan.windows)]
    stitched = stitch(plan, scores)
    assert stitched.tolist() == [2.0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 2.0]  # specials: mean of 1, 2, 3


def brute_force_owner(position: int, windows: list[tuple[int, int]], count: int) -> int:
    """The window whose nearest cut (an edge that is not the text's edge) is farthest, first on ties."""
    best, best_distance = -1, -1.0
    for k, (start, end) in enumerate(windows):
        if start <= position < end:
            left = position - start if start > 0 else float("inf")
            right = end - 1 - position if end < count else float("inf")
            if min(left, right) > best_distance:
                best, best_distance = k, min(left, right)
    return best


@pytest.mark.parametrize(("max_length", "overlap"), [(20, 0), (20, 9), (33, 17), (12, 3)])
def test_stitching_rule_matches_a_brute_force_oracle(max_length, overlap):
    encoding = encode(wordpiece_tokenizer(), long_text(70))
    plan = plan_windows(encoding, max_length, overlap)
    first = encoding.content_indices()[0]
    count = len(encoding.content_indices())
    spans = [(w.content_start - first, w.content_end - first) for w in plan.windows]
    scores = [torch.full((len(w.indices),), float(k)) for k, w in enumerate(plan.windows)]
    stitched = stitch(plan, scores)
    expected = [brute_force_owner(p, spans, count) for p in range(count)]
    assert stitched[first : first + count].tolist() == expected


def test_pairs_slide_the_longer_text_and_keep_the_other_whole(tokenizer):
    premise, hypothesis = long_text(60), "An animal is outside."
    encoding = encode(tokenizer, premise, hypothesis)
    plan = plan_windows(encoding, max_length=40)
    assert plan.is_windowed and plan.segment == 0
    hypothesis_tokens = encoding.content_indices(1)
    for piece, window in zip(window_encodings(encoding, plan), plan.windows):
        assert set(hypothesis_tokens) <= set(window.indices)
        assert len(piece) <= 40
        assert piece.segments == tuple(sorted(piece.segments))
        if encoding.token_type_ids is not None:
            assert piece.token_type_ids == piece.segments
    full = torch.randn(len(encoding), dtype=torch.float64)
    assert torch.allclose(stitch(plan, agreeing_scores(plan, full)), full)

    swapped = encode(tokenizer, hypothesis, premise)
    assert plan_windows(swapped, max_length=40).segment == 1


def test_fixed_tokens_that_fill_the_window_are_an_error():
    tokenizer = wordpiece_tokenizer()
    encoding = encode(tokenizer, long_text(40), long_text(30))
    with pytest.raises(InvalidInputError, match="leaving no room"):
        plan_windows(encoding, max_length=len(encoding.content_indices(1)) + 3)


@pytest.mark.parametrize(("max_length", "overlap"), [(0, None), (10, -1), (10, 8), (10, 50)])
def test_bad_window_settings(max_length, overlap):
    encoding = encode(wordpiece_tokenizer(), long_text(30))
    with pytest.raises(InvalidInputError):
        plan_windows(encoding, max_length, overlap)


def test_stitch_checks_its_inputs():
    encoding = encode(wordpiece_tokenizer(), long_text(30))
    plan = plan_windows(encoding, max_length=16)
    scores = agreeing_scores(plan, torch.zeros(len(encoding)))
    with pytest.raises(InvalidInputError, match="windows"):
        stitch(plan, scores[1:])
    with pytest.raises(InvalidInputError, match="window 0"):
        stitch(plan, [scores[0][1:], *scores[1:]])
    with pytest.raises(InvalidInputError):
        window_encodings(encode(wordpiece_tokenizer(), "short"), plan)


def test_three_thousand_words(tokenizer):
    text = long_text(3000)
    began = time.perf_counter()
    encoding = encode(tokenizer, text)
    plan = plan_windows(encoding, max_length=tokenizer.model_max_length)
    pieces = window_encodings(encoding, plan)
    full = torch.randn(len(encoding), dtype=torch.float64)
    stitched = stitch(plan, agreeing_scores(plan, full))
    words = word_spans(encoding, stitched, "whitespace")
    elapsed = time.perf_counter() - began
    assert all(len(piece) <= tokenizer.model_max_length for piece in pieces)
    assert torch.allclose(stitched, full)
    assert [word.text for word in words] == text.split()
    assert plan.windows[0].char_start == 0 and plan.windows[-1].char_end == len(text)
    assert elapsed < 10.0, f"3,000 words took {elapsed:.1f}s"
