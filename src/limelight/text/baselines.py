"""Baseline inputs for text: what "no information" looks like to the model.

A baseline keeps the input's special tokens in place (``[CLS] … [SEP]``) and replaces the content
tokens. Kinds:

* ``"pad"`` (default), ``"mask"``, ``"unk"``, ``"delete"`` and custom ids: the word erasures of
  :mod:`limelight.text.erasure` (every content token erased; ``"delete"`` for perturbation
  methods only, so :func:`baseline_ids` returns ``None`` for it);
* ``"zero"``: the content tokens' word embeddings become zero vectors. That is done at the
  embedding layer, so :func:`baseline_ids` returns ``None`` for it (gradient methods only);
* custom text (or ``(text, text_pair)`` for pair inputs): tokenised like the input, it must give
  the same number of tokens in each segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union

import torch

from limelight.errors import InvalidInputError
from limelight.text.encoding import Encoding, encode
from limelight.text.erasure import TOKEN_KINDS, Erasure

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

NAMED_KINDS: tuple[str, ...] = (*TOKEN_KINDS, "zero", "delete")

BaselineKind = Literal["pad", "mask", "unk", "zero", "delete", "ids", "text"]
BaselineLike = Union[str, Sequence[int], torch.Tensor, tuple[str, str], "BaselineSpec"]


@dataclass(frozen=True)
class BaselineSpec:
    """Which baseline to use: a named kind, custom ``ids``, or a custom ``text`` (and ``text_pair``)."""

    kind: BaselineKind = "pad"
    ids: tuple[int, ...] | None = None
    text: str | None = None
    text_pair: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in (*NAMED_KINDS, "ids", "text"):
            raise InvalidInputError(f"unknown baseline kind {self.kind!r}; use one of {NAMED_KINDS}, ids or a text")
        if (self.kind == "ids") != (self.ids is not None) or (self.kind == "text") != (self.text is not None):
            raise InvalidInputError("a BaselineSpec has ids exactly when kind='ids' and text exactly when kind='text'")

    @classmethod
    def parse(cls, value: BaselineLike) -> BaselineSpec:
        """Read what a user passed as ``baseline=``.

        A name in ``("pad", "mask", "unk", "zero", "delete")`` selects that kind; any other string is a custom
        text; a ``(text, text_pair)`` tuple of two strings is a custom pair; a sequence or 1-D
        tensor of ints is custom ids. Use ``BaselineSpec(kind="text", text="pad")`` for the text "pad".
        """
        if isinstance(value, BaselineSpec):
            return value
        if isinstance(value, str):
            return cls(kind=value) if value in NAMED_KINDS else cls(kind="text", text=value)  # type: ignore[arg-type]
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], str):
            return cls(kind="text", text=value[0], text_pair=value[1])
        if isinstance(value, torch.Tensor):
            if value.dim() != 1 or value.is_floating_point() or value.is_complex():
                raise InvalidInputError(
                    f"a tensor baseline must be a 1-D tensor of token ids, got shape {tuple(value.shape)} "
                    f"and dtype {value.dtype}; for an embedding-space baseline use 'zero'"
                )
            return cls(kind="ids", ids=tuple(int(i) for i in value.tolist()))
        if isinstance(value, Sequence) and all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            return cls(kind="ids", ids=tuple(int(i) for i in value))
        raise InvalidInputError(
            f"cannot use {type(value).__name__} as a text baseline; give one of {NAMED_KINDS}, "
            "a string, a (text, text_pair) tuple, or a sequence of token ids"
        )

    @property
    def erasure(self) -> Erasure | None:
        """The word erasure this baseline applies to every content token; ``None`` for ``"zero"`` and a custom text."""
        if self.kind == "ids":
            return Erasure.custom(self.ids or ())
        return Erasure.named(self.kind)

    @property
    def is_zero_embedding(self) -> bool:
        """True for ``"zero"``: the explainer zeroes content embeddings instead of swapping ids."""
        return self.kind == "zero"

    def describe(self) -> str:
        """A short label for reports (``Explanation.baseline``; a named erasure's name, see :meth:`Erasure.named`)."""
        if self.kind == "ids":
            return "custom ids"
        if self.kind == "text":
            return f"text {self.text!r}" + ("" if self.text_pair is None else f" + {self.text_pair!r}")
        return self.kind


def baseline_ids(tokenizer: PreTrainedTokenizerBase, encoding: Encoding, spec: BaselineSpec) -> tuple[int, ...] | None:
    """The baseline's input ids for ``encoding`` (same length), or ``None`` for ``"zero"`` and ``"delete"``."""
    if spec.kind == "text":
        return _text_baseline(tokenizer, encoding, spec)
    erasure = spec.erasure
    return None if erasure is None else erasure.replacement(tokenizer, encoding)


def _text_baseline(tokenizer: PreTrainedTokenizerBase, encoding: Encoding, spec: BaselineSpec) -> tuple[int, ...]:
    if encoding.text_pair is not None and spec.text_pair is None:
        raise InvalidInputError("the input is a text pair, so a text baseline must be a (text, text_pair) tuple")
    if encoding.text_pair is None and spec.text_pair is not None:
        raise InvalidInputError("the input is a single text, so a text baseline must be a single string")
    reference = encode(tokenizer, spec.text or "", spec.text_pair)
    got, want = _segment_lengths(reference), _segment_lengths(encoding)
    if len(reference) != len(encoding) or got != want:
        raise InvalidInputError(
            f"the baseline text gives {len(reference)} tokens ({_describe(got)}) but the input has "
            f"{len(encoding)} ({_describe(want)}); choose a baseline text with as many tokens, or use 'pad'"
        )
    return reference.input_ids


def _segment_lengths(encoding: Encoding) -> tuple[int, ...]:
    segments = 1 if encoding.text_pair is None else 2
    return tuple(len(encoding.content_indices(segment)) for segment in range(segments))


def _describe(lengths: tuple[int, ...]) -> str:
    if len(lengths) == 1:
        return f"{lengths[0]} content"
    return " + ".join(str(length) for length in lengths) + " content, text + text_pair"
