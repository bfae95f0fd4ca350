"""The word eraser: re-run the model on a text with chosen words erased, many variants per forward.

Every faithfulness metric asks "what does the model say when these words are gone (or are the
only ones left)?". :class:`WordEraser` answers it for many explanations at once:

* an explanation is re-encoded from its own text (:func:`limelight.text.encoding.encode`) and its
  words are the token groups recorded in ``word_spans[i].token_indices``;
* erasing a word either deletes its tokens (``fill="delete"``, ERASER's definition; special
  tokens always stay) or replaces each of them by the tokenizer's ``pad``/``mask``/``unk`` token;
* all variants of all texts are sorted by length and padded into batches of ``batch_size`` rows,
  texts longer than the model's limit are split into windows whose logits are averaged, and rows
  are padded on the right (both as :class:`~limelight.text.TextExplainer` predicts); results are
  cached, so a variant needed by two metrics or two methods (the full text, leave-one-out
  deletions, ...) runs once.

A perturbation may also move word embeddings part of the way towards the pad token's embedding
(``shift``), for the embedding-space infidelity; those rows are never cached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from limelight._progress import progress
from limelight.engine.forward import eval_mode, read_output
from limelight.errors import InvalidInputError
from limelight.text.encoding import Encoding, PaddedBatch, batch_by_length, encode
from limelight.text.explainer import MAX_PADDING
from limelight.text.explanation import Explanation
from limelight.text.windows import model_max_length, plan_windows, window_encodings

from .objective import Objective, model_labels, objective_of

FILLS: tuple[str, ...] = ("delete", "pad", "mask", "unk")
"""How an erased word disappears: its tokens are deleted, or each becomes that special token."""


@dataclass(frozen=True)
class Subject:
    """One explanation ready for evaluation: its encoding, its words' tokens, its scores and objective."""

    explanation: Explanation
    encoding: Encoding
    words: tuple[tuple[int, ...], ...]
    scores: np.ndarray
    objective: Objective

    @property
    def n_words(self) -> int:
        """How many words the explanation scores."""
        return len(self.words)


@dataclass(frozen=True)
class Perturbation:
    """A subject's text with the words ``removed`` erased and, optionally, each word's embedding
    moved ``shift[w]`` of the way towards the pad token's embedding."""

    subject: Subject
    removed: tuple[int, ...] = ()
    shift: tuple[float, ...] | None = None


def keep_only(subject: Subject, kept: Sequence[int]) -> Perturbation:
    """The perturbation that erases every word except ``kept``."""
    keep = set(int(w) for w in kept)
    return Perturbation(subject, tuple(w for w in range(subject.n_words) if w not in keep))


@dataclass(frozen=True)
class _Row:
    """One model input to evaluate: an encoding and the per-token embedding shift (or none)."""

    encoding: Encoding
    shift: tuple[float, ...] | None


class WordEraser:
    """Evaluates an explanation's objective on texts with words erased, in batches, with a cache.

    ``fill``: ``"delete"`` (default), ``"pad"``, ``"mask"`` or ``"unk"`` (see the module docstring).
    ``quantity``: ``None`` measures what each explanation explained (its ``quantity``); a name
    (``"logit"``, ``"probability"``, ``"log_probability"``) measures that instead.
    ``batch_size`` rows (variants) go through the model together.
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        *,
        fill: str = "delete",
        quantity: str | None = None,
        batch_size: int = 64,
        max_length: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidInputError(f"model must be a torch nn.Module classifier, got {type(model).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be a positive int, got {batch_size!r}")
        self.model, self.tokenizer = model, tokenizer
        self.fill, self.quantity, self.batch_size, self.show_progress = fill, quantity, batch_size, show_progress
        self.labels = model_labels(model)
        self.max_length = max_length or model_max_length(model, tokenizer)
        self._fill_id(fill)
        self._cache: dict[tuple[Any, ...], Tensor] = {}
        self.rows_evaluated = 0

    def prepare(self, items: Sequence[Explanation | Subject]) -> list[Subject]:
        """Re-encode each explanation's text and check its words belong to this tokenizer's encoding
        (already prepared subjects pass through)."""
        return [item if isinstance(item, Subject) else self._subject(item, number) for number, item in enumerate(items)]

    def values(self, perturbations: Sequence[Perturbation], fill: str | None = None) -> np.ndarray:
        """The objective of each perturbation's subject on the perturbed text (``fill`` overrides the eraser's)."""
        fill = fill or self.fill
        self._fill_id(fill)
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
        logits = self._evaluate(rows)
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

    def _fill_id(self, fill: str) -> int | None:
        if fill not in FILLS:
            raise InvalidInputError(f"fill must be one of {FILLS}, got {fill!r}")
        if fill == "delete":
            return None
        token_id = getattr(self.tokenizer, f"{fill}_token_id", None)
        if token_id is None:
            raise InvalidInputError(f"fill={fill!r} needs a {fill} token but this tokenizer has none; use 'delete' or another fill")
        return int(token_id)

    def _row(self, perturbation: Perturbation, fill: str) -> _Row:
        subject = perturbation.subject
        encoding = subject.encoding
        removed = {token for word in perturbation.removed for token in subject.words[word]}
        shift = None
        if perturbation.shift is not None:
            if len(perturbation.shift) != subject.n_words:
                raise InvalidInputError(f"a shift needs one value per word ({subject.n_words}), got {len(perturbation.shift)}")
            per_token = [0.0] * len(encoding)
            for word, amount in zip(subject.words, perturbation.shift):
                for token in word:
                    per_token[token] = float(amount)
            shift = tuple(per_token)
        if fill == "delete":
            keep = [index for index in range(len(encoding)) if index not in removed]
            return _Row(encoding.select(keep), None if shift is None else tuple(shift[i] for i in keep))
        token_id = self._fill_id(fill)
        ids = tuple(token_id if index in removed else value for index, value in enumerate(encoding.input_ids))
        return _Row(dataclasses.replace(encoding, input_ids=ids), shift)

    def _evaluate(self, rows: list[_Row]) -> list[Tensor]:
        """Logits per row (mean over its windows), evaluated in length-sorted batches."""
        if not rows:
            return []
        units_of: list[list[int]] = []
        units: list[Encoding] = []
        shifts: list[tuple[float, ...] | None] = []
        for row in rows:
            plan = plan_windows(row.encoding, self.max_length)
            units_of.append([])
            for window, encoding in zip(plan.windows, window_encodings(row.encoding, plan)):
                units_of[-1].append(len(units))
                units.append(encoding)
                shifts.append(None if row.shift is None else tuple(row.shift[i] for i in window.indices))
        per_unit: list[Tensor] = [torch.empty(0)] * len(units)
        batches = batch_by_length(self.tokenizer, units, self.batch_size, padding_side="right", max_padding=MAX_PADDING)
        with eval_mode([self.model], True), torch.no_grad():
            for batch in progress(batches, len(batches), "evaluating erasures", self.show_progress):
                chosen = [shifts[index] for index in batch.indices]
                logits = self._forward(batch, None if all(s is None for s in chosen) else _pad_floats(batch, chosen))
                for row, index in enumerate(batch.indices):
                    per_unit[index] = logits[row]
        self.rows_evaluated += len(units)
        return [torch.stack([per_unit[i] for i in members]).mean(0) for members in units_of]

    def _forward(self, batch: PaddedBatch, shift: Tensor | None) -> Tensor:
        device = _device(self.model)
        inputs = {name: value.to(device) for name, value in batch.model_inputs().items()}
        if shift is None:
            return read_output(self.model(**inputs), "logits").detach().to(torch.float64).cpu()
        layer = self.model.get_input_embeddings()
        pad_id = getattr(self.tokenizer, "pad_token_id", None)
        weight = shift.to(device).unsqueeze(-1)

        def towards_pad(module: nn.Module, args: Any, output: Tensor) -> Tensor:
            anchor = torch.zeros_like(output[0, 0]) if pad_id is None else module.weight[pad_id].to(output.dtype)
            return output + weight.to(output.dtype) * (anchor - output)

        handle = layer.register_forward_hook(towards_pad)
        try:
            return read_output(self.model(**inputs), "logits").detach().to(torch.float64).cpu()
        finally:
            handle.remove()


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


def _cache_key(perturbation: Perturbation, fill: str) -> tuple[Any, ...]:
    subject = perturbation.subject
    tokens = tuple(sorted(token for word in perturbation.removed for token in subject.words[word]))
    return (subject.encoding.text, subject.encoding.text_pair, fill, tokens)


def _pad_floats(batch: PaddedBatch, rows: Sequence[tuple[float, ...] | None]) -> Tensor:
    """Per-token floats padded on the right like the batch's ids (zeros where a row has none)."""
    out = torch.zeros(batch.input_ids.shape, dtype=torch.float64)
    for number, (row, length) in enumerate(zip(rows, batch.lengths)):
        if row is not None:
            out[number, :length] = torch.tensor(row, dtype=torch.float64)
    return out


def _device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device
