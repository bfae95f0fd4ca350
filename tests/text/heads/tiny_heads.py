"""Tiny random Hugging Face models of every text head, built from the tiny sequence classifiers' configs.

``tiny_head(architecture, head)`` takes the config of :func:`tests.text.tiny_models.tiny_classifier`
(hidden size 32, 2 layers, the architecture's own tokenizer kind) and builds the head's class
from it with ``transformers``' auto classes, seeded, in eval mode.
"""

from __future__ import annotations

import copy

import torch
from transformers import (
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

from tests.text.tiny_models import tiny_classifier
from tests.text.tiny_tokenizers import DEFAULT_MAX_LENGTH

HEAD_ARCHITECTURES = ("bert", "roberta", "deberta-v2", "distilbert")
TAGS = ("O", "B-PER", "I-PER", "B-LOC")
"""Label names of the tiny token classifiers."""
TOPICS = ("sports", "politics", "music", "science")
"""Label names of the tiny multi-label classifiers."""


def _labelled(config, names: tuple[str, ...]):
    config = copy.deepcopy(config)
    config.num_labels = len(names)
    config.id2label = dict(enumerate(names))
    config.label2id = {name: index for index, name in enumerate(names)}
    return config


def tiny_head(
    architecture: str = "bert", head: str = "multi_label_classification", max_length: int = DEFAULT_MAX_LENGTH, seed: int = 0
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """``(model, tokenizer)`` for ``head``: multi_label_classification, regression, token_classification, question_answering."""
    base, tokenizer = tiny_classifier(architecture, max_length, seed)
    config = base.config
    if head == "multi_label_classification":
        config = _labelled(config, TOPICS)
        config.problem_type = head
        builder = AutoModelForSequenceClassification
    elif head == "regression":
        config = _labelled(config, ("score",))
        builder = AutoModelForSequenceClassification
    elif head == "token_classification":
        config = _labelled(config, TAGS)
        builder = AutoModelForTokenClassification
    elif head == "question_answering":
        config = _labelled(config, ("start", "end"))  # a reader's two outputs per token
        builder = AutoModelForQuestionAnswering
    else:
        raise ValueError(f"unknown head {head!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = builder.from_config(config)
    return model.eval(), tokenizer
