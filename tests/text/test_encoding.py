"""Tokenising with exact offsets, and padding many encodings into tensors."""

from __future__ import annotations

import pytest
import torch

from limelight.errors import InvalidInputError
from limelight.text.encoding import (
    Encoding,
    batch_by_length,
    encode,
    encode_batch,
    length_order,
    pad_sequences,
    uses_token_type_ids,
)
from tests.text.conftest import TEXTS
from tests.text.tiny_tokenizers import bpe_tokenizer, wordpiece_tokenizer

PAIR = ("A man is playing a guitar on stage.", "  Someone makes music. ")


def covered_characters(encoding: Encoding, segment: int) -> set[int]:
    return {position for index in encoding.content_indices(segment) for position in range(*encoding.offsets[index])}


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_are_trimmed_spans_of_the_original_text(tokenizer, text):
    encoding = encode(tokenizer, text)
    assert encoding.text is text
    for index in encoding.content_indices():
        start, end = encoding.offsets[index]
        assert 0 <= start <= end <= len(text)
        if start < end:
            assert not text[start].isspace() and not text[end - 1].isspace()
    starts = [encoding.offsets[index][0] for index in encoding.content_indices()]
    assert starts == sorted(starts)


@pytest.mark.parametrize("text", TEXTS)
def test_every_visible_character_belongs_to_a_token(tokenizer, text):
    encoding = encode(tokenizer, text)
    visible = {position for position, character in enumerate(text) if not character.isspace()}
    assert covered_characters(encoding, 0) == visible


def test_special_tokens_are_marked_and_have_empty_spans(tokenizer):
    encoding = encode(tokenizer, *PAIR)
    special_ids = set(tokenizer.all_special_ids)
    for index, special in enumerate(encoding.special_mask):
        assert special == (encoding.input_ids[index] in special_ids)
        if special:
            start, end = encoding.offsets[index]
            assert start == end
            assert encoding.word_ids[index] is None
    assert encoding.special_mask[0] and encoding.special_mask[-1]
    assert encoding.offsets[0] == (0, 0)
    end_of_pair = max(encoding.offsets[index][1] for index in encoding.content_indices(1))
    assert encoding.offsets[-1] == (end_of_pair, end_of_pair)
    assert encoding.segments[-1] == 1
    assert encoding.tokens == tuple(tokenizer.convert_ids_to_tokens(list(encoding.input_ids)))


def test_pair_tokens_point_into_their_own_text(tokenizer):
    text, text_pair = PAIR
    encoding = encode(tokenizer, text, text_pair)
    assert encoding.text_pair is text_pair
    assert covered_characters(encoding, 0) == {i for i, c in enumerate(text) if not c.isspace()}
    assert covered_characters(encoding, 1) == {i for i, c in enumerate(text_pair) if not c.isspace()}
    segments = list(encoding.segments)
    first_of_pair = segments.index(1)
    assert set(segments[:first_of_pair]) == {0} and set(segments[first_of_pair:]) == {1}
    assert encoding.source(1) is text_pair
    with pytest.raises(InvalidInputError):
        encode(tokenizer, text).source(1)


def test_segments_match_token_type_ids_where_the_tokenizer_has_them(tokenizer):
    encoding = encode(tokenizer, *PAIR)
    if uses_token_type_ids(tokenizer):
        assert encoding.token_type_ids == encoding.segments
    else:
        assert encoding.token_type_ids is None


def test_never_truncates(tokenizer):
    text = " ".join(["wonderful"] * (tokenizer.model_max_length * 2)) + " end"
    encoding = encode(tokenizer, text)
    assert len(encoding) > tokenizer.model_max_length
    last_content = encoding.content_indices()[-1]
    assert encoding.offsets[last_content][1] == len(text)
    assert encoding.special_mask[-1]


def test_batch_encoding_equals_one_by_one(tokenizer):
    texts = list(TEXTS)
    pairs = [text[::-1] for text in texts]
    assert encode_batch(tokenizer, texts) == [encode(tokenizer, text) for text in texts]
    assert encode_batch(tokenizer, texts, pairs) == [encode(tokenizer, t, p) for t, p in zip(texts, pairs)]


def test_encoding_nothing_gives_nothing(tokenizer):
    assert encode_batch(tokenizer, []) == []
    assert batch_by_length(tokenizer, []) == []


def test_select_all_tokens_is_identity_and_select_picks():
    encoding = encode(wordpiece_tokenizer(), *PAIR)
    assert encoding.select(range(len(encoding))) == encoding
    picked = encoding.select([0, len(encoding) - 1])
    assert picked.input_ids == (encoding.input_ids[0], encoding.input_ids[-1])
    assert picked.token_type_ids == (0, 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda tok: encode(object(), "text"),
        lambda tok: encode(tok, 42),  # type: ignore[arg-type]
        lambda tok: encode_batch(tok, "not a list"),
        lambda tok: encode_batch(tok, ["a", "b"], ["only one"]),
    ],
    ids=["slow-or-not-a-tokenizer", "not-a-string", "string-as-batch", "pair-count"],
)
def test_bad_inputs_raise_invalid_input(call):
    with pytest.raises(InvalidInputError):
        call(wordpiece_tokenizer())


def test_encoding_fields_must_have_one_entry_per_token():
    with pytest.raises(InvalidInputError, match="one entry per input id"):
        Encoding("a", None, (1, 2), ("a",), ((0, 1),), (False,), (0,), (0,))


TEXTS_OF_MANY_LENGTHS = [
    "short",
    "a somewhat longer text here",
    "mid length one",
    "x",
    "the longest text of them all, by far",
]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("batch_size", [None, 2])
def test_padding_round_trips_and_uses_the_tokenizers_pad(tokenizer, side, batch_size):
    tokenizer.padding_side = side
    encodings = encode_batch(tokenizer, TEXTS_OF_MANY_LENGTHS)
    batches = batch_by_length(tokenizer, encodings, batch_size)
    assert sorted(index for batch in batches for index in batch.indices) == list(range(len(encodings)))
    restored = {index: row for batch in batches for index, row in zip(batch.indices, batch.unpad(batch.input_ids))}
    assert [tuple(restored[index].tolist()) for index in range(len(encodings))] == [encoding.input_ids for encoding in encodings]
    for batch in batches:
        assert list(batch.lengths) == sorted(batch.lengths, reverse=True)
        assert batch.attention_mask.sum(dim=1).tolist() == list(batch.lengths)
        padding = batch.input_ids[batch.attention_mask == 0]
        assert (padding == tokenizer.pad_token_id).all()
        assert set(batch.model_inputs()) == set(tokenizer.model_input_names)
        for row, length in enumerate(batch.lengths):
            real = batch.attention_mask[row].nonzero().flatten()
            expected_start = 0 if side == "right" else batch.input_ids.shape[1] - length
            assert real.tolist() == list(range(expected_start, expected_start + length))
    lengths = [length for batch in batches for length in batch.lengths]
    assert lengths == sorted(lengths, reverse=True)


def test_wordpiece_padding_is_not_zero():
    tokenizer = wordpiece_tokenizer()
    assert tokenizer.pad_token_id != 0
    batch = batch_by_length(tokenizer, encode_batch(tokenizer, ["a", "a longer text"]))[0]
    assert batch.input_ids[1, -1].item() == tokenizer.pad_token_id


def test_token_type_ids_are_padded_with_the_pair_layout():
    tokenizer = wordpiece_tokenizer()
    encodings = encode_batch(tokenizer, ["a", "a longer first text"], ["b c", "d"])
    (batch,) = batch_by_length(tokenizer, encodings)
    for row, index in enumerate(batch.indices):
        assert batch.token_type_ids[row, : batch.lengths[row]].tolist() == list(encodings[index].token_type_ids)
        assert (batch.token_type_ids[row, batch.lengths[row] :] == tokenizer.pad_token_type_id).all()


def test_pad_and_unpad_other_rows_like_the_inputs():
    tokenizer = wordpiece_tokenizer()
    tokenizer.padding_side = "left"
    encodings = encode_batch(tokenizer, TEXTS_OF_MANY_LENGTHS)
    (batch,) = batch_by_length(tokenizer, encodings)
    rows = [[7] * length for length in batch.lengths]
    padded = batch.pad(rows, value=-1)
    assert ((padded == 7) == batch.attention_mask.bool()).all()
    scores = torch.randn(*batch.input_ids.shape, 3)
    pieces = batch.unpad(scores)
    assert [piece.shape for piece in pieces] == [(length, 3) for length in batch.lengths]
    assert torch.equal(pieces[0], scores[0, batch.input_ids.shape[1] - batch.lengths[0] :])
    with pytest.raises(InvalidInputError):
        batch.pad(rows[1:], value=0)
    with pytest.raises(InvalidInputError):
        batch.unpad(scores[:, 1:])


def test_length_order_is_longest_first_and_stable():
    tokenizer = wordpiece_tokenizer()
    encodings = encode_batch(tokenizer, ["b", "a long one", "c", "long two!"])
    order = length_order(encodings)
    assert [len(encodings[i]) for i in order] == sorted((len(e) for e in encodings), reverse=True)
    assert order.index(0) < order.index(2)


def test_batching_without_a_pad_token():
    tokenizer = bpe_tokenizer()
    tokenizer.pad_token = None
    same = encode_batch(tokenizer, ["same", "same"])
    assert batch_by_length(tokenizer, same)[0].input_ids.shape == (2, len(same[0]))
    with pytest.raises(InvalidInputError, match="no pad token"):
        batch_by_length(tokenizer, encode_batch(tokenizer, ["a", "a longer text"]))


def test_pad_sequences_validates():
    assert pad_sequences([[1, 2], [3]], 9, "left").tolist() == [[1, 2], [9, 3]]
    assert pad_sequences([[1], []], 9, "right", width=3).tolist() == [[1, 9, 9], [9, 9, 9]]
    with pytest.raises(InvalidInputError):
        pad_sequences([[1]], 0, "middle")
    with pytest.raises(InvalidInputError):
        pad_sequences([[1, 2]], 0, "right", width=1)
    with pytest.raises(InvalidInputError):
        batch_by_length(wordpiece_tokenizer(), [], batch_size=0)


def test_max_padding_keeps_batches_to_texts_of_similar_length():
    tokenizer = wordpiece_tokenizer()
    texts = ["a", "a b", "the movie was one of those amazing movies", "the movie was one of those movies"]
    encodings = encode_batch(tokenizer, texts)
    loose = batch_by_length(tokenizer, encodings, 8)
    tight = batch_by_length(tokenizer, encodings, 8, max_padding=0.25)
    assert len(loose) == 1 and len(tight) > 1
    for batch in tight:
        assert min(batch.lengths) >= 0.75 * max(batch.lengths)
    assert sorted(i for batch in tight for i in batch.indices) == [0, 1, 2, 3]
    with pytest.raises(InvalidInputError, match="max_padding"):
        batch_by_length(tokenizer, encodings, 8, max_padding=1.0)
