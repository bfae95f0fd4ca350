"""Fixtures: the one-word model and its tokenizer, fresh per test (tests count the model's forward calls)."""

from __future__ import annotations

import pytest
import torch

from tests.evaluation.models import one_word_setup


@pytest.fixture(autouse=True)
def _one_thread():
    """Keep the shared machine usable: tiny models need no parallelism."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def one_word():
    """``(model, tokenizer)``: a classifier that reads only the word ``film``."""
    return one_word_setup()
