"""Erasing words: one definition, on tensors (perturbation methods) and on encodings (metrics)."""

from __future__ import annotations

import pytest
import torch

from limelight import TextExplainer
from limelight.errors import InvalidInputError
from limelight.evaluation import Perturbation, WordEraser
from limelight.text.baselines import BaselineSpec
from limelight.text.encoding import encode
from limelight.text.erasure import ERASURE_NAMES, Erasure, delete_tokens, erase, replace_tokens
from tests.text.tiny_models import tiny_classifier
from tests.text.tiny_tokenizers import wordpiece_tokenizer

TEXT = "the quiet film was a triumph"


def test_replacing_with_pad_also_masks_attention_but_mask_tokens_stay_attended():
    ids, attention = torch.tensor([[1, 7, 8, 2]]), torch.ones(1, 4, dtype=torch.long)
    kept = torch.tensor([[True, False, True, True]])
    pad_ids, pad_attention = replace_tokens(ids, attention, torch.tensor([[1, 0, 0, 2]]), kept, pad_id=0)
    assert pad_ids.tolist() == [[1, 0, 8, 2]] and pad_attention.tolist() == [[1, 0, 1, 1]]
    mask_ids, mask_attention = replace_tokens(ids, attention, torch.tensor([[1, 5, 5, 2]]), kept, pad_id=0)
    assert mask_ids.tolist() == [[1, 5, 8, 2]] and mask_attention.tolist() == [[1, 1, 1, 1]]


def test_deleting_compacts_rows_and_pads_them():
    ids = torch.tensor([[1, 7, 8, 9, 2], [1, 7, 2, 0, 0]])
    keep = torch.tensor([[True, False, True, False, True], [True, True, True, False, False]])
    new_ids, new_mask, none = delete_tokens([ids, torch.ones_like(ids), None], keep, [0, 0, 0])
    assert new_ids.tolist() == [[1, 8, 2], [1, 7, 2]] and new_mask.tolist() == [[1, 1, 1], [1, 1, 1]] and none is None


def test_erase_deletes_content_tokens_and_never_special_ones():
    tokenizer = wordpiece_tokenizer()
    encoding = encode(tokenizer, TEXT)
    erased = erase(encoding, {0, 1, 2}, Erasure.DELETE, tokenizer)  # token 0 is [CLS]: it stays
    assert erased.tokens == (encoding.tokens[0], *encoding.tokens[3:])
    assert erased.attention_mask is None and erased.offsets == (encoding.offsets[0], *encoding.offsets[3:])


@pytest.mark.parametrize("erasure", [Erasure.PAD, Erasure.MASK, Erasure.UNK])
def test_erase_replaces_tokens_and_a_pad_also_leaves_attention(erasure):
    tokenizer = wordpiece_tokenizer()
    encoding = encode(tokenizer, TEXT)
    erased = erase(encoding, {0, 2}, erasure, tokenizer)
    token_id = getattr(tokenizer, f"{erasure.kind}_token_id")
    assert erased.input_ids == (encoding.input_ids[0], encoding.input_ids[1], token_id, *encoding.input_ids[3:])
    left = 0 if erasure == Erasure.PAD else 1
    assert erased.attention == (1, 1, left, *[1] * (len(encoding) - 3))
    assert len(erased) == len(encoding)


def test_custom_ids_need_one_id_per_token():
    tokenizer = wordpiece_tokenizer()
    encoding = encode(tokenizer, TEXT)
    ids = tuple(range(100, 100 + len(encoding)))
    assert erase(encoding, {1}, Erasure.custom(ids), tokenizer).input_ids[1] == 101
    with pytest.raises(InvalidInputError, match="3 token ids but the input has"):
        erase(encoding, {1}, Erasure.custom((1, 2, 3)), tokenizer)


def test_names_parse_and_errors_say_what_exists():
    assert ERASURE_NAMES == ("delete", "pad", "mask", "unk")
    assert [Erasure.parse(name) for name in ERASURE_NAMES] == list(Erasure.NAMED)
    assert Erasure.parse(Erasure.MASK) is Erasure.MASK
    assert Erasure.named("zero") is None and Erasure.named("custom ids") is None
    with pytest.raises(InvalidInputError, match="fill must be one of"):
        Erasure.parse("blank", "fill")
    tokenizer = wordpiece_tokenizer()
    tokenizer.mask_token = None
    with pytest.raises(InvalidInputError, match="needs a mask token"):
        Erasure.MASK.check(tokenizer)
    assert Erasure.DELETE.check(tokenizer) is Erasure.DELETE


def test_baselines_name_their_erasure():
    assert BaselineSpec.parse("pad").erasure == Erasure.PAD
    assert BaselineSpec.parse("delete").erasure == Erasure.DELETE
    assert BaselineSpec.parse([1, 2]).erasure == Erasure.custom((1, 2))
    assert BaselineSpec.parse("zero").erasure is None and BaselineSpec.parse("some text").erasure is None


@pytest.mark.parametrize("baseline", ["pad", "mask", "unk", "delete"])
def test_the_explainers_baseline_is_the_erasers_erasure_of_every_word(baseline):
    """Shapley values' f(baseline) (the presence forward, tensors) equals the eraser's value with every word erased (encodings)."""
    model, tokenizer = tiny_classifier("bert")
    explanation = TextExplainer(model, tokenizer, method="shapley_values", baseline=baseline).explain(TEXT, target=1)
    assert explanation.erasure == Erasure.parse(baseline)
    eraser = WordEraser(model, tokenizer, fill=explanation.erasure)
    subject = eraser.prepare([explanation])[0]
    everything = Perturbation(subject, tuple(range(subject.n_features)))
    assert eraser.values([everything])[0] == pytest.approx(explanation.baseline_value, abs=1e-5)
    assert eraser.full([subject])[0] == pytest.approx(explanation.input_value, abs=1e-5)
