"""Prompts as token ids with character spans: a string, or chat messages rendered by the chat template.

Every prompt token has a span ``[start, end)`` in the prompt's text and a flag saying whether it may
be attributed. Special tokens (BOS) and, for chat messages, every token of the template (role
markers, the default system prompt, the generation prompt) are never attributed: only tokens that
lie inside a message's content are. Their embeddings stay fixed on gradient paths and they are
never removed by perturbations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from limelight.errors import InvalidInputError

Message = Mapping[str, str]
PromptSpec = str | Sequence[Message]

Span = tuple[int, int]


@dataclass(frozen=True)
class EncodedPrompt:
    """A tokenised prompt: its text, token ids, each token's span in the text and whether it is attributable.

    ``content`` holds the spans of the text that may be attributed: the whole string for a plain
    prompt, each message's content for chat messages (``roles`` names their roles).
    """

    text: str
    ids: tuple[int, ...]
    offsets: tuple[Span, ...]
    attributable: tuple[bool, ...]
    content: tuple[Span, ...]
    roles: tuple[str, ...] = ()

    @property
    def is_chat(self) -> bool:
        return bool(self.roles)


def encode_prompt(tokenizer: Any, prompt: PromptSpec) -> EncodedPrompt:
    """Tokenise ``prompt`` (a string, or a list of ``{"role", "content"}`` messages) with character offsets."""
    if isinstance(prompt, str):
        if not prompt:
            raise InvalidInputError("the prompt is empty: give the text the model continues")
        return _encode(tokenizer, prompt, add_special_tokens=True, content=((0, len(prompt)),), roles=())
    if not isinstance(prompt, Sequence) or not prompt:
        raise InvalidInputError(f"a prompt is a string or a non-empty list of chat messages, got {type(prompt).__name__}")
    messages = [_check_message(m, i) for i, m in enumerate(prompt)]
    if getattr(tokenizer, "chat_template", None) is None:
        raise InvalidInputError("chat messages need a tokenizer with a chat template (tokenizer.chat_template is not set)")
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    spans: list[Span] = []
    cursor = 0
    for message in messages:
        start = text.find(message["content"], cursor)
        if start < 0:
            raise InvalidInputError(f"the chat template did not render the content of the {message['role']!r} message verbatim")
        spans.append((start, start + len(message["content"])))
        cursor = start + len(message["content"])
    return _encode(tokenizer, text, add_special_tokens=False, content=tuple(spans), roles=tuple(m["role"] for m in messages))


def _check_message(message: object, index: int) -> dict[str, str]:
    if not isinstance(message, Mapping) or not isinstance(message.get("role"), str) or not isinstance(message.get("content"), str):
        raise InvalidInputError(f"chat message {index} must be a mapping with string 'role' and 'content', got {message!r}")
    return {"role": message["role"], "content": message["content"]}


def _encode(tokenizer: Any, text: str, *, add_special_tokens: bool, content: tuple[Span, ...], roles: tuple[str, ...]) -> EncodedPrompt:
    if not getattr(tokenizer, "is_fast", False):
        raise InvalidInputError("limelight.generation needs a fast tokenizer (character offsets); load it with use_fast=True")
    encoded = tokenizer(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True, return_special_tokens_mask=True)
    ids = tuple(int(i) for i in encoded["input_ids"])
    offsets = tuple((int(s), int(e)) for s, e in encoded["offset_mapping"])
    special = encoded["special_tokens_mask"]
    attributable = tuple(
        not special[i] and end > start and any(lo <= start and end <= hi for lo, hi in content) for i, (start, end) in enumerate(offsets)
    )
    if not any(attributable):
        raise InvalidInputError("no token of the prompt can be attributed (it holds only special or template tokens)")
    return EncodedPrompt(text, ids, offsets, attributable, content, roles)
