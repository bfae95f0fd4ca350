"""Words as spans of the original text, and pooling token scores into word scores."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from limelight.errors import InvalidInputError
from limelight.text.encoding import encode
from limelight.text.words import POOLINGS, group_words, pool, token_spans, word_spans
from tests.text.conftest import TEXTS
from tests.text.tiny_tokenizers import bpe_tokenizer, unigram_tokenizer, wordpiece_tokenizer

PAIR = ("A dog is running in the park.", "An animal is outside, it's sunny.")


def random_scores(encoding, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(len(encoding), generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("grouping", ["tokenizer", "whitespace"])
@pytest.mark.parametrize("text", TEXTS)
def test_words_are_exact_spans_of_the_original_text(tokenizer, text, grouping):
    encoding = encode(tokenizer, text)
    for span in word_spans(encoding, random_scores(encoding), grouping):
        assert text[span.start : span.end] == span.text
        assert span.text == span.text.strip() and span.text
        assert not span.special and span.segment == 0


@pytest.mark.parametrize("text", TEXTS)
def test_whitespace_words_are_the_readers_words(tokenizer, text):
    encoding = encode(tokenizer, text)
    assert [span.text for span in word_spans(encoding, random_scores(encoding), "whitespace")] == text.split()


def test_pair_words_point_into_text_pair(tokenizer):
    encoding = encode(tokenizer, *PAIR)
    spans = word_spans(encoding, random_scores(encoding), "whitespace")
    for segment, source in enumerate(PAIR):
        words = [span for span in spans if span.segment == segment]
        assert [span.text for span in words] == source.split()
        assert all(source[span.start : span.end] == span.text for span in words)
    assert [span.segment for span in spans] == sorted(span.segment for span in spans)


@pytest.mark.parametrize(
    ("build", "text", "expected"),
    [
        (wordpiece_tokenizer, "Don't stop, it's fine!", ["Don", "'", "t", "stop", ",", "it", "'", "s", "fine", "!"]),
        (bpe_tokenizer, "Don't stop, it's fine!", ["Don", "'t", "stop", ",", "it", "'s", "fine", "!"]),
        (unigram_tokenizer, "Don't stop, it's\tfine!", ["Don't", "stop,", "it's\tfine!"]),
    ],
    ids=["wordpiece", "bpe", "unigram"],
)
def test_tokenizer_grouping_follows_the_pre_tokenizer(build, text, expected):
    encoding = encode(build(), text)
    assert [span.text for span in word_spans(encoding, random_scores(encoding))] == expected


@pytest.mark.parametrize("grouping", ["tokenizer", "whitespace"])
@pytest.mark.parametrize("text", [*TEXTS, "   ", ""])
def test_words_partition_the_content_tokens(tokenizer, text, grouping):
    encoding = encode(tokenizer, text, "a pair too")
    words = group_words(encoding, grouping)
    indices = [index for word in words for index in word.token_indices]
    assert indices == encoding.content_indices()
    for word in words:
        assert list(word.token_indices) == list(range(word.token_indices[0], word.token_indices[-1] + 1))
        assert {encoding.segments[index] for index in word.token_indices} == {word.segment}


@pytest.mark.parametrize("grouping", ["tokenizer", "whitespace"])
@pytest.mark.parametrize("text", TEXTS)
def test_sum_pooling_keeps_the_total(tokenizer, text, grouping):
    encoding = encode(tokenizer, text, PAIR[1])
    scores = random_scores(encoding, seed=len(text))
    content = scores[encoding.content_indices()].sum().item()
    words = word_spans(encoding, scores, grouping)
    assert math.isclose(sum(span.score for span in words), content, rel_tol=1e-12, abs_tol=1e-12)


def test_whitespace_only_tokens_form_an_empty_word_when_nothing_else_is_there():
    tokenizer = bpe_tokenizer(trim_offsets=False)
    encoding = encode(tokenizer, "   ")
    (word,) = word_spans(encoding, torch.ones(len(encoding)))
    assert (word.text, word.start, word.end) == ("", 3, 3)
    assert word.score == len(encoding.content_indices())


def test_leading_space_tokens_join_the_next_word():
    tokenizer = bpe_tokenizer(trim_offsets=False)
    text = "a  b"
    encoding = encode(tokenizer, text)
    assert encoding.tokens[1:-1] == ("a", "Ġ", "Ġb")
    words = group_words(encoding)
    assert [(text[w.start : w.end], w.token_indices) for w in words] == [("a", (1,)), ("b", (2, 3))]


def test_token_spans():
    tokenizer = wordpiece_tokenizer()
    encoding = encode(tokenizer, *PAIR)
    scores = random_scores(encoding)
    spans = token_spans(encoding, scores)
    assert len(spans) == len(encoding)
    for index, span in enumerate(spans):
        assert span.token_indices == (index,)
        assert span.score == scores[index].item()
        assert span.special == encoding.special_mask[index]
        if span.special:
            assert span.start == span.end and span.text == encoding.tokens[index]
        else:
            assert span.text == PAIR[span.segment][span.start : span.end]
    assert [span.text for span in spans if span.special] == ["[CLS]", "[SEP]", "[SEP]"]
    assert [span.segment for span in spans if span.special] == [0, 0, 1]


def test_scores_must_be_one_per_token():
    encoding = encode(wordpiece_tokenizer(), "some text")
    with pytest.raises(InvalidInputError, match="one score per token"):
        word_spans(encoding, torch.zeros(len(encoding), 8))
    with pytest.raises(InvalidInputError):
        token_spans(encoding, [0.0])
    with pytest.raises(InvalidInputError):
        group_words(encoding, "sentences")  # type: ignore[arg-type]


SCORES = [1.0, -3.0, 2.0, 0.5, 9.0]
GROUPS = [[0, 1, 2], [3]]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("sum", [0.0, 0.5]),
        ("mean", [0.0, 0.5]),
        ("max", [2.0, 0.5]),
        ("abs_max", [-3.0, 0.5]),
        ("l2", [math.sqrt(14.0), 0.5]),
    ],
)
def test_pooling_by_hand(method, expected):
    pooled = pool(torch.tensor(SCORES), GROUPS, method)
    assert isinstance(pooled, torch.Tensor)
    assert pooled.tolist() == pytest.approx(expected)
    from_numpy = pool(np.array(SCORES), GROUPS, method)
    assert isinstance(from_numpy, np.ndarray)
    assert from_numpy.tolist() == pytest.approx(expected)


def test_pooling_keeps_trailing_dimensions():
    scores = torch.tensor([[1.0, -1.0], [3.0, -4.0], [5.0, 0.0]])
    assert pool(scores, [[0, 1], [2]], "sum").tolist() == [[4.0, -5.0], [5.0, 0.0]]
    assert pool(scores, [[0, 1], [2]], "abs_max").tolist() == [[3.0, -4.0], [5.0, 0.0]]
    expected_l2 = torch.tensor([[math.sqrt(10), math.sqrt(17)], [5.0, 0.0]])
    assert torch.allclose(pool(scores, [[0, 1], [2]], "l2"), expected_l2)


def test_abs_max_tie_is_positive_and_ints_are_floats():
    assert pool(torch.tensor([2, -2]), [[0, 1]], "abs_max").tolist() == [2.0]
    assert pool(torch.tensor([-2, 2]), [[0, 1]], "abs_max").tolist() == [2.0]


@pytest.mark.parametrize("method", POOLINGS)
def test_pooling_single_token_words_is_identity_except_l2(method):
    scores = torch.tensor([0.25, -1.5, 3.0])
    expected = scores.abs() if method == "l2" else scores
    assert torch.allclose(pool(scores, [[0], [1], [2]], method), expected)


@pytest.mark.parametrize(
    ("groups", "method", "message"),
    [
        ([[0, 1], [1]], "sum", "disjoint"),
        ([[0, 0]], "sum", "disjoint"),
        ([[]], "sum", "empty"),
        ([[7]], "sum", "outside"),
        ([[0]], "median", "pooling must be one of"),
    ],
)
def test_pooling_rejects_bad_groups(groups, method, message):
    with pytest.raises(InvalidInputError, match=message):
        pool(torch.tensor(SCORES), groups, method)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_word_scores_use_the_requested_pooling(pooling):
    encoding = encode(wordpiece_tokenizer(), "wonderful goers")
    scores = random_scores(encoding)
    words = group_words(encoding)
    spans = word_spans(encoding, scores, pooling=pooling)
    expected = pool(scores, [word.token_indices for word in words], pooling)
    assert [span.score for span in spans] == expected.tolist()
    assert all(len(word.token_indices) > 1 for word in words)
