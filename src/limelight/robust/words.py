"""The smallest word-level edit that flips a text classifier's decision: delete the top-attributed words.

For an explanation of ``n`` words, step ``k`` erases the ``k + 1`` highest-ranked words (by score,
highest first, ties in word order, unless ``orders`` gives each text's ranking) with the text
front end's one erasure (:func:`limelight.text.erasure.erase`: ``fill="delete"`` removes the
tokens, ``"pad"``/``"mask"``/``"unk"`` replace them) and re-runs the model through its runner
(windows, right padding, eval mode). The decision flips when the predicted class differs from the
prediction on the whole text. The search over ``k`` (:mod:`.search`) is per text, linear or binary,
and minimal: deleting one word less does not flip it. A faithful explanation puts the words the
decision rests on first, so few of them need to go (the robustness-based faithfulness metric of
:mod:`limelight.evaluation` reads :attr:`WordDeletion.fraction`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from ..errors import InvalidInputError
from ..text.encoding import Encoding, encode
from ..text.erasure import Erasure, ErasureLike, erase
from ..text.explanation import Explanation
from ..text.labels import model_labels
from ..text.runner import TextRunner
from .search import first_flip


@dataclass(frozen=True)
class WordDeletion:
    """One text's answer: how many top words must go before the decision flips (``None``: even all of them do not flip it)."""

    text: str
    n_words: int
    deleted: int | None
    words: tuple[str, ...]
    original_label: str
    new_label: str | None

    @property
    def fraction(self) -> float:
        """``deleted / n_words`` (``nan`` when nothing flips it or the text has no words)."""
        return float("nan") if self.deleted is None or not self.n_words else self.deleted / self.n_words

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "text": self.text,
            "n_words": self.n_words,
            "deleted": self.deleted,
            "words": list(self.words),
            "original_label": self.original_label,
            "new_label": self.new_label,
            "fraction": None if self.deleted is None or not self.n_words else self.fraction,
        }


def minimal_word_deletion(
    model: nn.Module,
    tokenizer: Any,
    explanations: Sequence[Explanation],
    *,
    fill: ErasureLike = "delete",
    mode: str = "linear",
    orders: Sequence[Sequence[int]] | None = None,
    batch_size: int = 32,
) -> list[WordDeletion]:
    """Per explanation, the fewest top-ranked words whose erasure flips the model's decision (module docstring)."""
    explanations = list(explanations)
    if not all(isinstance(e, Explanation) for e in explanations):
        raise InvalidInputError("explanations must be limelight Explanations (from limelight.explain)")
    if orders is not None and len(orders) != len(explanations):
        raise InvalidInputError(f"orders needs one word ranking per explanation ({len(explanations)}), got {len(orders)}")
    erasure = Erasure.parse(fill, "fill").check(tokenizer)
    runner = TextRunner(model, tokenizer, batch_size=batch_size)
    labels = model_labels(model)
    encodings = [encode(tokenizer, e.text, e.text_pair) for e in explanations]
    words = [_word_tokens(e, enc, number) for number, (e, enc) in enumerate(zip(explanations, encodings))]
    ranked = [_order(e, orders[number] if orders is not None else None, number) for number, e in enumerate(explanations)]
    original = [int(logits.argmax()) for logits in runner.logits(encodings)]

    def probe(rows: list[int], steps: list[int]) -> tuple[list[bool], list[Any]]:
        variants = [_erased(encodings[row], words[row], ranked[row][: step + 1], erasure, tokenizer) for row, step in zip(rows, steps)]
        predicted = [int(logits.argmax()) for logits in runner.logits(variants)]
        return [p != original[row] for row, p in zip(rows, predicted)], predicted

    found = first_flip([len(w) for w in words], probe, mode)
    out = []
    for row, (explanation, step, new) in enumerate(zip(explanations, found.steps, found.payloads)):
        gone = () if step is None else tuple(explanation.word_spans[w].text for w in ranked[row][: step + 1])
        out.append(
            WordDeletion(
                text=explanation.text,
                n_words=len(words[row]),
                deleted=None if step is None else step + 1,
                words=gone,
                original_label=labels[original[row]],
                new_label=None if new is None else labels[new],
            )
        )
    return out


def _word_tokens(explanation: Explanation, encoding: Encoding, number: int) -> list[tuple[int, ...]]:
    """The token positions of each word, checked against this tokenizer's encoding of the text."""
    tokens = [tuple(span.token_indices) for span in explanation.word_spans]
    for span, group in zip(explanation.word_spans, tokens):
        if not group or any(not 0 <= t < len(encoding) or encoding.special_mask[t] for t in group):
            raise InvalidInputError(
                f"explanation {number} has word {span.text!r} on tokens {list(group)} that are not content tokens of this "
                "tokenizer's encoding of its text; use the tokenizer that made the explanation"
            )
    return tokens


def _order(explanation: Explanation, given: Sequence[int] | None, number: int) -> list[int]:
    """Word indices from highest to lowest score (stable), or the given ranking, checked to be a permutation."""
    n = len(explanation.word_spans)
    if given is None:
        scores = np.array([span.score for span in explanation.word_spans], dtype=np.float64)
        return [int(w) for w in np.argsort(-scores, kind="stable")]
    order = [int(w) for w in given]
    if sorted(order) != list(range(n)):
        raise InvalidInputError(f"orders[{number}] must rank each of the {n} words once, got {list(given)}")
    return order


def _erased(encoding: Encoding, words: list[tuple[int, ...]], chosen: Sequence[int], erasure: Erasure, tokenizer: Any) -> Encoding:
    return erase(encoding, {t for w in chosen for t in words[w]}, erasure, tokenizer)
