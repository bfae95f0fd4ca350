"""Prompt features: groups of attributable prompt tokens, each with its text and span in the prompt.

- ``"tokens"``: every attributable token;
- ``"words"``: runs of tokens whose spans touch with no whitespace between them (``France,`` is one
  word; a BPE token's leading space starts a new one);
- ``"sentences"``: runs of words up to one that ends in ``.``, ``!`` or ``?``, or up to a line break;
- ``"messages"``: one feature per chat message's content;
- a list of ``(start, end)`` character spans: the tokens inside each span (user segments, template slots).

A feature's span is trimmed of surrounding whitespace. Tokens in no feature are never attributed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from limelight.engine.validation import is_int
from limelight.errors import InvalidInputError

from .prompts import EncodedPrompt, Span

FEATURE_KINDS: tuple[str, ...] = ("tokens", "words", "sentences", "messages")
FeatureSpec = str | Sequence[Span]
_SENTENCE_ENDS = (".", "!", "?")


@dataclass(frozen=True)
class PromptFeatures:
    """The features of one prompt: ``(text, (start, end))`` spans and the prompt-token indices of each."""

    spans: tuple[tuple[str, Span], ...]
    tokens: tuple[tuple[int, ...], ...]

    def __len__(self) -> int:
        return len(self.spans)

    def mask(self, n_tokens: int) -> Tensor:
        """Feature id per prompt token, ``(n_tokens,)`` long; ``-1`` for tokens in no feature."""
        mask = torch.full((n_tokens,), -1, dtype=torch.long)
        for feature, indices in enumerate(self.tokens):
            mask[list(indices)] = feature
        return mask


def prompt_features(prompt: EncodedPrompt, spec: FeatureSpec) -> PromptFeatures:
    """The features of ``prompt`` for ``spec`` (a kind from :data:`FEATURE_KINDS` or a list of character spans)."""
    if isinstance(spec, str):
        if spec not in FEATURE_KINDS:
            raise InvalidInputError(
                f"features={spec!r} is not a kind of feature; choose one of {list(FEATURE_KINDS)} or give (start, end) spans"
            )
        if spec == "messages" and not prompt.is_chat:
            raise InvalidInputError("features='messages' needs a prompt given as chat messages")
        groups = _GROUPERS[spec](prompt)
    else:
        groups = _segments(prompt, _check_spans(spec, len(prompt.text)))
    groups = [g for g in groups if g]
    if not groups:
        raise InvalidInputError("no prompt token falls in any feature: check the spans against the prompt text")
    return PromptFeatures(tuple(_describe(prompt, g) for g in groups), tuple(tuple(g) for g in groups))


def _attributable(prompt: EncodedPrompt) -> list[int]:
    return [i for i, ok in enumerate(prompt.attributable) if ok]


def _tokens(prompt: EncodedPrompt) -> list[list[int]]:
    return [[i] for i in _attributable(prompt)]


def _words(prompt: EncodedPrompt) -> list[list[int]]:
    words: list[list[int]] = []
    previous: int | None = None
    for index in _attributable(prompt):
        start = prompt.offsets[index][0]
        joins = (
            previous is not None
            and previous == index - 1
            and prompt.offsets[previous][1] == start
            and not prompt.text[start].isspace()
            and _content_of(prompt, previous) == _content_of(prompt, index)
        )
        if joins:
            words[-1].append(index)
        else:
            words.append([index])
        previous = index
    return words


def _sentences(prompt: EncodedPrompt) -> list[list[int]]:
    sentences: list[list[int]] = []
    closed = True
    last_word: list[int] | None = None
    for word in _words(prompt):
        if last_word is not None:
            between = prompt.text[prompt.offsets[last_word[-1]][1] : prompt.offsets[word[0]][0] + 1]
            closed = closed or "\n" in between or _content_of(prompt, last_word[-1]) != _content_of(prompt, word[0])
        if closed or not sentences:
            sentences.append([])
        sentences[-1].extend(word)
        closed = prompt.text[prompt.offsets[word[0]][0] : prompt.offsets[word[-1]][1]].rstrip().endswith(_SENTENCE_ENDS)
        last_word = word
    return sentences


def _messages(prompt: EncodedPrompt) -> list[list[int]]:
    return _segments(prompt, list(prompt.content))


def _segments(prompt: EncodedPrompt, spans: Sequence[Span]) -> list[list[int]]:
    taken: set[int] = set()
    groups: list[list[int]] = []
    for lo, hi in spans:
        group = [i for i in _attributable(prompt) if lo <= prompt.offsets[i][0] and prompt.offsets[i][1] <= hi and i not in taken]
        taken.update(group)
        groups.append(group)
    return groups


def _content_of(prompt: EncodedPrompt, index: int) -> int:
    start, end = prompt.offsets[index]
    return next(i for i, (lo, hi) in enumerate(prompt.content) if lo <= start and end <= hi)


def _check_spans(spec: object, length: int) -> list[Span]:
    if not isinstance(spec, Sequence) or not spec:
        raise InvalidInputError(f"features must be one of {list(FEATURE_KINDS)} or a non-empty list of (start, end) spans, got {spec!r}")
    spans: list[Span] = []
    for span in spec:
        if not (isinstance(span, Sequence) and len(span) == 2 and all(is_int(v) for v in span) and 0 <= span[0] < span[1] <= length):
            raise InvalidInputError(f"feature span {span!r} is not a (start, end) pair with 0 <= start < end <= {length}")
        spans.append((int(span[0]), int(span[1])))
    return spans


def _describe(prompt: EncodedPrompt, group: list[int]) -> tuple[str, Span]:
    start, end = prompt.offsets[group[0]][0], prompt.offsets[group[-1]][1]
    text = prompt.text[start:end]
    start += len(text) - len(text.lstrip())
    end -= len(text) - len(text.rstrip())
    if end <= start:  # a feature made only of whitespace keeps its raw span
        start, end = prompt.offsets[group[0]][0], prompt.offsets[group[-1]][1]
    return prompt.text[start:end], (start, end)


_GROUPERS = {"tokens": _tokens, "words": _words, "sentences": _sentences, "messages": _messages}
