"""Attacking a text classifier in its embedding space: word embeddings in, logits out.

Tokens are discrete, so FGSM and PGD move the word embeddings instead (Miyato et al., 2017):
:func:`text_embeddings` encodes texts with the text front end (never truncated; one batch padded
on the right), looks their tokens up in the model's embedding table and returns a forward of
``(embeddings, attention_mask[, token_type_ids])`` for the attacks, plus a mask that lets only
content tokens move (special tokens and padding stay). :meth:`TextEmbeddings.nearest_tokens`
reads a perturbed embedding back as the vocabulary token nearest to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..engine.forward import eval_mode, read_output
from ..errors import InvalidInputError
from ..text.encoding import Encoding, encode_batch, pad_sequences
from ..text.erasure import pad_token_id
from ..text.labels import model_labels
from ..text.runner import input_embeddings, model_device
from ..text.windows import model_max_length


@dataclass(frozen=True)
class TextEmbeddings:
    """Texts as word embeddings ready to attack: ``forward(embeddings, *additional_forward_args)`` gives logits."""

    model: nn.Module
    tokenizer: Any
    encodings: list[Encoding]
    embeddings: Tensor
    additional_forward_args: tuple[Tensor, ...]
    mask: Tensor
    predicted: Tensor
    labels: list[str]

    def forward(self, embeddings: Tensor, attention_mask: Tensor, token_type_ids: Tensor | None = None) -> Tensor:
        """The model's logits on ``embeddings`` (in eval mode; rows are independent)."""
        return _logits(self.model, embeddings, attention_mask, token_type_ids)

    def nearest_tokens(self, embeddings: Tensor) -> list[list[str]]:
        """Per text, the vocabulary token nearest (L2) to each content position of ``embeddings``."""
        if embeddings.shape != self.embeddings.shape:
            raise InvalidInputError(
                f"embeddings must have the shape {tuple(self.embeddings.shape)} of these texts, got {tuple(embeddings.shape)}"
            )
        table = _table(self.model)
        out: list[list[str]] = []
        for row, encoding in enumerate(self.encodings):
            positions = encoding.content_indices()
            if not positions:
                out.append([])
                continue
            ids = torch.cdist(embeddings[row, positions].detach().to(table.dtype), table).argmin(dim=1)
            out.append(list(self.tokenizer.convert_ids_to_tokens(ids.tolist())))
        return out


def text_embeddings(model: nn.Module, tokenizer: Any, texts: Sequence[str], text_pairs: Sequence[str] | None = None) -> TextEmbeddings:
    """Encode ``texts`` (or pairs), pad them on the right into one batch and look up their word embeddings (module docstring)."""
    if isinstance(texts, str) or not texts:
        raise InvalidInputError("texts must be a non-empty list of strings")
    encodings = encode_batch(tokenizer, list(texts), None if text_pairs is None else list(text_pairs))
    limit = model_max_length(model, tokenizer)
    too_long = [i for i, e in enumerate(encodings) if len(e) > limit]
    if too_long:
        raise InvalidInputError(
            f"texts {too_long} have more than the model's {limit} tokens; an embedding attack needs each text in one window"
        )
    device = model_device(model)
    ids = pad_sequences([e.input_ids for e in encodings], pad_token_id(tokenizer)).to(device)
    attention = pad_sequences([e.attention for e in encodings], 0).to(device)
    extra: tuple[Tensor, ...] = (attention,)
    if all(e.token_type_ids is not None for e in encodings):
        extra += (pad_sequences([e.token_type_ids or () for e in encodings], getattr(tokenizer, "pad_token_type_id", 0)).to(device),)
    with torch.no_grad():
        embeddings = input_embeddings(model)(ids).detach()
    movable = torch.zeros(ids.shape, dtype=embeddings.dtype, device=device)
    for row, encoding in enumerate(encodings):
        movable[row, encoding.content_indices()] = 1.0
    mask = movable.unsqueeze(-1).expand_as(embeddings).contiguous()
    with torch.no_grad():
        predicted = _logits(model, embeddings, *extra).argmax(dim=-1)
    return TextEmbeddings(model, tokenizer, encodings, embeddings, extra, mask, predicted, model_labels(model))


def _table(model: nn.Module) -> Tensor:
    weight = getattr(input_embeddings(model), "weight", None)
    if not isinstance(weight, Tensor) or weight.dim() != 2:
        raise InvalidInputError("the model's get_input_embeddings() needs a 2-D weight (a vocabulary table) to read tokens back")
    return weight.detach()


def _logits(model: nn.Module, embeddings: Tensor, attention_mask: Tensor, token_type_ids: Tensor | None = None) -> Tensor:
    inputs: dict[str, Tensor] = {"inputs_embeds": embeddings, "attention_mask": attention_mask}
    if token_type_ids is not None:
        inputs["token_type_ids"] = token_type_ids
    with eval_mode([model], True):
        return read_output(model(**inputs), "logits")
