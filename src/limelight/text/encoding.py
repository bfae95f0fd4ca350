"""Tokenising texts (or text pairs) with exact character offsets, and padding many into tensors.

:func:`encode` is the only place limelight calls a Hugging Face tokenizer on user text. It never
truncates: texts longer than the model's limit are handled by :mod:`limelight.text.windows`.
Offsets are cleaned here once, so everything downstream can trust them:

* a content token's ``(start, end)`` is a span of the original string of its segment (``text``
  for segment 0, ``text_pair`` for segment 1) with surrounding whitespace trimmed. Byte-level BPE
  (``Ġ``, when ``trim_offsets=False``) and SentencePiece (``▁``) offsets can include the space
  before a word; a token made only of whitespace gets an empty span where the whitespace ends.
* a special token gets an empty span ``(p, p)`` placed after the last content token before it, in
  that token's segment (``[CLS]`` sits at 0 of segment 0, a pair's middle ``[SEP]`` at the end of
  ``text``, the final ``[SEP]`` at the end of ``text_pair``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from limelight.engine.validation import check_choice
from limelight.errors import InvalidInputError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PADDING_SIDES = ("right", "left")


@dataclass(frozen=True)
class Encoding:
    """One tokenised text or text pair, special tokens included, never truncated.

    All per-token fields have one entry per token, in model order. ``segments`` is 0 for tokens
    of ``text`` and 1 for tokens of ``text_pair`` (special tokens take the segment of the content
    before them, see the module docstring). ``token_type_ids`` is ``None`` when the tokenizer
    does not feed them to the model (RoBERTa-style). ``attention_mask`` is ``None`` when every
    token is attended (as encoded); an erasure (:mod:`limelight.text.erasure`) may take tokens out of attention.
    """

    text: str
    text_pair: str | None
    input_ids: tuple[int, ...]
    tokens: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...]
    special_mask: tuple[bool, ...]
    word_ids: tuple[int | None, ...]
    segments: tuple[int, ...]
    token_type_ids: tuple[int, ...] | None = None
    attention_mask: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        per_token: list[tuple[object, ...]] = [self.tokens, self.offsets, self.special_mask, self.word_ids, self.segments]
        per_token += [values for values in (self.token_type_ids, self.attention_mask) if values is not None]
        if any(len(field) != len(self.input_ids) for field in per_token):
            raise InvalidInputError(
                "every per-token field of an Encoding needs one entry per input id; "
                f"got lengths {[len(self.input_ids)] + [len(field) for field in per_token]}"
            )

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def attention(self) -> tuple[int, ...]:
        """Per token, 1 when the model attends to it (every token unless an erasure took it out)."""
        return (1,) * len(self) if self.attention_mask is None else self.attention_mask

    def source(self, segment: int) -> str:
        """The original string that offsets of ``segment`` point into."""
        if segment == 0:
            return self.text
        if segment == 1 and self.text_pair is not None:
            return self.text_pair
        raise InvalidInputError(f"this encoding has no segment {segment}")

    def content_indices(self, segment: int | None = None) -> list[int]:
        """Indices of the non-special tokens, of one segment or of all."""
        return [
            index
            for index, (special, seg) in enumerate(zip(self.special_mask, self.segments))
            if not special and (segment is None or seg == segment)
        ]

    def select(self, indices: Sequence[int]) -> Encoding:
        """A new encoding made of the given tokens, in the given order (offsets unchanged)."""

        def pick(values: tuple) -> tuple:
            return tuple(values[i] for i in indices)

        return Encoding(
            text=self.text,
            text_pair=self.text_pair,
            input_ids=pick(self.input_ids),
            tokens=pick(self.tokens),
            offsets=pick(self.offsets),
            special_mask=pick(self.special_mask),
            word_ids=pick(self.word_ids),
            segments=pick(self.segments),
            token_type_ids=None if self.token_type_ids is None else pick(self.token_type_ids),
            attention_mask=None if self.attention_mask is None else pick(self.attention_mask),
        )


def uses_token_type_ids(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the tokenizer feeds ``token_type_ids`` to its model (BERT does, RoBERTa does not)."""
    return "token_type_ids" in getattr(tokenizer, "model_input_names", ())


def encode(tokenizer: PreTrainedTokenizerBase, text: str, text_pair: str | None = None) -> Encoding:
    """Tokenise one text, or one ``(text, text_pair)`` pair, without truncation."""
    return encode_batch(tokenizer, [text], None if text_pair is None else [text_pair])[0]


def encode_batch(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], text_pairs: Sequence[str] | None = None) -> list[Encoding]:
    """Tokenise many texts (or pairs) in one tokenizer call, without truncation or padding."""
    if not getattr(tokenizer, "is_fast", False):
        raise InvalidInputError(
            "limelight needs a fast (Rust-backed) Hugging Face tokenizer to map tokens to characters; "
            "load it with AutoTokenizer.from_pretrained(..., use_fast=True)"
        )
    _check_strings("texts", texts)
    if text_pairs is not None:
        _check_strings("text_pairs", text_pairs)
        if len(text_pairs) != len(texts):
            raise InvalidInputError(f"got {len(texts)} texts but {len(text_pairs)} text_pairs; give one pair per text")
    if not texts:
        return []
    with_types = uses_token_type_ids(tokenizer)
    batch = tokenizer(
        list(texts),
        None if text_pairs is None else list(text_pairs),
        add_special_tokens=True,
        truncation=False,
        padding=False,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_token_type_ids=with_types,
        verbose=False,
    )
    encodings = []
    for row, text in enumerate(texts):
        input_ids = tuple(batch["input_ids"][row])
        sequence_ids = batch.sequence_ids(row)
        special = tuple(bool(flag) or seq is None for flag, seq in zip(batch["special_tokens_mask"][row], sequence_ids))
        text_pair = None if text_pairs is None else text_pairs[row]
        segments, offsets = _clean_offsets((text, text_pair), batch["offset_mapping"][row], sequence_ids, special)
        encodings.append(
            Encoding(
                text=text,
                text_pair=text_pair,
                input_ids=input_ids,
                tokens=tuple(tokenizer.convert_ids_to_tokens(list(input_ids))),
                offsets=offsets,
                special_mask=special,
                word_ids=tuple(batch.word_ids(row)),
                segments=segments,
                token_type_ids=tuple(batch["token_type_ids"][row]) if with_types else None,
            )
        )
    return encodings


def _check_strings(name: str, values: Sequence[str]) -> None:
    if isinstance(values, str):
        raise InvalidInputError(f"{name} must be a sequence of strings, got one string; wrap it in a list")
    wrong = [type(value).__name__ for value in values if not isinstance(value, str)]
    if wrong:
        raise InvalidInputError(f"{name} must all be strings, got {', '.join(sorted(set(wrong)))}")


def _clean_offsets(
    sources: tuple[str, str | None],
    raw_offsets: Sequence[Sequence[int]],
    sequence_ids: Sequence[int | None],
    special: Sequence[bool],
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Segments and whitespace-trimmed offsets per token (rules in the module docstring)."""
    segments: list[int] = []
    offsets: list[tuple[int, int]] = []
    segment = 0
    last_end = {0: 0, 1: 0}
    for (start, end), seq, is_special in zip(raw_offsets, sequence_ids, special):
        if is_special:
            segments.append(segment)
            offsets.append((last_end[segment], last_end[segment]))
            continue
        segment = int(seq)  # type: ignore[arg-type]  # content tokens always have a sequence id
        source = sources[segment] or ""
        while start < end and source[start].isspace():
            start += 1
        while end > start and source[end - 1].isspace():
            end -= 1
        segments.append(segment)
        offsets.append((start, end))
        last_end[segment] = max(last_end[segment], end)
    return tuple(segments), tuple(offsets)


@dataclass(frozen=True)
class PaddedBatch:
    """Encodings padded into model-ready tensors; row ``r`` holds ``encodings[indices[r]]``."""

    indices: tuple[int, ...]
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor | None
    lengths: tuple[int, ...]
    padding_side: str

    def model_inputs(self) -> dict[str, torch.Tensor]:
        """Keyword arguments for a Hugging Face model's forward."""
        inputs = {"input_ids": self.input_ids, "attention_mask": self.attention_mask}
        if self.token_type_ids is not None:
            inputs["token_type_ids"] = self.token_type_ids
        return inputs

    def pad(self, rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
        """Pad other per-token rows (e.g. baseline ids), given in row order, exactly like ``input_ids``."""
        if [len(row) for row in rows] != list(self.lengths):
            raise InvalidInputError(f"rows have lengths {[len(row) for row in rows]} but the batch rows have {list(self.lengths)}")
        return pad_sequences(rows, value, self.padding_side, width=self.input_ids.shape[1])

    def select(self, rows: Sequence[int]) -> PaddedBatch:
        """The batch of only these rows, with the padding no remaining row needs cut off."""
        keep = torch.as_tensor(list(rows), dtype=torch.long)
        lengths = tuple(self.lengths[row] for row in rows)
        width = max(lengths, default=0)
        columns = slice(0, width) if self.padding_side == "right" else slice(self.input_ids.shape[1] - width, None)

        def cut(values: torch.Tensor) -> torch.Tensor:
            return values[keep][:, columns]

        return PaddedBatch(
            indices=tuple(self.indices[row] for row in rows),
            input_ids=cut(self.input_ids),
            attention_mask=cut(self.attention_mask),
            token_type_ids=None if self.token_type_ids is None else cut(self.token_type_ids),
            lengths=lengths,
            padding_side=self.padding_side,
        )

    def unpad(self, values: torch.Tensor) -> list[torch.Tensor]:
        """Split a ``[rows, width, ...]`` tensor into one ``[length, ...]`` tensor per row, padding removed."""
        if values.shape[:2] != self.input_ids.shape:
            raise InvalidInputError(f"values of shape {tuple(values.shape)} do not match the batch's {tuple(self.input_ids.shape)}")
        width = self.input_ids.shape[1]
        if self.padding_side == "right":
            return [values[row, :length] for row, length in enumerate(self.lengths)]
        return [values[row, width - length :] for row, length in enumerate(self.lengths)]


def pad_sequences(rows: Sequence[Sequence[int]], value: int, side: str = "right", width: int | None = None) -> torch.Tensor:
    """A ``[len(rows), width]`` long tensor of the rows, padded with ``value`` on ``side``."""
    check_choice("padding side", side, PADDING_SIDES)
    longest = max((len(row) for row in rows), default=0)
    width = longest if width is None else width
    if width < longest:
        raise InvalidInputError(f"cannot pad rows of length {longest} to width {width}")
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for index, row in enumerate(rows):
        if len(row) == 0:
            continue
        if side == "right":
            out[index, : len(row)] = torch.as_tensor(row, dtype=torch.long)
        else:
            out[index, width - len(row) :] = torch.as_tensor(row, dtype=torch.long)
    return out


def length_order(encodings: Sequence[Encoding]) -> list[int]:
    """Indices of ``encodings`` from longest to shortest (stable), so neighbours need little padding."""
    return sorted(range(len(encodings)), key=lambda index: -len(encodings[index]))


def batch_by_length(
    tokenizer: PreTrainedTokenizerBase,
    encodings: Sequence[Encoding],
    batch_size: int | None = None,
    padding_side: str | None = None,
    max_padding: float | None = None,
) -> list[PaddedBatch]:
    """Sort encodings by length, cut them into batches of at most ``batch_size`` (all if ``None``), pad each.

    With ``max_padding`` (a fraction), a batch also ends before a text shorter than
    ``(1 - max_padding)`` times the batch's longest, so padding never makes up more than that
    share of a row: on a CPU, padded positions cost as much as real ones. Padding uses the
    tokenizer's pad id and pad token type id, on ``padding_side`` (the tokenizer's by default).
    Each batch's ``indices`` say which encodings it holds.
    """
    if batch_size is not None and batch_size < 1:
        raise InvalidInputError(f"batch_size must be a positive integer or None, got {batch_size}")
    if max_padding is not None and not 0 <= max_padding < 1:
        raise InvalidInputError(f"max_padding must be a fraction in [0, 1), got {max_padding}")
    side: str = padding_side or getattr(tokenizer, "padding_side", None) or "right"
    size = batch_size or max(len(encodings), 1)
    groups: list[list[int]] = []
    for index in length_order(encodings):
        current = groups[-1] if groups else None
        fits = (
            current is not None
            and len(current) < size
            and (max_padding is None or len(encodings[index]) >= (1 - max_padding) * len(encodings[current[0]]))
        )
        if fits:
            current.append(index)  # type: ignore[union-attr]
        else:
            groups.append([index])
    return [_pad_batch(tokenizer, encodings, tuple(group), side) for group in groups]


def _pad_batch(tokenizer: PreTrainedTokenizerBase, encodings: Sequence[Encoding], indices: tuple[int, ...], side: str) -> PaddedBatch:
    chosen = [encodings[index] for index in indices]
    lengths = tuple(len(encoding) for encoding in chosen)
    pad_id = getattr(tokenizer, "pad_token_id", None)
    if pad_id is None:
        if len(set(lengths)) > 1:
            raise InvalidInputError(
                "the tokenizer has no pad token, so texts of different lengths cannot be batched; "
                "set tokenizer.pad_token (for example to tokenizer.eos_token) or use batch_size=1"
            )
        pad_id = 0  # never written: all rows have the same length, so there is no padding
    width = max(lengths, default=0)
    token_type_ids = None
    if all(encoding.token_type_ids is not None for encoding in chosen) and chosen:
        token_type_ids = pad_sequences(
            [encoding.token_type_ids for encoding in chosen],  # type: ignore[misc]
            getattr(tokenizer, "pad_token_type_id", 0),
            side,
            width,
        )
    return PaddedBatch(
        indices=indices,
        input_ids=pad_sequences([encoding.input_ids for encoding in chosen], pad_id, side, width),
        attention_mask=pad_sequences([encoding.attention for encoding in chosen], 0, side, width),
        token_type_ids=token_type_ids,
        lengths=lengths,
        padding_side=side,
    )
