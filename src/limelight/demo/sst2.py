"""Read GLUE SST-2 files and score a sentence classifier on them (the demo model's data)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from limelight.errors import InvalidInputError
from limelight.text.encoding import encode_batch
from limelight.text.runner import TextRunner

SST2_HEADER = "sentence\tlabel"


def read_sst2(path: str | Path) -> tuple[list[str], list[int]]:
    """Sentences and 0/1 labels (0 = negative) of an SST-2 ``train.tsv`` or ``dev.tsv``.

    GLUE leaves a space before the tab of most rows; it is stripped here.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != SST2_HEADER:
        raise InvalidInputError(f"{path} is not an SST-2 train/dev file: its first line must be {SST2_HEADER!r}.")
    sentences: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 2 or fields[1] not in ("0", "1"):
            raise InvalidInputError(f"{path}, line {number}: expected 'sentence<TAB>0|1', got {line!r}.")
        sentences.append(fields[0].strip())
        labels.append(int(fields[1]))
    return sentences, labels


def predict(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, sentences: Sequence[str], batch_size: int = 64) -> torch.Tensor:
    """Predicted class ids, in input order, from the text front end's runner.

    Nothing is truncated: a sentence longer than the model's limit is read in windows whose logits
    are averaged. The model runs in eval mode (its own mode is restored afterwards).
    """
    logits = TextRunner(model, tokenizer, batch_size=batch_size).logits(encode_batch(tokenizer, list(sentences)))
    return torch.stack(logits).argmax(dim=-1) if logits else torch.empty(0, dtype=torch.long)


def accuracy(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, sentences: Sequence[str], labels: Sequence[int], batch_size: int = 64
) -> float:
    """Fraction of ``sentences`` whose predicted class id equals the label."""
    if len(sentences) != len(labels) or not sentences:
        raise InvalidInputError(
            f"Need as many labels as sentences, and at least one: got {len(sentences)} sentences, {len(labels)} labels."
        )
    correct = predict(model, tokenizer, sentences, batch_size) == torch.tensor(list(labels))
    return correct.double().mean().item()
