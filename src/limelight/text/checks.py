"""Checks on what a user passes to ``explain``: the texts, the method's settings, readable tokens.

Each refuses bad input with a message naming what was wrong and what to pass instead, before any
model work: texts that are not strings (``None``, a number, ``bytes``) or hold lone surrogates
(which no tokenizer can encode), misspelled settings (with the close matches), and texts that
the tokenizer turns mostly into its unknown token (a tokenizer that does not fit the model or
the language, whose prediction would be confident and meaningless).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable, Mapping, Set
from typing import Any

from .._warnings import warn
from ..engine.options import CommonKwargs
from ..errors import InvalidInputError, TokenizerWarning
from .encoding import Encoding

_SET_BY_THE_FRONT_END = {
    "inputs",
    "baselines",
    "target",
    "layer_baselines",
    "feature_mask",
    "forward_kwargs",
    "additional_forward_args",
    "method",
    "observe",
}
"""``attribute`` arguments the text front end fills itself (``method`` is the limelight method's name here)."""

UNKNOWN_SHARE = 0.5
"""Warn when more than this share of a text's content tokens (at least :data:`UNKNOWN_MINIMUM`) are unknown."""

UNKNOWN_MINIMUM = 3


def check_texts(texts: Any, name: str) -> list[str]:
    """``texts`` (one string or an iterable of them: a list, a pandas Series...) as a list of encodable strings."""
    items = [texts] if isinstance(texts, str) else texts
    if isinstance(texts, (bytes, bytearray, Mapping, Set)) or not isinstance(items, Iterable):
        raise InvalidInputError(
            f"{name} must be a string or a list of strings (in order), got {type(texts).__name__}"
            + ("; decode bytes first, e.g. data.decode('utf-8')" if isinstance(texts, (bytes, bytearray)) else "")
        )
    items = list(items)
    for number, text in enumerate(items):
        if not isinstance(text, str):
            advice = "; decode bytes first, e.g. data.decode('utf-8')" if isinstance(text, (bytes, bytearray)) else ""
            raise InvalidInputError(f"{name}[{number}] must be a string, got {type(text).__name__}{advice}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidInputError(
                f"{name}[{number}] holds a lone surrogate {text[error.start]!r} at character {error.start}, which is not "
                "text any tokenizer can encode (often a file decoded with errors='surrogateescape'); decode the source "
                "as UTF-8 with errors='replace', or remove the character"
            ) from None
    return items


def accepted_options(engine: Any) -> set[str]:
    """The keyword settings an engine method's ``attribute`` takes (a wrapper's and its wrapped method's)."""
    names = set(CommonKwargs.__annotations__)
    parameters = inspect.signature(engine.attribute).parameters.values()
    names |= {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    inner = getattr(engine, "method", None)
    if inner is not None and hasattr(inner, "attribute"):
        names |= accepted_options(inner)
    return names - _SET_BY_THE_FRONT_END


def check_method_options(engine: Any, given: Mapping[str, Any], method: str) -> None:
    """Refuse settings ``method`` does not take, naming the close matches (``n_step`` -> ``n_steps``)."""
    accepted = accepted_options(engine)
    for name in sorted(set(given) - accepted):
        close = difflib.get_close_matches(name, sorted(accepted), n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise InvalidInputError(f"{method!r} has no setting {name!r}{hint} Its settings are {sorted(accepted)}")


def check_unknown_rate(tokenizer: Any, encoding: Encoding, number: int) -> None:
    """Warn when most of a text's content tokens are the tokenizer's unknown token."""
    unknown = getattr(tokenizer, "unk_token_id", None)
    if unknown is None:
        return
    content = [token for token, special in zip(encoding.input_ids, encoding.special_mask) if not special]
    count = sum(token == unknown for token in content)
    if count >= UNKNOWN_MINIMUM and count > UNKNOWN_SHARE * len(content):
        warn(
            f"text {number}: {count} of its {len(content)} tokens are the unknown token {getattr(tokenizer, 'unk_token', '')!r}, "
            "so the model cannot read it and its prediction means little; check that the tokenizer is the model's own "
            "(saved with tokenizer.save_pretrained next to the model) and that the text's language fits the model",
            TokenizerWarning,
        )


def check_tokenizer_fits(layer: Any, tokenizer: Any) -> None:
    """Refuse a tokenizer whose vocabulary does not fit the model's word-embedding table.

    More tokens than rows: ids past the table are out of range (an index error, or another
    token's row on some devices). Fewer than half the rows: not the model's tokenizer (typically a
    default one transformers built for a folder without tokenizer files); a few unused rows are
    normal (tables are often padded to a round size).
    """
    weight = getattr(layer, "weight", None)
    rows = int(weight.shape[0]) if weight is not None and getattr(weight, "dim", lambda: 0)() == 2 else None
    try:
        size = len(tokenizer)
    except TypeError:
        return
    if rows is None:
        return
    if size > rows:
        raise InvalidInputError(
            f"the tokenizer has {size} tokens but the model's word-embedding table has {rows} rows, so ids from {rows} on are "
            "out of range: this is not the model's tokenizer; load the one saved with the model"
        )
    if 2 * size < rows:
        raise InvalidInputError(
            f"the tokenizer has {size} tokens but the model's word-embedding table has {rows} rows: it is not the model's "
            "tokenizer (a folder without tokenizer files gets a tiny default one); load the one saved with the model"
        )
