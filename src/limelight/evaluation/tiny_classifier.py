"""A bag-of-embeddings text classifier that trains in seconds, for the data-randomisation check.

Looks like a Hugging Face classifier to limelight (``config.id2label``, ``get_input_embeddings()``,
an output with ``.logits``), so every method explains it through :class:`~limelight.text.TextExplainer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from limelight.errors import InvalidInputError
from limelight.text.encoding import batch_by_length, encode_batch
from limelight.text.runner import TextRunner


@dataclass(frozen=True)
class TinyConfig:
    """The config fields limelight reads from a classifier."""

    num_labels: int
    id2label: dict[int, str]
    label2id: dict[str, int] = field(default_factory=dict)
    pad_token_id: int | None = None


class ClassifierOutput(dict[str, Tensor]):
    """``{"logits": ...}`` that also answers ``.logits``, like a Hugging Face model output."""

    @property
    def logits(self) -> Tensor:
        """The ``(rows, classes)`` logits."""
        return self["logits"]


class BagOfEmbeddings(nn.Module):
    """``logits = W * mean(word embeddings of the non-padding tokens) + b``."""

    def __init__(self, vocab_size: int, labels: Sequence[str], dim: int = 32, pad_token_id: int | None = None) -> None:
        super().__init__()
        names = list(labels)
        self.config = TinyConfig(len(names), dict(enumerate(names)), {n: i for i, n in enumerate(names)}, pad_token_id)
        self.embeddings = nn.Embedding(vocab_size, dim)
        self.classifier = nn.Linear(dim, len(names))

    def get_input_embeddings(self) -> nn.Module:
        """The word-embedding table (where limelight attributes)."""
        return self.embeddings

    def forward(
        self, input_ids: Tensor, attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None, **unused: Any
    ) -> ClassifierOutput:
        """Logits for each row of ``input_ids`` (``token_type_ids`` is accepted and ignored)."""
        hidden = self.embeddings(input_ids)
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        return ClassifierOutput(logits=self.classifier(pooled))


def train_bag_of_embeddings(
    tokenizer: Any,
    texts: Sequence[str],
    labels: Sequence[int],
    label_names: Sequence[str] = ("negative", "positive"),
    *,
    dim: int = 32,
    epochs: int = 200,
    learning_rate: float = 0.05,
    seed: int = 0,
) -> BagOfEmbeddings:
    """Fit a :class:`BagOfEmbeddings` on ``texts``/``labels`` (full-batch Adam, seeded); returns it in eval mode."""
    if len(texts) != len(labels) or not texts:
        raise InvalidInputError(f"need one label per text and at least one text, got {len(texts)} texts and {len(labels)} labels")
    if any(not 0 <= int(label) < len(label_names) for label in labels):
        raise InvalidInputError(f"labels must be class indices in 0..{len(label_names) - 1}")
    batch = batch_by_length(tokenizer, encode_batch(tokenizer, list(texts)))[0]
    target = torch.tensor([int(labels[i]) for i in batch.indices])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BagOfEmbeddings(len(tokenizer), label_names, dim, getattr(tokenizer, "pad_token_id", None))
        optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
        for _ in range(epochs):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(batch.input_ids, batch.attention_mask).logits, target)
            loss.backward()
            optimiser.step()
    return model.eval()


def accuracy(model: nn.Module, tokenizer: Any, texts: Sequence[str], labels: Sequence[int]) -> float:
    """Fraction of ``texts`` whose predicted class index (by the text front end's runner) equals the label."""
    logits = TextRunner(model, tokenizer, batch_size=64).logits(encode_batch(tokenizer, list(texts)))
    predicted = torch.stack(logits).argmax(-1)
    return float((predicted == torch.tensor([int(label) for label in labels])).double().mean())
