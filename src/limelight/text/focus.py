"""Heads that explain one position of a text: which token (token classification) or answer span (QA), in which window.

A token classifier's label at token ``t`` and a reader's start/end logits depend only on the
window the model read, so a text longer than the model's limit is explained in one window: the
window that owns the token (token classification, see :func:`~limelight.text.windows.stitch`
for ownership) or the window where the predicted answer scores highest (question answering, as
Hugging Face's pipeline picks it). Tokens outside that window score exactly 0: the explained
output never saw them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..engine.validation import is_int
from ..errors import InvalidInputError
from .encoding import Encoding
from .windows import WindowPlan

MAX_ANSWER_TOKENS = 30
"""The longest answer span (in tokens) a predicted answer may have, as in Hugging Face's QA pipeline."""


@dataclass(frozen=True)
class Focus:
    """One explained position: token ``start`` (to ``end`` for an answer) of the full encoding, read in window ``window``."""

    window: int
    start: int
    end: int


def owning_window(plan: WindowPlan, token: int) -> int:
    """The window whose stitched score covers ``token`` (the first window for a token every window holds)."""
    for number, window in enumerate(plan.windows):
        if window.owned_start <= token < window.owned_end:
            return number
    return 0


def token_at(encoding: Encoding, token: int | None, span: tuple[int, int] | None) -> int:
    """The token a token-classification explanation is for: ``token`` (an index into the encoding) or the first token of ``span``.

    ``span`` is ``(start, end)`` in characters of the text; the first non-special token overlapping
    it is taken (the token whose label a token classifier assigns to a word is its first piece).
    """
    if token is not None and span is not None:
        raise InvalidInputError("give token= or span=, not both")
    if token is not None:
        if not is_int(token) or not 0 <= int(token) < len(encoding):
            raise InvalidInputError(f"token must be a token index in 0..{len(encoding) - 1} of this text, got {token!r}")
        if encoding.special_mask[int(token)]:
            raise InvalidInputError(f"token {token} is the special token {encoding.tokens[int(token)]!r}; choose a token of the text")
        return int(token)
    if span is None or len(span) != 2 or not all(is_int(v) for v in span) or not 0 <= span[0] < span[1] <= len(encoding.text):
        raise InvalidInputError(f"span must be (start, end) character offsets with 0 <= start < end <= {len(encoding.text)}, got {span!r}")
    for index in encoding.content_indices(0):
        begin, finish = encoding.offsets[index]
        if begin < span[1] and finish > span[0]:
            return index
    raise InvalidInputError(f"span {span} covers no token of the text (only whitespace?); choose characters of a word")


def entity_tokens(encoding: Encoding, predicted: Sequence[int], names: list[str]) -> list[int]:
    """First tokens of the words predicted as something other than ``O`` (every entity of the text)."""
    if "O" not in names:
        raise InvalidInputError(
            f"every entity means tokens not labelled 'O', but this model has no 'O' label ({names}); pass token= or span="
        )
    outside = names.index("O")
    seen: set[int | None] = set()
    chosen = []
    for index in encoding.content_indices(0):
        word = encoding.word_ids[index]
        if word in seen:
            continue
        seen.add(word)
        if predicted[index] != outside:
            chosen.append(index)
    return chosen


def best_span(start: Tensor, end: Tensor, allowed: Sequence[int]) -> tuple[int, int, float]:
    """The highest-scoring ``(s, e, start[s] + end[e])`` with ``s <= e < s + MAX_ANSWER_TOKENS`` over ``allowed`` positions."""
    if not allowed:
        raise InvalidInputError("the context has no token to answer from")
    index = torch.as_tensor(list(allowed), dtype=torch.long)
    scores = start[index].unsqueeze(1) + end[index].unsqueeze(0)
    positions = index.unsqueeze(1), index.unsqueeze(0)
    valid = (positions[1] >= positions[0]) & (positions[1] - positions[0] < MAX_ANSWER_TOKENS)
    scores = scores.masked_fill(~valid, float("-inf"))
    flat = int(scores.argmax())
    row, column = divmod(flat, len(index))
    return int(index[row]), int(index[column]), float(scores[row, column])


def answer_tokens(encoding: Encoding, answer: tuple[int, int]) -> tuple[int, int]:
    """First and last context tokens overlapping the character span ``answer`` of the context (``text_pair``)."""
    context = encoding.text_pair or ""
    if len(answer) != 2 or not all(is_int(v) for v in answer) or not 0 <= answer[0] < answer[1] <= len(context):
        raise InvalidInputError(
            f"answer must be (start, end) character offsets into the context with 0 <= start < end <= {len(context)}, got {answer!r}"
        )
    covered = [i for i in encoding.content_indices(1) if encoding.offsets[i][0] < answer[1] and encoding.offsets[i][1] > answer[0]]
    if not covered:
        raise InvalidInputError(f"answer {answer} covers no token of the context; choose characters of a word")
    return covered[0], covered[-1]
