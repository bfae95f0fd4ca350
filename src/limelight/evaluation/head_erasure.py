"""The eraser of the position and pair heads: token classification, question answering, sentence similarity.

The faithfulness metrics (:mod:`.faithfulness`) need an :class:`~.eraser.Eraser`: re-run the model
with some words erased and read the explained quantity. For these heads the quantity is not a
class score of the sequence, so :class:`HeadEraser` reads it where it lives:

* token classification: the explained label's score (its ``quantity``) at the explained token. The
  word holding that token is never a feature (erasing the token would remove what is explained);
  with ``fill="delete"`` the token's position moves left by the tokens deleted before it.
* question answering: the answer span's ``start`` logit, ``end`` logit, or their sum (``span``),
  as the explanation's part says, at the same answer tokens. Only the words outside the answer are
  features (question words and the rest of the context): a metric erases them and re-scores the
  same span, so it measures what the words around the answer contribute to finding it there.
* sentence similarity: the cosine of the two texts' pooled encodings (the pooling the explanation
  recorded); every word of either text is a feature, each text is re-encoded on its own.

Erasing is the text front end's one erasure (:func:`limelight.text.erasure.erase`) and every forward
goes through the text runner, as for :class:`~.erasure.WordEraser`. The explained output must have
read the whole input (no windows), so an explanation read in one window of a longer text is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from limelight.engine.objective import Objective
from limelight.errors import InvalidInputError
from limelight.text.encoding import Encoding, encode
from limelight.text.erasure import Erasure, ErasureLike, erase
from limelight.text.explanation import Explanation
from limelight.text.focus import answer_tokens, token_at
from limelight.text.labels import model_labels, resolve_label
from limelight.text.runner import TextRunner
from limelight.text.similarity import SIMILARITY_HEAD
from limelight.text.tasks import QA_PARTS, QUESTION_ANSWERING, TOKEN_CLASSIFICATION, qa_logits

from .eraser import Perturbation
from .erasure import _word_fits

HEADS_MEASURED: tuple[str, ...] = (TOKEN_CLASSIFICATION, QUESTION_ANSWERING, SIMILARITY_HEAD)
"""The heads :class:`HeadEraser` re-measures."""

Word = tuple[int, tuple[int, ...]]
"""A feature: which encoding of the subject (0, or 1 for a similarity's second text) and its tokens there."""


@dataclass(frozen=True)
class HeadSubject:
    """One explanation ready for evaluation: its encodings, its feature words, their scores, and what is read.

    ``focus``: the explained token (token classification, one entry) or the answer's first and last
    tokens (question answering); empty for similarity. ``reads``: the label index (token
    classification), the part (``"start"``, ``"end"``, ``"span"``), or the pooling (similarity).
    """

    explanation: Explanation
    encodings: tuple[Encoding, ...]
    words: tuple[Word, ...]
    scores: np.ndarray
    focus: tuple[int, ...]
    reads: int | str
    quantity: str

    @property
    def n_features(self) -> int:
        """How many words the metrics may erase."""
        return len(self.words)


class HeadEraser:
    """Evaluates the explained quantity of token, answer and similarity explanations on erased texts (cached).

    ``fill``: how an erased word disappears (``"delete"``, ``"pad"``, ``"mask"``, ``"unk"`` or an
    :class:`~limelight.text.erasure.Erasure`). ``quantity``: for token classification, a quantity
    over the labels to measure instead of the explained one; the other heads have one quantity.
    """

    def __init__(
        self, model: nn.Module, tokenizer: Any, *, fill: ErasureLike = "delete", quantity: str | None = None, batch_size: int = 64
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidInputError(f"model must be a torch nn.Module, got {type(model).__name__}")
        self.model, self.tokenizer, self.quantity = model, tokenizer, quantity
        self.fill = Erasure.parse(fill, "fill").check(tokenizer)
        self._runners: dict[str, TextRunner] = {}
        self._batch_size = batch_size
        self._cache: dict[tuple[Any, ...], float] = {}

    @property
    def rows_evaluated(self) -> int:
        """How many rows went through the model."""
        return sum(runner.rows_evaluated for runner in self._runners.values())

    def prepare(self, items: Sequence[Explanation | HeadSubject]) -> list[HeadSubject]:
        """A subject per explanation (prepared subjects pass through)."""
        return [item if isinstance(item, HeadSubject) else self._subject(item, number) for number, item in enumerate(items)]

    def full(self, subjects: Sequence[HeadSubject]) -> np.ndarray:
        """``f(x)``: the explained quantity on each unaltered input."""
        return self.values([Perturbation(subject) for subject in subjects])

    def values(self, perturbations: Sequence[Perturbation]) -> np.ndarray:
        """The explained quantity of each perturbation's subject with its ``removed`` words erased."""
        if any(p.shift is not None for p in perturbations):
            raise InvalidInputError("these heads' metrics erase words; embedding shifts need a sequence classifier's WordEraser")
        keys = [_key(p, self.fill) for p in perturbations]
        pending = {key: p for key, p in zip(keys, perturbations) if key not in self._cache}
        by_head: dict[str, list[tuple[tuple[Any, ...], HeadSubject, list[Encoding], list[tuple[int, ...]]]]] = {}
        for key, perturbation in pending.items():
            subject = perturbation.subject
            removed = _removed_tokens(subject, perturbation.removed)
            erased = [erase(e, removed[part], self.fill, self.tokenizer) for part, e in enumerate(subject.encodings)]
            by_head.setdefault(subject.explanation.head, []).append((key, subject, erased, removed))
        for head, rows in by_head.items():
            runner = self._runner(head)
            outputs = runner.forward(runner.batches([e for _, _, erased, _ in rows for e in erased]))
            cursor = 0
            for key, subject, erased, removed in rows:
                own = outputs[cursor : cursor + len(erased)]
                cursor += len(erased)
                self._cache[key] = self._read(subject, own, erased, removed)
        return np.array([self._cache[key] for key in keys], dtype=np.float64)

    def _runner(self, head: str) -> TextRunner:
        if head not in self._runners:
            output: Any = {TOKEN_CLASSIFICATION: "logits", QUESTION_ANSWERING: _start_end, SIMILARITY_HEAD: "last_hidden_state"}[head]
            self._runners[head] = TextRunner(self.model, self.tokenizer, batch_size=self._batch_size, output=output)
        return self._runners[head]

    def _read(self, subject: HeadSubject, outputs: list[Tensor], erased: list[Encoding], removed: list[tuple[int, ...]]) -> float:
        """The explained quantity from the per-row outputs of the erased encodings."""
        head = subject.explanation.head
        if head == SIMILARITY_HEAD:
            first, second = (_pooled(out[: len(e)], e, str(subject.reads)) for out, e in zip(outputs, erased))
            return float(torch.nn.functional.cosine_similarity(first, second, dim=0))
        shift = self.fill.deletes
        positions = [token - (sum(1 for r in removed[0] if r < token) if shift else 0) for token in subject.focus]
        if head == TOKEN_CLASSIFICATION:
            objective = Objective(int(subject.reads), subject.quantity)
            return float(objective.value(outputs[0][positions[0]].unsqueeze(0))[0])
        start, end = float(outputs[0][positions[0], 0]), float(outputs[0][positions[1], 1])
        return {"start": start, "end": end, "span": start + end}[str(subject.reads)]

    def _subject(self, explanation: Explanation, number: int) -> HeadSubject:
        if not isinstance(explanation, Explanation):
            raise InvalidInputError(f"item {number} is a {type(explanation).__name__}, not an Explanation")
        head = explanation.head
        if head not in HEADS_MEASURED:
            raise InvalidInputError(f"explanation {number} is of a {head.replace('_', ' ')} head; use a WordEraser for it")
        if explanation.read_window is not None or explanation.is_windowed:
            raise InvalidInputError(
                f"explanation {number} was read in one window of a text longer than the model's limit; "
                "metrics re-run the whole text, so evaluate texts that fit the model"
            )
        if head == SIMILARITY_HEAD:
            encodings: tuple[Encoding, ...] = (
                encode(self.tokenizer, explanation.text),
                encode(self.tokenizer, explanation.text_pair or ""),
            )
        else:
            encodings = (encode(self.tokenizer, explanation.text, explanation.text_pair),)
        focus, reads = self._focus(explanation, encodings[0], number)
        words: list[Word] = []
        scores: list[float] = []
        offset = len(encodings[0])
        for span in explanation.word_spans:
            part = span.segment if head == SIMILARITY_HEAD else 0
            tokens = tuple(t - offset for t in span.token_indices) if part else tuple(span.token_indices)
            if not _word_fits(encodings[part], span.start, span.end, 0 if head == SIMILARITY_HEAD else span.segment, tokens):
                raise InvalidInputError(
                    f"explanation {number} has word {span.text!r} on tokens {list(span.token_indices)} that this tokenizer's "
                    "encoding does not have; evaluate with the tokenizer that made it"
                )
            if head == QUESTION_ANSWERING and any(focus[0] <= t <= focus[1] for t in tokens):
                continue  # an answer word: the re-scored span itself
            if head == TOKEN_CLASSIFICATION and focus[0] in tokens:
                continue  # the explained token's word
            words.append((part, tokens))
            scores.append(span.score)
        if self.quantity is not None and head != TOKEN_CLASSIFICATION:
            raise InvalidInputError(f"a quantity over labels does not apply to a {head.replace('_', ' ')}: it has one explained value")
        quantity = self.quantity or explanation.quantity
        return HeadSubject(explanation, encodings, tuple(words), np.array(scores, dtype=np.float64), focus, reads, quantity)

    def _focus(self, explanation: Explanation, encoding: Encoding, number: int) -> tuple[tuple[int, ...], int | str]:
        """The explained token(s) in ``encoding`` and what is read there (see :class:`HeadSubject`)."""
        head = explanation.head
        if head == SIMILARITY_HEAD:
            return (), str(explanation.method_settings.get("pooling", "mean"))
        if len(explanation.marks) != 1:
            raise InvalidInputError(f"explanation {number} marks {len(explanation.marks)} spans; a {head.replace('_', ' ')} marks one")
        _, begin, finish = explanation.marks[0]
        if head == TOKEN_CLASSIFICATION:
            return (token_at(encoding, None, (begin, finish)),), resolve_label(explanation.target_label, model_labels(self.model))
        if explanation.target_label not in QA_PARTS:
            raise InvalidInputError(f"explanation {number} explains {explanation.target_label!r}, not one of {QA_PARTS}")
        return answer_tokens(encoding, (begin, finish)), explanation.target_label


def _removed_tokens(subject: HeadSubject, removed: Sequence[int]) -> list[tuple[int, ...]]:
    """Per encoding of the subject, the sorted tokens of the removed words."""
    tokens: list[list[int]] = [[] for _ in subject.encodings]
    for word in removed:
        part, own = subject.words[word]
        tokens[part] += own
    return [tuple(sorted(t)) for t in tokens]


def _key(perturbation: Perturbation, fill: Erasure) -> tuple[Any, ...]:
    """The cache key: the explanation's input and explained output, the erased tokens, the fill."""
    subject = perturbation.subject
    e = subject.explanation
    return (
        e.head,
        e.text,
        e.text_pair,
        subject.focus,
        subject.reads,
        subject.quantity,
        tuple(_removed_tokens(subject, perturbation.removed)),
        fill,
    )


def _start_end(raw: Any) -> Tensor:
    """``(rows, seq, 2)``: each position's start and end logit."""
    return torch.stack(qa_logits(raw), -1)


def _pooled(states: Tensor, encoding: Encoding, pooling: str) -> Tensor:
    """The sentence vector of one encoding's token states: its first token, or the mean over attended tokens."""
    if pooling == "cls":
        return states[0]
    weight = torch.tensor(encoding.attention, dtype=states.dtype).unsqueeze(-1)
    return (states * weight).sum(0) / weight.sum().clamp(min=1e-9)
