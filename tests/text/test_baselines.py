"""Baseline input ids: special tokens kept, content replaced with the tokenizer's own tokens."""

from __future__ import annotations

import pytest
import torch

from limelight.errors import InvalidInputError
from limelight.text.baselines import BaselineSpec, baseline_ids
from limelight.text.encoding import encode
from tests.text.tiny_tokenizers import wordpiece_tokenizer

PAIR = ("The film was a quiet triumph.", "It was good.")


@pytest.mark.parametrize("kind", ["pad", "mask", "unk"])
@pytest.mark.parametrize("pair", [False, True])
def test_token_baselines_keep_special_tokens_and_use_the_tokenizers_id(tokenizer, kind, pair):
    encoding = encode(tokenizer, *(PAIR if pair else PAIR[:1]))
    ids = baseline_ids(tokenizer, encoding, BaselineSpec.parse(kind))
    expected_id = getattr(tokenizer, f"{kind}_token_id")
    assert len(ids) == len(encoding)
    for input_id, baseline_id, special in zip(encoding.input_ids, ids, encoding.special_mask):
        assert baseline_id == (input_id if special else expected_id)
    assert sum(encoding.special_mask) >= 2


def test_pad_baseline_is_not_hard_coded_to_zero():
    tokenizer = wordpiece_tokenizer()
    encoding = encode(tokenizer, "some words")
    ids = baseline_ids(tokenizer, encoding, BaselineSpec())
    assert tokenizer.pad_token_id == 4
    assert ids == (tokenizer.cls_token_id, *[4] * (len(encoding) - 2), tokenizer.sep_token_id)
    assert 0 not in ids


def test_missing_token_is_a_clear_error():
    tokenizer = wordpiece_tokenizer()
    tokenizer.mask_token = None
    with pytest.raises(InvalidInputError, match="needs a mask token"):
        baseline_ids(tokenizer, encode(tokenizer, "text"), BaselineSpec("mask"))


def test_zero_baseline_is_signalled_not_built():
    spec = BaselineSpec.parse("zero")
    assert spec.is_zero_embedding
    assert baseline_ids(wordpiece_tokenizer(), encode(wordpiece_tokenizer(), "text"), spec) is None
    assert not BaselineSpec.parse("pad").is_zero_embedding


def test_custom_ids_must_match_the_length():
    tokenizer = wordpiece_tokenizer()
    encoding = encode(tokenizer, "a quiet film")
    custom = tuple(range(len(encoding)))
    assert baseline_ids(tokenizer, encoding, BaselineSpec.parse(list(custom))) == custom
    assert baseline_ids(tokenizer, encoding, BaselineSpec.parse(torch.tensor(custom))) == custom
    with pytest.raises(InvalidInputError, match=f"3 token ids but the input has {len(encoding)}"):
        baseline_ids(tokenizer, encoding, BaselineSpec.parse([1, 2, 3]))


def test_custom_text_must_give_as_many_tokens(tokenizer):
    encoding = encode(tokenizer, "it was")
    same = encode(tokenizer, "it is")
    assert len(same) == len(encoding) and same.input_ids != encoding.input_ids
    assert baseline_ids(tokenizer, encoding, BaselineSpec.parse("it is")) == same.input_ids
    longer = encode(tokenizer, "it is was")
    with pytest.raises(InvalidInputError, match=f"gives {len(longer)} tokens .* input has {len(encoding)}"):
        baseline_ids(tokenizer, encoding, BaselineSpec.parse("it is was"))


def test_custom_text_for_pairs():
    tokenizer = wordpiece_tokenizer()
    encoding = encode(tokenizer, "the film", "it was")
    spec = BaselineSpec.parse(("a film", "it is"))
    assert baseline_ids(tokenizer, encoding, spec) == encode(tokenizer, "a film", "it is").input_ids
    with pytest.raises(InvalidInputError, match="must be a \\(text, text_pair\\) tuple"):
        baseline_ids(tokenizer, encoding, BaselineSpec.parse("a film it is"))
    with pytest.raises(InvalidInputError, match="must be a single string"):
        baseline_ids(tokenizer, encode(tokenizer, "the film"), spec)
    # Same total but split differently between the two texts: rejected, the segments would not line up.
    with pytest.raises(InvalidInputError, match="1 \\+ 3 content"):
        baseline_ids(tokenizer, encoding, BaselineSpec.parse(("film", "it is was")))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pad", BaselineSpec("pad")),
        ("mask", BaselineSpec("mask")),
        ("unk", BaselineSpec("unk")),
        ("zero", BaselineSpec("zero")),
        ("nothing here", BaselineSpec("text", text="nothing here")),
        (("a", "b"), BaselineSpec("text", text="a", text_pair="b")),
        ([1, 2], BaselineSpec("ids", ids=(1, 2))),
        (torch.tensor([3, 4]), BaselineSpec("ids", ids=(3, 4))),
        (BaselineSpec("mask"), BaselineSpec("mask")),
    ],
)
def test_parse(value, expected):
    assert BaselineSpec.parse(value) == expected


@pytest.mark.parametrize("value", [3.5, torch.zeros(4), torch.zeros(2, 2, dtype=torch.long), [1.0, 2.0], [True]])
def test_parse_rejects(value):
    with pytest.raises(InvalidInputError):
        BaselineSpec.parse(value)


def test_spec_validation_and_description():
    with pytest.raises(InvalidInputError):
        BaselineSpec("blank")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        BaselineSpec("ids")
    with pytest.raises(InvalidInputError):
        BaselineSpec("pad", text="x")
    assert BaselineSpec().describe() == "pad"
    assert BaselineSpec.parse([1]).describe() == "custom ids"
    assert BaselineSpec.parse(("a", "b")).describe() == "text 'a' + 'b'"
