"""Sliding windows for texts longer than the model's maximum length, and stitching scores back.

limelight never truncates. When an encoding has more tokens than ``max_length`` (special tokens
counted), :func:`plan_windows` cuts the content of one segment into overlapping windows. Every
window keeps all the other tokens: the special tokens (re-wrapped exactly as the tokenizer placed
them, e.g. ``[CLS] … [SEP]``) and, for a text pair, the whole other segment. The segment that
slides is the longer one (``text`` on a tie); if the fixed tokens leave no room, that is an error.

Stitching rule (:func:`stitch`): a sliding token takes its score from the window where it is
farthest from a cut, i.e. a window edge that is not the start or end of the text (ties go to the
earlier window); so every token is scored with as much context on both sides as the windows
give. Tokens present in every window (special tokens, the fixed segment of a pair) get the
mean of their scores over the windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from limelight.errors import InvalidInputError
from limelight.text.encoding import Encoding


@dataclass(frozen=True)
class Window:
    """One window. Token positions are indices into the full encoding; characters index the sliding segment.

    ``indices``: the tokens fed to the model, in order. ``content_start``/``content_end``: the
    range of sliding tokens it holds. ``owned_start``/``owned_end``: the sliding tokens whose
    stitched score comes from this window. ``char_start``/``char_end``: the text its sliding
    tokens cover (whitespace-only tokens at the edges left out).
    """

    indices: tuple[int, ...] = field(repr=False)
    content_start: int
    content_end: int
    owned_start: int
    owned_end: int
    char_start: int
    char_end: int


@dataclass(frozen=True)
class WindowPlan:
    """The windows of one encoding (a single window when it fits), and what stitching needs."""

    windows: tuple[Window, ...]
    segment: int
    length: int
    max_length: int
    overlap: int
    fixed: tuple[int, ...]

    @property
    def is_windowed(self) -> bool:
        """True when the text needed more than one window."""
        return len(self.windows) > 1


def plan_windows(encoding: Encoding, max_length: int, overlap: int | None = None) -> WindowPlan:
    """Plan windows of at most ``max_length`` tokens overlapping by ``overlap`` sliding tokens.

    ``overlap`` defaults to a quarter of the room a window has for sliding tokens.
    """
    if max_length < 1:
        raise InvalidInputError(f"max_length must be a positive number of tokens, got {max_length}")
    segment = _sliding_segment(encoding)
    sliding = encoding.content_indices(segment)
    if sliding and sliding[-1] - sliding[0] + 1 != len(sliding):
        raise InvalidInputError("the tokens of one segment are not contiguous; this tokenizer cannot be windowed")
    first = sliding[0] if sliding else 0
    fixed = tuple(index for index in range(len(encoding)) if not first <= index < first + len(sliding))
    room = max_length - len(fixed)
    if len(encoding) <= max_length:
        starts, room = [0], len(sliding)
        overlap = 0
    else:
        if room < 1:
            part = "the special tokens" if encoding.text_pair is None else "the special tokens and the other text"
            raise InvalidInputError(
                f"{part} alone take {len(fixed)} tokens, leaving no room for the sliding text in a window of "
                f"max_length={max_length}; shorten the other text or use a model with a longer maximum length"
            )
        overlap = room // 4 if overlap is None else overlap
        if not 0 <= overlap < room:
            raise InvalidInputError(f"overlap must be in [0, {room}) tokens for this input, got {overlap}")
        last = len(sliding) - room
        starts = [*range(0, last, room - overlap), last]
    owners = _owners(starts, room, len(sliding))
    windows = tuple(_window(encoding, fixed, first, start, start + room, owners == k) for k, start in enumerate(starts))
    return WindowPlan(windows, segment, len(encoding), max_length, overlap, fixed)


def _sliding_segment(encoding: Encoding) -> int:
    if encoding.text_pair is None:
        return 0
    return 1 if len(encoding.content_indices(1)) > len(encoding.content_indices(0)) else 0


def _owners(starts: Sequence[int], room: int, count: int) -> np.ndarray:
    """For each sliding position, the window farthest from a cut (the earlier one on ties)."""
    far = count + room  # farther than any real distance: a text boundary is no cut
    best = np.full(count, -1)
    owner = np.zeros(count, dtype=np.int64)
    for k, start in enumerate(starts):
        end = start + room
        position = np.arange(start, end)
        left = position - start if start > 0 else np.full(room, far)
        right = end - 1 - position if end < count else np.full(room, far)
        distance = np.minimum(left, right)
        better = distance > best[start:end]
        best[start:end][better] = distance[better]
        owner[start:end][better] = k
    return owner


def _window(encoding: Encoding, fixed: tuple[int, ...], first: int, start: int, end: int, owned: np.ndarray) -> Window:
    content = range(first + start, first + end)
    before = [index for index in fixed if index < first]
    after = [index for index in fixed if index >= first]
    owned_positions = np.flatnonzero(owned)
    spans = [encoding.offsets[index] for index in content if encoding.offsets[index][0] < encoding.offsets[index][1]]
    return Window(
        indices=(*before, *content, *after),
        content_start=content.start,
        content_end=content.stop,
        owned_start=first + int(owned_positions.min()) if owned_positions.size else content.start,
        owned_end=first + int(owned_positions.max()) + 1 if owned_positions.size else content.start,
        char_start=min((s for s, _ in spans), default=0),
        char_end=max((e for _, e in spans), default=0),
    )


def window_encodings(encoding: Encoding, plan: WindowPlan) -> list[Encoding]:
    """The encoding of each window (special tokens re-wrapped, offsets still into the full text)."""
    if plan.length != len(encoding):
        raise InvalidInputError(f"the plan is for {plan.length} tokens but the encoding has {len(encoding)}")
    return [encoding.select(window.indices) for window in plan.windows]


def stitch(plan: WindowPlan, window_scores: Sequence[torch.Tensor | np.ndarray]) -> torch.Tensor:
    """Per-token scores over the whole encoding from each window's ``[len(window.indices), ...]`` scores."""
    if len(window_scores) != len(plan.windows):
        raise InvalidInputError(f"got scores for {len(window_scores)} windows but the plan has {len(plan.windows)}")
    values = [torch.as_tensor(scores) for scores in window_scores]
    trailing = values[0].shape[1:]
    dtype = values[0].dtype if values[0].is_floating_point() else torch.get_default_dtype()
    stitched = torch.zeros((plan.length, *trailing), dtype=dtype)
    fixed = torch.as_tensor(plan.fixed, dtype=torch.long)
    fixed_total = torch.zeros((len(plan.fixed), *trailing), dtype=dtype)
    for number, (window, scores) in enumerate(zip(plan.windows, values)):
        if scores.shape != (len(window.indices), *trailing):
            raise InvalidInputError(f"window {number} has {len(window.indices)} tokens but its scores have shape {tuple(scores.shape)}")
        position = {index: pos for pos, index in enumerate(window.indices)}
        owned = [position[index] for index in range(window.owned_start, window.owned_end)]
        stitched[window.owned_start : window.owned_end] = scores[owned].to(dtype)
        fixed_total += scores[[position[index] for index in plan.fixed]].to(dtype)
    stitched[fixed] = fixed_total / len(plan.windows)
    return stitched


def model_max_length(model: Any, tokenizer: Any) -> int:
    """The longest input the model accepts: the tokenizer's limit and the position table, whichever is smaller."""
    limits = []
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and tokenizer_limit < 1_000_000:
        limits.append(tokenizer_limit)
    config = model.config
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int):
        # RoBERTa-style models number positions from pad_token_id + 1.
        offset = (config.pad_token_id or 0) + 1 if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert") else 0
        limits.append(positions - offset)
    return min(limits) if limits else 512
