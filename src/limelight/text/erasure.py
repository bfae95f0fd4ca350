"""The one definition of erasing words from a text, shared by perturbation methods and metrics.

An :class:`Erasure` says what becomes of an erased word's tokens (special tokens are never erased):

* :data:`DELETE`: the tokens are removed from the sequence (ERASER's definition);
* :data:`PAD`, :data:`MASK`, :data:`UNK`: each token becomes that token of the tokenizer (its id
  is read from the tokenizer, never assumed);
* custom ids (:meth:`Erasure.custom`): token ``i`` becomes ``ids[i]``.

A replaced token whose new id is the pad id also leaves the attention mask (the model sees
padding as padding). The rule exists once, on tensors (:func:`replace_tokens`,
:func:`delete_tokens`): the perturbation forward (:mod:`limelight.text.presence`) applies it to
batches, and :func:`erase` applies it to one :class:`~limelight.text.encoding.Encoding` for the
evaluation side, through the same functions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Literal

import torch
from torch import Tensor

from ..errors import InvalidInputError
from .encoding import Encoding

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

ErasureKind = Literal["delete", "pad", "mask", "unk", "ids"]
TOKEN_KINDS: tuple[str, ...] = ("pad", "mask", "unk")
"""Erasures that put one of the tokenizer's tokens in place of every erased token."""


@dataclass(frozen=True)
class Erasure:
    """How erased tokens disappear: ``kind`` is ``"delete"``, ``"pad"``, ``"mask"``, ``"unk"`` or ``"ids"`` (with ``ids``)."""

    kind: ErasureKind
    ids: tuple[int, ...] | None = None

    DELETE: ClassVar[Erasure]
    PAD: ClassVar[Erasure]
    MASK: ClassVar[Erasure]
    UNK: ClassVar[Erasure]
    NAMED: ClassVar[tuple[Erasure, ...]]

    def __post_init__(self) -> None:
        if self.kind not in ("delete", *TOKEN_KINDS, "ids"):
            raise InvalidInputError(f"unknown erasure {self.kind!r}; use one of {ERASURE_NAMES} or custom ids")
        if (self.kind == "ids") != (self.ids is not None):
            raise InvalidInputError("an Erasure has ids exactly when its kind is 'ids'")

    @classmethod
    def custom(cls, ids: Sequence[int]) -> Erasure:
        """Token ``i`` of the input becomes ``ids[i]`` (one id per input token, special tokens included)."""
        return cls("ids", tuple(int(i) for i in ids))

    @classmethod
    def parse(cls, value: str | Erasure, role: str = "erasure") -> Erasure:
        """An erasure from its name (``"delete"``, ``"pad"``, ``"mask"``, ``"unk"``); erasures pass through.

        ``role`` names the argument in the error (e.g. ``"fill"``).
        """
        if isinstance(value, Erasure):
            return value
        named = cls.named(value)
        if named is None:
            raise InvalidInputError(f"{role} must be one of {ERASURE_NAMES} (or an Erasure), got {value!r}")
        return named

    @classmethod
    def named(cls, name: object) -> Erasure | None:
        """The named erasure called ``name``, or ``None`` when ``name`` names none (e.g. ``"zero"``, ``"custom ids"``)."""
        return next((erasure for erasure in cls.NAMED if erasure.name == name), None)

    @property
    def name(self) -> str:
        """The kind's name; ``"custom ids"`` for custom ids (what ``Explanation.baseline`` records)."""
        return "custom ids" if self.kind == "ids" else self.kind

    @property
    def deletes(self) -> bool:
        """True when erased tokens are removed rather than replaced."""
        return self.kind == "delete"

    def check(self, tokenizer: PreTrainedTokenizerBase) -> Erasure:
        """This erasure, after checking ``tokenizer`` has the token it needs (pad / mask / unk)."""
        if self.kind in TOKEN_KINDS:
            self.token_id(tokenizer)
        return self

    def replacement(self, tokenizer: PreTrainedTokenizerBase, encoding: Encoding) -> tuple[int, ...] | None:
        """The id each token of ``encoding`` takes when erased (special tokens keep theirs); ``None`` for delete."""
        if self.kind == "delete":
            return None
        if self.kind == "ids":
            ids = self.ids or ()
            if len(ids) != len(encoding):
                raise InvalidInputError(
                    f"the custom baseline has {len(ids)} token ids but the input has {len(encoding)} "
                    "(special tokens included); give one id per input token"
                )
            return ids
        token_id = self.token_id(tokenizer)
        return tuple(input_id if special else token_id for input_id, special in zip(encoding.input_ids, encoding.special_mask))

    def token_id(self, tokenizer: PreTrainedTokenizerBase) -> int:
        """The tokenizer's id for a pad / mask / unk erasure; the error names the kinds this tokenizer has."""
        token_id = getattr(tokenizer, f"{self.kind}_token_id", None)
        if self.kind not in TOKEN_KINDS or token_id is None:
            alternatives = [other for other in TOKEN_KINDS if getattr(tokenizer, f"{other}_token_id", None) is not None]
            raise InvalidInputError(
                f"erasing with {self.kind!r} needs a {self.kind} token but this tokenizer has none; "
                f"use one of {['delete', *alternatives]} or custom ids"
            )
        return int(token_id)


Erasure.DELETE, Erasure.PAD, Erasure.MASK, Erasure.UNK = (Erasure("delete"), Erasure("pad"), Erasure("mask"), Erasure("unk"))
Erasure.NAMED = (Erasure.DELETE, Erasure.PAD, Erasure.MASK, Erasure.UNK)
ERASURE_NAMES: tuple[str, ...] = tuple(erasure.name for erasure in Erasure.NAMED)
"""The names of the erasures that need no ids: ``("delete", "pad", "mask", "unk")``."""

ErasureLike = str | Erasure


def pad_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The tokenizer's pad id, or 0 when it has none (texts of one length need no padding)."""
    pad_id = getattr(tokenizer, "pad_token_id", None)
    return 0 if pad_id is None else int(pad_id)


def replace_tokens(ids: Tensor, attention: Tensor, replacement: Tensor, kept: Tensor, pad_id: int) -> tuple[Tensor, Tensor]:
    """Erased tokens (``kept`` false) take the replacement's id; one replaced by the pad id also leaves attention."""
    new_ids = torch.where(kept, ids, replacement)
    return new_ids, attention * (kept | (replacement != pad_id)).to(attention.dtype)


def delete_tokens(rows: list[Tensor | None], keep: Tensor, pad_values: list[int]) -> list[Tensor | None]:
    """Drop the erased tokens from each row (ids, attention, token types...) and right-pad the rows to their new longest length."""
    position = keep.long().cumsum(1) - 1
    width = max(int(keep.sum(1).max()), 1)
    row_of, column_of = keep.nonzero(as_tuple=True)
    compacted: list[Tensor | None] = []
    for values, pad in zip(rows, pad_values):
        if values is None:
            compacted.append(None)
            continue
        out = values.new_full((values.shape[0], width), pad)
        out[row_of, position[row_of, column_of]] = values[row_of, column_of]
        compacted.append(out)
    return compacted


def erase(encoding: Encoding, tokens: Collection[int], erasure: Erasure, tokenizer: PreTrainedTokenizerBase) -> Encoding:
    """``encoding`` with the content tokens at positions ``tokens`` erased (special tokens always stay)."""
    kept = torch.tensor([[index not in tokens or special for index, special in enumerate(encoding.special_mask)]], dtype=torch.bool)
    if erasure.deletes:
        return encoding.select([index for index, keep in enumerate(kept[0].tolist()) if keep])
    replacement = torch.tensor([erasure.replacement(tokenizer, encoding)], dtype=torch.long)
    attention = torch.tensor([encoding.attention], dtype=torch.long)
    ids, attention = replace_tokens(
        torch.tensor([encoding.input_ids], dtype=torch.long), attention, replacement, kept, pad_token_id(tokenizer)
    )
    return replace(encoding, input_ids=tuple(ids[0].tolist()), attention_mask=tuple(attention[0].tolist()))
