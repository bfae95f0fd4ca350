"""Words as features for perturbation methods: a word-presence vector and the forward it drives.

Perturbation methods perturb a float vector ``presence`` of shape ``(texts, words)`` (1 = the
word is there, 0 = it is not; the baseline is all zeros). :func:`presence_forward` turns each row
into model inputs: an absent word's tokens are erased (:mod:`limelight.text.erasure`: replaced by
the baseline's tokens at the same positions, a PAD also leaving the attention mask, or deleted
from the sequence). Special tokens are never touched. Because the forward is a pure function of the
presence vector and per-example tensors, every engine method (ablation, occlusion, Shapley,
KernelSHAP, LIME) works on words unchanged.

Rows are right-padded to their batch's longest text; with ``trim=True`` each evaluated chunk
drops the trailing columns none of its rows attends to (:func:`attended_width`), so a chunk
of short texts' rows costs no more than those texts: on a CPU a padded position costs as much as
a real one. Unattended positions change nothing in an encoder with absolute positions, so only
float rounding differs from evaluating each text on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from .erasure import delete_tokens, replace_tokens


def token_presence(presence: Tensor, word_index: Tensor) -> Tensor:
    """Per token, whether it is kept: its word's presence (> 0.5), always true for special tokens (-1)."""
    picked = presence.gather(1, word_index.clamp(min=0)) > 0.5
    return torch.where(word_index >= 0, picked, torch.ones_like(picked))


def attended_width(attention: Tensor) -> int:
    """The columns up to the last one any row attends to (at least one): a chunk's width without its trailing padding."""
    attended = attention.bool().any(0)
    return int(attended.nonzero()[-1]) + 1 if bool(attended.any()) else 1


def presence_forward(model: nn.Module, pad_id: int, delete: bool, trim: bool = False) -> Callable[..., Any]:
    """``forward(presence, ids, attention, word_index, baseline, token_types)`` for the engine.

    All but ``presence`` are per-example tensors passed as extra forward arguments, so each
    evaluated row gets its own text's ids (``token_types`` may be ``None``). ``trim`` drops the
    chunk's trailing padding (for outputs per text, not per token).
    """

    def forward(presence: Tensor, ids: Tensor, attention: Tensor, word_index: Tensor, baseline: Tensor, token_types: Tensor | None) -> Any:
        kept = token_presence(presence, word_index)
        if delete:
            new_ids, new_attention, token_types = delete_tokens([ids, attention, token_types], kept & attention.bool(), [pad_id, 0, 0])
            ids, attention = _present(new_ids), _present(new_attention)
        else:
            ids, attention = replace_tokens(ids, attention, baseline, kept, pad_id)
            if trim:
                width = attended_width(attention)
                ids, attention = ids[:, :width], attention[:, :width]
                token_types = None if token_types is None else token_types[:, :width]
        extra = {} if token_types is None else {"token_type_ids": token_types}
        return model(input_ids=ids, attention_mask=attention, **extra)

    return forward


def _present(row: Tensor | None) -> Tensor:
    """A row :func:`delete_tokens` was given as a tensor, so it returns one."""
    if row is None:
        raise TypeError("delete_tokens dropped a required row")  # unreachable: ids and attention are tensors
    return row
