"""Fixtures of the internals tests: tiny random transformers with a knocked-out head, on one torch thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from tests.text.tiny_models import tiny_classifier

KNOCKED = (0, 1)
"""(layer, head) whose values are zero in :func:`knocked_bert`: it contributes nothing to any forward."""

TEXTS = ("a quiet triumph of a film", "not good , not at all", "the plot is thin but the acting is fine")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def knock_out(model: torch.nn.Module, layer: int, head: int) -> None:
    """Zero one head's value projection (weights and bias), so its context is exactly zero."""
    attention = model.bert.encoder.layer[layer].attention.self
    size = attention.attention_head_size
    with torch.no_grad():
        attention.value.weight[head * size : (head + 1) * size] = 0.0
        attention.value.bias[head * size : (head + 1) * size] = 0.0


@pytest.fixture(scope="module")
def knocked_bert():
    model, tokenizer = tiny_classifier("bert", seed=3)
    knock_out(model, *KNOCKED)
    return model, tokenizer
