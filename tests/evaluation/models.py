"""Constructed models and explanations with known answers, for the evaluation tests.

:class:`OneWordModel` reads a single word: its "word" logit is ``weight`` times the word
embedding's value summed over tokens, and the embedding is 1 for the chosen word and 0 for every
other token (the pad token included). So erasing that word drops the logit from ``weight`` to 0 and
nothing else matters; integrated gradients from the pad baseline give the word exactly ``weight``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from transformers import PretrainedConfig
from transformers.modeling_outputs import SequenceClassifierOutput

from limelight.engine.evidence import Evidence
from limelight.text.encoding import encode
from limelight.text.explanation import Explanation
from limelight.text.words import token_spans, word_spans
from tests.text.tiny_tokenizers import wordpiece_tokenizer

LABELS = ("other", "word")
WEIGHT = 5.0
WORD = "film"
TEXTS = ("the film was a quiet triumph", "a wonderful warm film about two old friends", "nobody expected the film")


class OneWordModel(nn.Module):
    """logits = [0, weight * sum_t e(token_t)] with e = 1 for one token id, 0 for all others."""

    def __init__(self, vocab_size: int, word_id: int, weight: float = WEIGHT) -> None:
        super().__init__()
        self.config = PretrainedConfig(num_labels=2, id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)})
        self.embeddings = nn.Embedding(vocab_size, 1)
        self.classifier = nn.Linear(1, 2)
        self.calls = 0
        self.rows = 0
        with torch.no_grad():
            self.embeddings.weight.zero_()
            self.embeddings.weight[word_id] = 1.0
            self.classifier.weight.copy_(torch.tensor([[0.0], [weight]]))
            self.classifier.bias.zero_()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings

    def forward(
        self, input_ids: Tensor, attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None
    ) -> SequenceClassifierOutput:
        self.calls += 1
        self.rows += input_ids.shape[0]
        hidden = self.embeddings(input_ids)
        if attention_mask is not None:
            hidden = hidden * attention_mask.unsqueeze(-1).to(hidden.dtype)
        return SequenceClassifierOutput(logits=self.classifier(hidden.sum(1)))


def one_word_setup() -> tuple[OneWordModel, object]:
    """The tiny WordPiece tokenizer and a model that reads only :data:`WORD`."""
    tokenizer = wordpiece_tokenizer()
    word_id = tokenizer.convert_tokens_to_ids(WORD)
    assert word_id != tokenizer.unk_token_id, "the test word must be a whole token of the tiny vocabulary"
    return OneWordModel(len(tokenizer), word_id), tokenizer


def hand_explanation(
    tokenizer: object,
    text: str,
    scores: Sequence[float],
    *,
    target: str = "word",
    baseline: str = "none",
    delta: float | None = None,
    method: str = "hand",
    quantity: str = "logit",
) -> Explanation:
    """An explanation of ``text`` whose (tokenizer) words get ``scores``, built on the real encoding."""
    encoding = encode(tokenizer, text)  # type: ignore[arg-type]
    words = word_spans(encoding, torch.zeros(len(encoding)))
    if len(words) != len(scores):
        raise ValueError(f"{text!r} has {len(words)} words, got {len(scores)} scores: {[w.text for w in words]}")
    return Explanation(
        text=text,
        word_spans=[dataclasses.replace(w, score=float(s)) for w, s in zip(words, scores)],
        token_spans=token_spans(encoding, torch.zeros(len(encoding))),
        predicted_label=target,
        probabilities={"other": 0.5, "word": 0.5},
        target_label=target,
        quantity=quantity,
        method=method,
        baseline=baseline,
        evidence=Evidence(delta=delta),
    )


def word_position(text: str, word: str = WORD) -> int:
    """Index of ``word`` among the whitespace-separated words of ``text`` (the tiny tokenizer splits the same way here)."""
    return text.split().index(word)


def perfect_scores(text: str) -> list[float]:
    """The word gets the top score, the rest decreasing scores below it."""
    n, at = len(text.split()), word_position(text)
    return [10.0 if i == at else float(n - i) / n for i in range(n)]


def reversed_scores(text: str) -> list[float]:
    """Exactly the ranking of :func:`perfect_scores`, upside down."""
    return [-s for s in perfect_scores(text)]


def input_only_explainer(tokenizer: object):
    """An "explainer" that ignores the model: each word's score is its length (for the sanity checks)."""

    def explain_lengths(model, texts, text_pairs=None, target=None, contrast=None):
        targets = list(target) if isinstance(target, (list, tuple)) else [target or "word"] * len(texts)
        out = []
        for text, label in zip(texts, targets):
            encoding = encode(tokenizer, text)  # type: ignore[arg-type]
            lengths = [len(w.text) + 0.01 * i for i, w in enumerate(word_spans(encoding, torch.zeros(len(encoding))))]
            out.append(hand_explanation(tokenizer, text, lengths, target=label, method="word_length"))
        return out

    return explain_lengths
