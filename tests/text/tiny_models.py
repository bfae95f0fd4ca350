"""Tiny random Hugging Face sequence classifiers over the tiny tokenizers, for text front-end tests.

Each architecture is paired with the tokenizer kind it uses in real life: BERT and DistilBERT
(WordPiece; DistilBERT takes no ``token_type_ids``), RoBERTa (byte-level BPE), ALBERT and
DeBERTa-v2 (SentencePiece-style Unigram). Models have hidden size 32 and 2 layers, so a test
explains a text in milliseconds. Weights are drawn with a wide ``initializer_range`` so logits
differ visibly between texts and scores are far from zero (tolerances then mean something).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch
from transformers import (
    AlbertConfig,
    AlbertForSequenceClassification,
    BertConfig,
    BertForSequenceClassification,
    DebertaV2Config,
    DebertaV2ForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaForSequenceClassification,
)

from tests.text.tiny_tokenizers import DEFAULT_MAX_LENGTH, bpe_tokenizer, unigram_tokenizer, wordpiece_tokenizer

LABELS = ("negative", "neutral", "positive")
"""Label names of every tiny classifier, in class-index order."""

ARCHITECTURES = ("bert", "distilbert", "roberta", "albert", "deberta-v2")


def _tokenizer(architecture: str, max_length: int) -> PreTrainedTokenizerFast:
    if architecture == "roberta":
        return bpe_tokenizer(max_length)
    if architecture in ("albert", "deberta-v2"):
        return unigram_tokenizer(max_length)
    tokenizer = wordpiece_tokenizer(max_length)
    if architecture == "distilbert":
        tokenizer.model_input_names = ["input_ids", "attention_mask"]
    return tokenizer


def _model(architecture: str, tokenizer: PreTrainedTokenizerFast, max_length: int) -> PreTrainedModel:
    labels = {
        "num_labels": len(LABELS),
        "id2label": dict(enumerate(LABELS)),
        "label2id": {name: index for index, name in enumerate(LABELS)},
    }
    common = {"vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id, "initializer_range": 0.2, **labels}
    layers = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
    if architecture == "bert":
        return BertForSequenceClassification(BertConfig(max_position_embeddings=max_length, **layers, **common))
    if architecture == "roberta":
        # RoBERTa numbers positions from pad_token_id + 1, so its table needs that many extra rows.
        positions = max_length + tokenizer.pad_token_id + 1
        return RobertaForSequenceClassification(RobertaConfig(max_position_embeddings=positions, **layers, **common))
    if architecture == "albert":
        config = AlbertConfig(embedding_size=16, max_position_embeddings=max_length, **layers, **common)
        return AlbertForSequenceClassification(config)
    if architecture == "deberta-v2":
        config = DebertaV2Config(max_position_embeddings=max_length, type_vocab_size=2, **layers, **common)
        return DebertaV2ForSequenceClassification(config)
    if architecture == "distilbert":
        config = DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=max_length, **common)
        return DistilBertForSequenceClassification(config)
    raise ValueError(f"unknown architecture {architecture!r}; use one of {ARCHITECTURES}")


def tiny_classifier(
    architecture: str = "bert", max_length: int = DEFAULT_MAX_LENGTH, seed: int = 0
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """``(model, tokenizer)``: a random 3-class classifier in eval mode, reproducible from ``seed``."""
    tokenizer = _tokenizer(architecture, max_length)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _model(architecture, tokenizer, max_length)
    return model.eval(), tokenizer


def save_tiny_classifier(directory: str | os.PathLike[str], architecture: str = "bert", seed: int = 0) -> str:
    """Save a tiny classifier and its tokenizer with ``save_pretrained``; returns the directory."""
    model, tokenizer = tiny_classifier(architecture, seed=seed)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return os.fspath(directory)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run a test on one torch thread (restored afterwards).

    Tiny models gain nothing from threads, and on a shared machine two threads contending for
    busy cores make a test several times slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
