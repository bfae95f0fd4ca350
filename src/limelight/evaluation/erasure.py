"""The word eraser: re-run the model on a text with chosen words erased, many variants per forward.

Every faithfulness metric asks "what does the model say when these words are gone (or are the
only ones left)?". :class:`WordEraser` answers it for many explanations at once:

* an explanation is re-encoded from its own text (:func:`limelight.text.encoding.encode`) and its
  words are the token groups recorded in ``word_spans[i].token_indices``;
* erasing a word is the text front end's one erasure (:func:`limelight.text.erasure.erase`, the
  same the perturbation methods use): ``fill="delete"`` (ERASER's definition) deletes its tokens,
  ``"pad"``/``"mask"``/``"unk"`` replace each by that token of the tokenizer (a pad also leaves
  attention); special tokens always stay;
* all variants of all texts go through the text front end's runner (:class:`~limelight.text.runner.TextRunner`:
  windows, length-sorted right-padded batches of ``batch_size`` rows, logits averaged over
  windows, as :class:`~limelight.text.TextExplainer` predicts); results are cached, so a variant
  needed by two metrics or two methods (the full text, leave-one-out deletions, ...) runs once.

A perturbation may also move word embeddings part of the way towards the pad token's embedding
(``shift``), for the embedding-space infidelity; those rows are never cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import Tensor, nn

from limelight.engine.objective import Objective
from limelight.errors import InvalidInputError
from limelight.text.encoding import Encoding, encode
from limelight.text.erasure import ERASURE_NAMES, Erasure, ErasureLike, erase
from limelight.text.explanation import Explanation
from limelight.text.labels import model_labels
from limelight.text.objective import objective_of
from limelight.text.runner import Shift, TextRunner

from .eraser import Perturbation

FILLS: tuple[str, ...] = ERASURE_NAMES
"""The names of the erasures a word can disappear by (:class:`~limelight.text.erasure.Erasure`)."""


@dataclass(frozen=True)
class Subject:
    """One explanation ready for evaluation: its encoding, its words' tokens, its scores and objective."""

    explanation: Explanation
    encoding: Encoding
    words: tuple[tuple[int, ...], ...]
    scores: np.ndarray
    objective: Objective

    @property
    def n_features(self) -> int:
        """How many words the explanation scores."""
        return len(self.words)


@dataclass(frozen=True)
class _Row:
    """One model input to evaluate: an encoding and the per-token embedding shift (or none)."""

    encoding: Encoding
    shift: Shift | None


class WordEraser:
    """Evaluates an explanation's objective on texts with words erased, in batches, with a cache.

    ``fill``: an :class:`~limelight.text.erasure.Erasure` or its name, ``"delete"`` (default),
    ``"pad"``, ``"mask"`` or ``"unk"`` (see the module docstring).
    ``quantity``: ``None`` measures what each explanation explained (its ``quantity``); a name
    (``"logit"``, ``"probability"``, ``"log_probability"``) measures that instead.
    ``batch_size`` rows (variants) go through the model together.
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        *,
        fill: ErasureLike = "delete",
        quantity: str | None = None,
        batch_size: int = 64,
        max_length: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidInputError(f"model must be a torch nn.Module classifier, got {type(model).__name__}")
        self.runner = TextRunner(model, tokenizer, batch_size=batch_size, max_length=max_length, show_progress=show_progress)
        self.model, self.tokenizer = model, tokenizer
        self.fill, self.quantity = self._checked(fill), quantity
        self.labels = model_labels(model)
        self._cache: dict[tuple[Any, ...], Tensor] = {}

    @property
    def rows_evaluated(self) -> int:
        """How many rows (windows of variants) went through the model."""
        return self.runner.rows_evaluated

    def prepare(self, items: Sequence[Explanation | Subject]) -> list[Subject]:
        """Re-encode each explanation's text and check its words belong to this tokenizer's encoding
        (already prepared subjects pass through)."""
        return [item if isinstance(item, Subject) else self._subject(item, number) for number, item in enumerate(items)]

    def values(self, perturbations: Sequence[Perturbation], fill: ErasureLike | None = None) -> np.ndarray:
        """The objective of each perturbation's subject on the perturbed text (``fill`` overrides the eraser's)."""
        fill = self.fill if fill is None else self._checked(fill)
        keys: list[tuple[Any, ...] | None] = []
        pending: dict[tuple[Any, ...], int] = {}
        rows: list[_Row] = []
        for perturbation in perturbations:
            key = None if perturbation.shift is not None else _cache_key(perturbation, fill)
            keys.append(key)
            if key is not None and (key in self._cache or key in pending):
                continue
            if key is not None:
                pending[key] = len(rows)
            rows.append(self._row(perturbation, fill))
        logits = self.runner.logits([row.encoding for row in rows], [row.shift for row in rows], "evaluating erasures") if rows else []
        for key, index in pending.items():
            self._cache[key] = logits[index]
        cached_rows = set(pending.values())
        uncached = iter(index for index in range(len(rows)) if index not in cached_rows)
        out = np.empty(len(perturbations), dtype=np.float64)
        for position, (perturbation, key) in enumerate(zip(perturbations, keys)):
            row_logits = self._cache[key] if key is not None else logits[next(uncached)]
            out[position] = float(perturbation.subject.objective.value(row_logits.unsqueeze(0))[0])
        return out

    def full(self, subjects: Sequence[Subject]) -> np.ndarray:
        """``f(x)``: the objective on each unaltered text."""
        return self.values([Perturbation(subject) for subject in subjects])

    def _subject(self, explanation: Explanation, number: int) -> Subject:
        if not isinstance(explanation, Explanation):
            raise InvalidInputError(f"item {number} is a {type(explanation).__name__}, not an Explanation")
        encoding = encode(self.tokenizer, explanation.text, explanation.text_pair)
        words = tuple(tuple(span.token_indices) for span in explanation.word_spans)
        for span, tokens in zip(explanation.word_spans, words):
            if not _word_fits(encoding, span.start, span.end, span.segment, tokens):
                raise InvalidInputError(
                    f"explanation {number} (text {explanation.text[:40]!r}) has word {span.text!r} on tokens {list(tokens)} "
                    "that this tokenizer's encoding of the text does not have; evaluate with the tokenizer that made it"
                )
        scores = np.array([span.score for span in explanation.word_spans], dtype=np.float64)
        return Subject(explanation, encoding, words, scores, objective_of(explanation, self.labels, self.quantity))

    def _checked(self, fill: ErasureLike) -> Erasure:
        """The erasure ``fill`` names, checked against this tokenizer (a pad/mask/unk fill needs that token)."""
        return Erasure.parse(fill, "fill").check(self.tokenizer)

    def _row(self, perturbation: Perturbation, fill: Erasure) -> _Row:
        subject = perturbation.subject
        encoding = subject.encoding
        removed = {token for word in perturbation.removed for token in subject.words[word]}
        shift = None
        if perturbation.shift is not None:
            if len(perturbation.shift) != subject.n_features:
                raise InvalidInputError(f"a shift needs one value per word ({subject.n_features}), got {len(perturbation.shift)}")
            per_token = [0.0] * len(encoding)
            for word, amount in zip(subject.words, perturbation.shift):
                for token in word:
                    per_token[token] = float(amount)
            shift = tuple(per_token)
        erased = erase(encoding, removed, fill, self.tokenizer)
        if fill.deletes and shift is not None:
            shift = tuple(amount for index, amount in enumerate(shift) if index not in removed)
        return _Row(erased, shift)


def _word_fits(encoding: Encoding, start: int, end: int, segment: int, tokens: tuple[int, ...]) -> bool:
    """Whether ``tokens`` are content tokens of ``encoding`` in ``segment`` whose visible text lies in ``[start, end)``."""
    if not tokens:
        return False
    for token in tokens:
        if not 0 <= token < len(encoding) or encoding.special_mask[token] or encoding.segments[token] != segment:
            return False
        token_start, token_end = encoding.offsets[token]
        if token_start < token_end and not (start <= token_start and token_end <= end):
            return False
    return True


def _cache_key(perturbation: Perturbation, fill: Erasure) -> tuple[Any, ...]:
    subject = perturbation.subject
    tokens = tuple(sorted(token for word in perturbation.removed for token in subject.words[word]))
    return (subject.encoding.text, subject.encoding.text_pair, fill, tokens)
