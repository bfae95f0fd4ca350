"""Read the CoLA public release and score an acceptability classifier on it (the CoLA demo's data).

The raw CoLA files (``cola_public/raw/*.tsv``) have no header and four tab-separated columns:
source code, label (1 = acceptable, 0 = unacceptable), the author's mark, and the sentence.
The task's headline metric is the Matthews correlation coefficient, which stays meaningful
under CoLA's 70/30 class imbalance (always answering "acceptable" scores 0, not 0.7).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from limelight.demo.sst2 import predict
from limelight.errors import InvalidInputError

COLA_FILES = {
    "in_domain_train": "in_domain_train.tsv",
    "in_domain_dev": "in_domain_dev.tsv",
    "out_of_domain_dev": "out_of_domain_dev.tsv",
}


def cola_path(data_dir: str | Path, split: str) -> Path:
    """Where ``split`` (a key of :data:`COLA_FILES`) lies under a data folder holding ``cola/cola_public/raw``."""
    if split not in COLA_FILES:
        raise InvalidInputError(f"Unknown CoLA split {split!r}; use one of {sorted(COLA_FILES)}.")
    return Path(data_dir) / "cola" / "cola_public" / "raw" / COLA_FILES[split]


def read_cola(path: str | Path) -> tuple[list[str], list[int]]:
    """Sentences and 0/1 labels (0 = unacceptable) of a raw CoLA ``.tsv`` file."""
    sentences: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("\t")
        if len(fields) != 4 or fields[1] not in ("0", "1"):
            raise InvalidInputError(f"{path}, line {number}: expected 'source<TAB>0|1<TAB>mark<TAB>sentence', got {line!r}.")
        sentences.append(fields[3].strip())
        labels.append(int(fields[1]))
    if not sentences:
        raise InvalidInputError(f"{path} holds no CoLA rows.")
    return sentences, labels


def matthews_correlation(predicted: Sequence[int] | torch.Tensor, gold: Sequence[int] | torch.Tensor) -> float:
    """Matthews correlation of two 0/1 sequences (0.0 when a row or column of the confusion matrix is empty)."""
    p = torch.as_tensor(predicted, dtype=torch.long)
    g = torch.as_tensor(gold, dtype=torch.long)
    if p.shape != g.shape or p.ndim != 1 or not len(p):
        raise InvalidInputError(f"Need two equally long, non-empty 0/1 sequences; got shapes {tuple(p.shape)} and {tuple(g.shape)}.")
    tp = int(((p == 1) & (g == 1)).sum())
    tn = int(((p == 0) & (g == 0)).sum())
    fp = int(((p == 1) & (g == 0)).sum())
    fn = int(((p == 0) & (g == 1)).sum())
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denominator if denominator else 0.0


def score_cola(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, sentences: Sequence[str], labels: Sequence[int]
) -> dict[str, float]:
    """Matthews correlation and accuracy of ``model`` on CoLA rows (class id 1 = acceptable)."""
    if len(sentences) != len(labels):
        raise InvalidInputError(f"Need as many labels as sentences: got {len(sentences)} sentences, {len(labels)} labels.")
    predicted = predict(model, tokenizer, sentences)
    gold = torch.tensor(list(labels))
    return {"mcc": matthews_correlation(predicted, gold), "accuracy": (predicted == gold).double().mean().item()}
