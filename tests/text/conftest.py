"""Shared fixtures for the text front-end tests: every tokenizer kind, and tricky texts."""

from __future__ import annotations

import functools

import pytest

from tests.text.tiny_tokenizers import TOKENIZER_BUILDERS, bpe_tokenizer

KINDS = {
    **TOKENIZER_BUILDERS,
    "bpe-untrimmed": functools.partial(bpe_tokenizer, trim_offsets=False),
    "bpe-prefix-space": functools.partial(bpe_tokenizer, add_prefix_space=True),
}
"""The three tokenizer families, plus byte-level BPE with offsets that include the leading space."""

TEXTS = (
    "The film was a quiet triumph.",
    "  leading and trailing spaces  ",
    "double  spaces,\ttabs\nand\n\nnewlines",
    "Café über naïve, “quotes” and an emoji 🙂!",
    "don't stop, it's fine...",
    "漢字 mixed with English",
    "x",
)
"""Texts whose every non-whitespace character every tiny tokenizer keeps (some as unknown tokens)."""


@pytest.fixture(params=sorted(KINDS))
def tokenizer(request: pytest.FixtureRequest):
    """A fresh tiny tokenizer of each kind."""
    return KINDS[request.param]()
