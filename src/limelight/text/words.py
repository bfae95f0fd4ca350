"""Words as character spans of the original text, and token scores pooled into word scores.

A word is a run of content tokens (special tokens never belong to one). Two groupings:

* ``"tokenizer"`` (default): the tokenizer's own words (its pre-tokenizer's pieces, via
  ``word_ids``). For BERT, ``don't`` is three words ``don`` ``'`` ``t``; for RoBERTa ``it,`` is two.
* ``"whitespace"``: maximal runs of tokens whose character spans touch with no whitespace between
  them, i.e. the words a reader sees (``don't``, ``it,``).

Tokens made only of whitespace (empty spans, see :mod:`limelight.text.encoding`) join the next word
of their segment (in BPE and SentencePiece that space belongs to the next word), or the previous
one at the end of a segment; with the ``"tokenizer"`` grouping a neighbour with the same word id
comes first. So every content token is in exactly one word, and ``"sum"`` pooling keeps the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import torch

from limelight.engine.validation import check_choice
from limelight.errors import InvalidInputError
from limelight.text.encoding import Encoding
from limelight.text.explanation import Span

Grouping = Literal["tokenizer", "whitespace"]
Pooling = Literal["sum", "mean", "max", "abs_max", "l2"]
GROUPINGS: tuple[str, ...] = ("tokenizer", "whitespace")
POOLINGS: tuple[str, ...] = ("sum", "mean", "max", "abs_max", "l2")

Scores = TypeVar("Scores", torch.Tensor, np.ndarray)


@dataclass(frozen=True)
class Word:
    """A word: its segment, its ``[start, end)`` span in that segment's string, and its tokens."""

    segment: int
    start: int
    end: int
    token_indices: tuple[int, ...]


def group_words(encoding: Encoding, grouping: Grouping = "tokenizer") -> list[Word]:
    """The words of an encoding in reading order (segment 0 first), each a span of the original string."""
    check_choice("grouping", grouping, GROUPINGS)
    group_of: dict[int, int] = {}
    previous: int | None = None
    count = 0
    for index in _non_empty_content(encoding):
        if previous is None or _starts_new_word(encoding, previous, index, grouping):
            count += 1
        group_of[index] = count - 1
        previous = index
    lonely: dict[int, int] = {}
    for index in encoding.content_indices():
        if index in group_of:
            continue
        joined = _visible_neighbour_group(encoding, index, group_of, grouping)
        if joined is None:  # the segment shows no character: its empty tokens form one empty word
            joined = lonely.setdefault(encoding.segments[index], count)
            count = max(count, joined + 1)
        group_of[index] = joined
    members: dict[int, list[int]] = {}
    for index in sorted(group_of):
        members.setdefault(group_of[index], []).append(index)
    words = [_word(encoding, tuple(indices)) for indices in members.values()]
    return sorted(words, key=lambda word: word.token_indices[0])


def _non_empty_content(encoding: Encoding) -> list[int]:
    return [index for index in encoding.content_indices() if encoding.offsets[index][0] < encoding.offsets[index][1]]


def _starts_new_word(encoding: Encoding, previous: int, index: int, grouping: Grouping) -> bool:
    """Whether non-empty token ``index`` starts a word after non-empty token ``previous``."""
    segment = encoding.segments[index]
    if segment != encoding.segments[previous]:
        return True
    if grouping == "tokenizer":
        word_id = encoding.word_ids[index]
        return word_id is None or word_id != encoding.word_ids[previous]
    gap = encoding.source(segment)[encoding.offsets[previous][1] : encoding.offsets[index][0]]
    return any(character.isspace() for character in gap)


def _visible_neighbour_group(encoding: Encoding, index: int, group_of: dict[int, int], grouping: Grouping) -> int | None:
    """The group an empty-span token joins (rule in the module docstring); ``None`` if no visible neighbour."""
    segment = encoding.segments[index]

    def neighbour(step: int) -> int | None:
        position = index + step
        while 0 <= position < len(encoding):
            if encoding.segments[position] != segment:
                return None
            start, end = encoding.offsets[position]
            if not encoding.special_mask[position] and start < end:
                return position
            position += step
        return None

    before, after = neighbour(-1), neighbour(1)
    if grouping == "tokenizer" and encoding.word_ids[index] is not None:
        for candidate in (before, after):
            if candidate is not None and encoding.word_ids[candidate] == encoding.word_ids[index]:
                return group_of[candidate]
    candidate = after if after is not None else before
    return None if candidate is None else group_of[candidate]


def _word(encoding: Encoding, token_indices: tuple[int, ...]) -> Word:
    spans = [encoding.offsets[index] for index in token_indices]
    visible = [span for span in spans if span[0] < span[1]]
    if not visible:  # only whitespace tokens: an empty word where the whitespace ends
        return Word(encoding.segments[token_indices[0]], spans[-1][1], spans[-1][1], token_indices)
    start, end = min(start for start, _ in visible), max(end for _, end in visible)
    return Word(encoding.segments[token_indices[0]], start, end, token_indices)


def pool(scores: Scores, groups: Sequence[Sequence[int]], pooling: Pooling = "sum") -> Scores:
    """Pool token scores (``[tokens, ...]``) into one score per group (``[len(groups), ...]``).

    ``"sum"`` keeps completeness at word level (additive methods), ``"mean"`` averages,
    ``"max"`` takes the largest value, ``"abs_max"`` the signed value of largest magnitude
    (positive on a tie), ``"l2"`` the Euclidean norm. Groups must be non-empty and disjoint;
    tokens in no group (special tokens) are ignored. Returns the input's type (tensor or array).
    """
    check_choice("pooling", pooling, POOLINGS)
    values: torch.Tensor = torch.as_tensor(scores)
    if not values.is_floating_point():
        values = values.to(torch.get_default_dtype())
    if values.dim() == 0:
        raise InvalidInputError("token scores must have a token dimension, got a scalar")
    count = values.shape[0]
    owners = [-1] * count
    for group, indices in enumerate(groups):
        if len(indices) == 0:
            raise InvalidInputError(f"group {group} is empty; every word needs at least one token")
        for index in indices:
            if not 0 <= index < count:
                raise InvalidInputError(f"group {group} names token {index}, outside 0..{count - 1}")
            if owners[index] >= 0:
                raise InvalidInputError(f"token {index} is in groups {owners[index]} and {group}; groups must be disjoint")
            owners[index] = group
    owner = torch.tensor(owners, dtype=torch.long)
    grouped = owner >= 0
    member_groups, members = owner[grouped], values[grouped]
    shape = (len(groups), *values.shape[1:])
    pooled = _reduce(members, member_groups, shape, pooling)
    return pooled.numpy() if isinstance(scores, np.ndarray) else pooled


def _reduce(members: torch.Tensor, index: torch.Tensor, shape: tuple[int, ...], pooling: Pooling) -> torch.Tensor:
    def total(values: torch.Tensor) -> torch.Tensor:
        return members.new_zeros(shape).index_add_(0, index, values)

    def extreme(reduce: str) -> torch.Tensor:
        expanded = index.view(-1, *([1] * (members.dim() - 1))).expand_as(members)
        return members.new_zeros(shape).scatter_reduce_(0, expanded, members, reduce, include_self=False)

    if pooling == "sum":
        return total(members)
    if pooling == "mean":
        counts = torch.bincount(index, minlength=shape[0]).to(members.dtype)
        return total(members) / counts.view(-1, *([1] * (members.dim() - 1)))
    if pooling == "max":
        return extreme("amax")
    if pooling == "abs_max":
        high, low = extreme("amax"), extreme("amin")
        return torch.where(high >= -low, high, low)
    return total(members * members).sqrt()


def token_spans(encoding: Encoding, scores: torch.Tensor | np.ndarray | Sequence[float]) -> list[Span]:
    """One :class:`Span` per token, special tokens included, with its score.

    A content token's text is its piece of the original string (empty for a whitespace-only
    token; the pieces of a character split into several byte tokens all show that character).
    A special token shows the tokenizer's token (``[CLS]``) and has an empty span.
    """
    values = _per_token(encoding, scores)
    spans = []
    for index, ((start, end), special, segment) in enumerate(zip(encoding.offsets, encoding.special_mask, encoding.segments)):
        text = encoding.tokens[index] if special else encoding.source(segment)[start:end]
        spans.append(Span(text, start, end, float(values[index]), segment, special, (index,)))
    return spans


def word_spans(
    encoding: Encoding,
    scores: torch.Tensor | np.ndarray | Sequence[float],
    grouping: Grouping = "tokenizer",
    pooling: Pooling = "sum",
) -> list[Span]:
    """One :class:`Span` per word, in reading order, scored by pooling its tokens' scores."""
    values = _per_token(encoding, scores)
    words = group_words(encoding, grouping)
    pooled = pool(values, [word.token_indices for word in words], pooling)
    return [
        Span(
            encoding.source(word.segment)[word.start : word.end],
            word.start,
            word.end,
            float(score),
            word.segment,
            False,
            word.token_indices,
        )
        for word, score in zip(words, pooled.tolist())
    ]


def _per_token(encoding: Encoding, scores: torch.Tensor | np.ndarray | Sequence[float]) -> torch.Tensor:
    values = torch.as_tensor(np.asarray(scores) if not isinstance(scores, torch.Tensor) else scores).detach()
    if values.shape != (len(encoding),):
        raise InvalidInputError(
            f"expected one score per token, shape ({len(encoding)},), got {tuple(values.shape)}; "
            "sum attributions over the embedding dimension first"
        )
    return values.to(torch.float64)
