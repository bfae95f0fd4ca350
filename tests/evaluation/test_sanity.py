"""Sanity checks: randomising the model must change a real explanation and cannot change input-only scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from limelight import explain
from limelight.errors import InvalidInputError
from limelight.evaluation import (
    Block,
    MethodExplainer,
    cascading_randomisation,
    data_randomisation,
    randomisation_blocks,
    train_bag_of_embeddings,
)
from limelight.evaluation.sanity import randomise
from tests.evaluation.models import input_only_explainer
from tests.text.tiny_tokenizers import CORPUS, wordpiece_tokenizer


def _tiny_bert(tokenizer) -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertForSequenceClassification(config).eval()


def test_blocks_are_the_head_then_layers_from_the_top():
    model = _tiny_bert(wordpiece_tokenizer())
    blocks = randomisation_blocks(model)
    assert [b.name for b in blocks] == ["head (bert.pooler.dense, classifier)", "bert.encoder.layer.1", "bert.encoder.layer.0"]
    assert not any(b.covers("bert.embeddings.word_embeddings.weight") for b in blocks)


def test_randomise_changes_only_its_block_reproducibly():
    tokenizer = wordpiece_tokenizer()
    model, twin = _tiny_bert(tokenizer), _tiny_bert(tokenizer)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    block = Block("layer 1", ("bert.encoder.layer.1",))
    randomise(model, block, seed=7)
    randomise(twin, block, seed=7)
    for name, parameter in model.named_parameters():
        changed = not torch.equal(parameter, before[name])
        if block.covers(name) and parameter.numel() > 1 and "LayerNorm" not in name:
            assert changed, name
        if not block.covers(name):
            assert not changed, name
        assert torch.equal(parameter, dict(twin.named_parameters())[name])
    with pytest.raises(InvalidInputError):
        randomise(model, Block("nothing", ("no.such.module",)))


def test_cascade_detects_an_explanation_that_ignores_the_model():
    tokenizer = wordpiece_tokenizer()
    model = _tiny_bert(tokenizer)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    texts = list(CORPUS[:6])
    gradient = MethodExplainer(tokenizer, "input_x_gradient")
    real = cascading_randomisation(model, gradient, gradient(model, texts), seed=0)
    lengths = input_only_explainer(tokenizer)
    fake = cascading_randomisation(model, lengths, lengths(model, texts), seed=0)
    assert real.steps == fake.steps and len(real.steps) == 3 and real.spearman.shape == (3, len(texts))
    np.testing.assert_allclose(fake.spearman, 1.0)
    assert real.mean[-1] < 0.6, real.mean
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters()), "the original model must not change"
    final = cascading_randomisation(model, gradient, gradient(model, texts), seed=0, only_final=True)
    assert final.steps == ("all",)
    np.testing.assert_allclose(final.final, real.final)


def test_data_randomisation_on_a_constructed_task():
    tokenizer = wordpiece_tokenizer()
    rng = np.random.default_rng(0)
    filler = "the film was a quiet story about two old friends in town".split()
    texts, labels = [], []
    for index in range(120):
        label = index % 2
        words = list(rng.choice(filler, size=6)) + ["wonderful" if label else "boring"]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    result = data_randomisation(tokenizer, texts, labels, texts[:10], MethodExplainer(tokenizer, "input_x_gradient"), epochs=150)
    assert result.train_accuracy_true == 1.0
    assert result.train_accuracy_shuffled < 0.75
    assert np.nanmean(result.spearman) < 0.5


def test_trained_classifier_is_explained_like_any_classifier():
    tokenizer = wordpiece_tokenizer()
    model = train_bag_of_embeddings(tokenizer, ["wonderful film", "boring film"], [1, 0], epochs=50)
    [exp] = explain(model, tokenizer, ["a wonderful film"])
    assert exp.predicted_label == "positive"
    assert max(exp.words, key=lambda w: w[1])[0] == "wonderful"
    with pytest.raises(InvalidInputError):
        train_bag_of_embeddings(tokenizer, ["a"], [3])
