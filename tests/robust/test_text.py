"""Text: embedding-space attacks through the text front end, and the minimal word deletion (and its metric)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from limelight.errors import LimelightError
from limelight.robust import PGD, minimal_word_deletion, text_embeddings
from tests.evaluation.models import TEXTS, hand_explanation, one_word_setup, perfect_scores, reversed_scores
from tests.text.tiny_tokenizers import wordpiece_tokenizer


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _bert():
    tokenizer = wordpiece_tokenizer()
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        max_position_embeddings=64, num_labels=2, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    return transformers.BertForSequenceClassification(config).eval(), tokenizer


def test_embedding_attacks_move_only_content_tokens_and_start_from_the_models_logits() -> None:
    model, tokenizer = _bert()
    texts = ["the film was good", "a bad film about nothing at all"]
    space = text_embeddings(model, tokenizer, texts)
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(space.forward(space.embeddings, *space.additional_forward_args), model(**batch).logits, atol=1e-6)
    assert space.nearest_tokens(space.embeddings)[0] == tokenizer.tokenize(texts[0])
    moved = PGD(space.forward).perturb(
        space.embeddings, 0.5, 0.1, 5, space.predicted, space.additional_forward_args, mask=space.mask
    )  # fmt: skip
    still = space.mask == 0
    assert torch.equal(moved[still], space.embeddings[still])  # [CLS], [SEP] and padding never move
    assert (moved - space.embeddings).abs().max() <= 0.5 + 1e-6 and not torch.equal(moved, space.embeddings)


@pytest.mark.parametrize("mode", ["linear", "binary"])
def test_deleting_top_words_finds_the_decisive_word_and_is_minimal(mode: str) -> None:
    model, tokenizer = one_word_setup()  # the decision rests on the word "film" alone
    good = [hand_explanation(tokenizer, t, perfect_scores(t)) for t in TEXTS]
    bad = [hand_explanation(tokenizer, t, reversed_scores(t)) for t in TEXTS]
    first = minimal_word_deletion(model, tokenizer, good, mode=mode)
    last = minimal_word_deletion(model, tokenizer, bad, mode=mode)
    for text, found, late in zip(TEXTS, first, last):
        n = len(text.split())
        assert (found.deleted, found.words, found.original_label, found.new_label) == (1, ("film",), "word", "other")
        assert late.deleted == n and late.fraction == 1.0  # film ranked last: every other word goes first, without a flip
    assert first[0].to_dict()["fraction"] == pytest.approx(1 / len(TEXTS[0].split()))


def test_words_to_flip_is_a_compare_metric() -> None:
    from limelight.evaluation import METRICS, compare

    model, tokenizer = one_word_setup()
    assert METRICS["words_to_flip"].family == "faithfulness" and not METRICS["words_to_flip"].higher_is_better
    result = compare(
        model,
        tokenizer,
        list(TEXTS),
        ["input_x_gradient"],
        metrics=["words_to_flip"],
        primary="words_to_flip",
        n_bootstrap=20,
        show_progress=False,
    )
    values = result.results["input_x_gradient"].values["words_to_flip"]
    assert np.allclose(values, [1 / len(t.split()) for t in TEXTS])


def test_bad_text_input_is_refused() -> None:
    model, tokenizer = one_word_setup()
    explanation = hand_explanation(tokenizer, TEXTS[0], perfect_scores(TEXTS[0]))
    with pytest.raises(LimelightError):
        minimal_word_deletion(model, tokenizer, ["not an explanation"])  # type: ignore[list-item]
    with pytest.raises(LimelightError):
        minimal_word_deletion(model, tokenizer, [explanation], orders=[[0, 0, 1]])
    with pytest.raises(LimelightError):
        text_embeddings(*_bert(), "a single string")  # type: ignore[arg-type]
