"""The one text forward pipeline: encodings in, logits out, for explaining, evaluating and scoring.

Encodings (never truncated) -> windows of at most the model's length -> batches of similar
length, padded on the right -> the model's device -> the model in eval mode, without gradients
-> float64 logits on the CPU, averaged over each text's windows. Right padding matters: a plain
forward numbers positions from the first column, so left padding would shift a shorter text's
positions and change its result; batches hold texts of similar length, so that padding stays a
small share of the work. Optionally each token's word embedding moves part of the way towards the
pad token's embedding (the embedding-space infidelity needs that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .._progress import progress
from ..engine.forward import OutputSpec, eval_mode, read_output
from ..engine.validation import check_count
from ..errors import InvalidInputError
from .encoding import Encoding, PaddedBatch, batch_by_length
from .windows import WindowPlan, model_max_length, plan_windows, window_encodings

MAX_PADDING = 0.25
"""At most this share of a batch row is padding (see :func:`~limelight.text.encoding.batch_by_length`)."""

Shift = tuple[float, ...]
"""Per token, the fraction of the way its word embedding moves towards the pad token's embedding."""


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's parameters (the CPU for a model without any)."""
    parameter = next(model.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device


def input_embeddings(model: nn.Module) -> nn.Module:
    """A Hugging Face-style classifier's word-embedding layer (``get_input_embeddings()``), checked to be a module."""
    getter = getattr(model, "get_input_embeddings", None)
    layer = getter() if callable(getter) else None
    if not isinstance(layer, nn.Module):
        raise InvalidInputError("the model needs get_input_embeddings() returning its word-embedding layer, like a Hugging Face classifier")
    return layer


@dataclass(frozen=True)
class Piece:
    """One model-sized piece of work: a window of text number ``text`` (the whole text when it fits)."""

    text: int
    encoding: Encoding
    indices: tuple[int, ...]


class TextRunner:
    """Runs a Hugging Face-style classifier on encodings: ``batch_size`` rows per forward, texts over ``max_length``
    (the model's limit by default) in windows overlapping by ``window_overlap`` tokens; ``output`` is what is read
    from the model's raw output (its ``logits`` by default)."""

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        *,
        batch_size: int = 16,
        max_length: int | None = None,
        window_overlap: int | None = None,
        show_progress: bool | None = None,
        output: OutputSpec = "logits",
    ) -> None:
        check_count("batch_size", batch_size)
        if max_length is not None:
            check_count("max_length", max_length)
        if window_overlap is not None:
            check_count("window_overlap", window_overlap, minimum=0)
        self.model, self.tokenizer = model, tokenizer
        self.batch_size, self.window_overlap, self.show_progress = batch_size, window_overlap, show_progress
        self.max_length = max_length or model_max_length(model, tokenizer)
        self.output = output
        """What :meth:`forward` reads from the model's raw output: ``"logits"``, or a callable for other heads."""
        self.rows_evaluated = 0
        """How many rows (windows) this runner has put through the model."""

    @property
    def device(self) -> torch.device:
        """Where the model's parameters are (inputs go there)."""
        return model_device(self.model)

    def plan(self, encoding: Encoding) -> WindowPlan:
        """The windows ``encoding`` is run in."""
        return plan_windows(encoding, self.max_length, self.window_overlap)

    def pieces(self, encodings: Sequence[Encoding], plans: Sequence[WindowPlan] | None = None) -> list[Piece]:
        """Every window of every encoding, in order (``plans``: the encodings' plans, if already made)."""
        out = []
        for text, encoding in enumerate(encodings):
            plan = self.plan(encoding) if plans is None else plans[text]
            out += [Piece(text, window, spec.indices) for spec, window in zip(plan.windows, window_encodings(encoding, plan))]
        return out

    def batches(self, encodings: Sequence[Encoding]) -> list[PaddedBatch]:
        """Length-sorted, right-padded batches of at most ``batch_size`` encodings and :data:`MAX_PADDING` padding."""
        return batch_by_length(self.tokenizer, encodings, self.batch_size, padding_side="right", max_padding=MAX_PADDING)

    def inputs(self, batch: PaddedBatch) -> dict[str, Tensor]:
        """The batch's model inputs on the model's device."""
        device = self.device
        return {name: value.to(device) for name, value in batch.model_inputs().items()}

    def forward(
        self, batches: Sequence[PaddedBatch], shifts: Sequence[Shift | None] | None = None, description: str | None = None
    ) -> list[Tensor]:
        """Float64 CPU logits per encoding the batches hold (indexed like them), in eval mode without gradients.

        ``shifts`` (one per encoding, or ``None``) move word embeddings towards the pad token's;
        ``description`` names a progress bar (none without it).
        """
        per_row: dict[int, Tensor] = {}
        show = self.show_progress if description is not None else False
        with eval_mode([self.model], True), torch.inference_mode():
            for batch in progress(batches, len(batches), description or "", show):
                chosen = [None if shifts is None else shifts[index] for index in batch.indices]
                weight = None if all(shift is None for shift in chosen) else _pad_floats(batch, chosen)
                logits = self._logits(batch, weight)
                per_row.update(zip(batch.indices, logits))
                self.rows_evaluated += len(batch.indices)
        return [per_row[index] for index in range(len(per_row))]

    def logits(
        self, encodings: Sequence[Encoding], shifts: Sequence[Shift | None] | None = None, description: str | None = None
    ) -> list[Tensor]:
        """Per encoding, the mean of its windows' logits (see :meth:`forward` for the arguments)."""
        pieces = self.pieces(encodings)
        cut = None if shifts is None else [_cut(shifts[p.text], p.indices) for p in pieces]
        per_piece = self.forward(self.batches([p.encoding for p in pieces]), cut, description)
        return mean_over_windows(per_piece, [p.text for p in pieces], len(encodings))

    def _logits(self, batch: PaddedBatch, shift: Tensor | None) -> Tensor:
        inputs = self.inputs(batch)
        if shift is None:
            return host_logits(self.model(**inputs), self.output)
        pad_id = getattr(self.tokenizer, "pad_token_id", None)
        weight = shift.to(self.device).unsqueeze(-1)

        layer = input_embeddings(self.model)
        table: Tensor = layer.weight  # type: ignore[assignment]  # an embedding layer's weight is a tensor

        def towards_pad(module: nn.Module, args: Any, output: Tensor) -> Tensor:
            anchor = torch.zeros_like(output[0, 0]) if pad_id is None else table[pad_id].to(output.dtype)
            return output + weight.to(output.dtype) * (anchor - output)

        handle = layer.register_forward_hook(towards_pad)
        try:
            return host_logits(self.model(**inputs), self.output)
        finally:
            handle.remove()


def host_logits(raw: Any, output: OutputSpec) -> Tensor:
    """What the runner keeps of a raw model output: ``output`` read from it, detached, as float64 on the CPU."""
    return read_output(raw, output).detach().to(torch.float64).cpu()


def mean_over_windows(per_piece: Sequence[Tensor], owners: Sequence[int], count: int) -> list[Tensor]:
    """Per text ``0..count-1``, the mean of the values of its pieces (``owners[i]`` owns ``per_piece[i]``)."""
    grouped: list[list[Tensor]] = [[] for _ in range(count)]
    for value, owner in zip(per_piece, owners):
        grouped[owner].append(value)
    return [torch.stack(values).mean(0) for values in grouped]


def _cut(shift: Shift | None, indices: tuple[int, ...]) -> Shift | None:
    return None if shift is None else tuple(shift[i] for i in indices)


def _pad_floats(batch: PaddedBatch, rows: Sequence[Shift | None]) -> Tensor:
    """Per-token floats padded on the right like the batch's ids (zeros where a row has none)."""
    out = torch.zeros(batch.input_ids.shape, dtype=torch.float64)
    for number, (row, length) in enumerate(zip(rows, batch.lengths)):
        if row is not None:
            out[number, :length] = torch.tensor(row, dtype=torch.float64)
    return out
