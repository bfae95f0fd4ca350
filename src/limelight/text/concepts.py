"""Texts as TCAV concepts and inputs: token ids padded on the right, and a pool over each text's real tokens.

``TCAV(model, layers, pool=token_mean)`` with :func:`text_concept` sets and :func:`text_inputs`
runs TCAV on a Hugging Face classifier: a layer's value ``(texts, tokens, D)`` becomes the mean
of its real tokens (padding excluded, so no result depends on how long the other texts are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor

from ..engine.concepts import Concept, ModelInputs
from ..errors import InvalidInputError
from .checks import check_texts
from .encoding import encode_batch, pad_sequences
from .erasure import pad_token_id


def text_inputs(tokenizer: Any, texts: str | Sequence[str]) -> dict[str, Tensor]:
    """Model inputs (``input_ids``, ``attention_mask``, ``token_type_ids`` where used) for ``texts``, right-padded."""
    items = check_texts(texts, "texts")
    if not items:
        raise InvalidInputError("texts is empty; pass at least one text")
    encodings = encode_batch(tokenizer, items)
    inputs = {
        "input_ids": pad_sequences([e.input_ids for e in encodings], pad_token_id(tokenizer)),
        "attention_mask": pad_sequences([e.attention for e in encodings], 0),
    }
    types = [e.token_type_ids for e in encodings]
    if all(t is not None for t in types):
        inputs["token_type_ids"] = pad_sequences([t for t in types if t is not None], 0)
    return inputs


def text_concept(name: str, tokenizer: Any, texts: str | Sequence[str]) -> Concept:
    """A TCAV concept from example texts (phrases or sentences that show it)."""
    return Concept(name, text_inputs(tokenizer, texts))


def token_mean(value: Tensor, inputs: ModelInputs) -> Tensor:
    """A TCAV pool: each text's mean over its attended tokens of a ``(texts, tokens, D)`` layer value."""
    if not isinstance(inputs, Mapping) or "attention_mask" not in inputs:
        raise InvalidInputError("token_mean needs inputs with an attention_mask, as text_inputs() and text_concept() make")
    if value.dim() != 3 or value.shape[:2] != inputs["attention_mask"].shape:
        raise InvalidInputError(f"token_mean needs a (texts, tokens, D) layer value matching the inputs; got {tuple(value.shape)}")
    mask = inputs["attention_mask"].to(value)[..., None]
    return (value * mask).sum(1) / mask.sum(1).clamp_min(1.0)
