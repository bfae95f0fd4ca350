"""The one definition of removing prompt features, shared by perturbation methods and the faithfulness metrics.

By default a removed feature's tokens are *deleted*: the shorter prompt is packed again, so the
remaining tokens keep consecutive positions and nothing stands in for the missing words. On
request a removed token is *replaced* by the tokenizer's PAD, EOS or UNK token, or by any token id.
Removal works on token ids: ``removed(ids, keep)`` marks deleted tokens with :data:`DELETED`, and
``compact`` drops them before the runner packs a batch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from limelight.engine.validation import is_int
from limelight.errors import InvalidInputError

ErasureSpec = str | int
ERASURES: tuple[str, ...] = ("delete", "pad", "eos", "unk")
DELETED = -1
"""The id that marks a deleted token in a perturbed row of token ids."""


def replacement_id(tokenizer: Any, erasure: ErasureSpec) -> int:
    """The id a removed token becomes: :data:`DELETED` for ``"delete"``, else the named special token or the given id."""
    if is_int(erasure):
        vocab = len(tokenizer)
        if not 0 <= erasure < vocab:
            raise InvalidInputError(f"erasure token id {erasure} is outside the vocabulary (0..{vocab - 1})")
        return int(erasure)
    if erasure not in ERASURES:
        raise InvalidInputError(f"erasure={erasure!r} is not a way to remove tokens; choose one of {list(ERASURES)} or a token id")
    if erasure == "delete":
        return DELETED
    token_id = getattr(tokenizer, f"{erasure}_token_id", None)
    if token_id is None:
        others = [e for e in ("pad", "eos", "unk") if getattr(tokenizer, f"{e}_token_id", None) is not None]
        raise InvalidInputError(f"the tokenizer has no {erasure.upper()} token; use erasure='delete' or one of {others} or a token id")
    return int(token_id)


def baseline_ids(ids: Tensor, replacement: int) -> Tensor:
    """The fully removed prompt: every token replaced (or marked deleted); tokens in no feature are kept by the feature mask."""
    return torch.full_like(ids, replacement)


def compact(row: Tensor) -> list[int]:
    """A perturbed row of ids without its deleted tokens."""
    return [int(i) for i in row.tolist() if i != DELETED]
