"""The one vision forward pipeline: batches of model inputs on the model's device and in its dtype, in eval mode, to logits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..engine.forward import eval_mode, read_output
from ..engine.validation import check_count
from ..errors import InvalidInputError


@dataclass
class ImageRunner:
    """Runs ``model`` on ``(N, C, H', W')`` inputs, ``batch_size`` at a time."""

    model: nn.Module
    batch_size: int = 8

    def __post_init__(self) -> None:
        if not isinstance(self.model, nn.Module):
            raise InvalidInputError(f"model must be a torch.nn.Module image classifier, got {type(self.model).__name__}")
        check_count("batch_size", self.batch_size)

    @property
    def device(self) -> torch.device:
        """Where the model's parameters live (CPU for a model without parameters)."""
        first = next(self.model.parameters(), None)
        return first.device if first is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """The floating dtype of the model's parameters (float32 for a model without any), which inputs are cast to."""
        first = next((p for p in self.model.parameters() if p.is_floating_point()), None)
        return torch.float32 if first is None else first.dtype

    def to_model(self, values: Tensor) -> Tensor:
        """Images or baselines on the model's device, in its dtype (a float64 or half-precision model takes its own)."""
        return values.to(self.device, self.dtype)

    @property
    def input_channels(self) -> int | None:
        """The channels the model's first ``Conv2d`` takes (``None`` for a model without one)."""
        first = next((m for m in self.model.modules() if isinstance(m, nn.Conv2d)), None)
        return None if first is None else first.in_channels

    def check_channels(self, inputs: Tensor) -> None:
        """Refuse inputs ``(N, C, H', W')`` whose channels the model's first convolution cannot take."""
        expected = self.input_channels
        if expected is not None and inputs.shape[1] != expected:
            raise InvalidInputError(
                f"the model's first convolution takes {expected} channel(s) but the preprocessed images have {inputs.shape[1]}; "
                f"pass {expected}-channel images (greyscale images are repeated into RGB only for 3-channel models) "
                "or a preprocess= that produces them"
            )

    def batches(self, count: int) -> Iterator[slice]:
        """Consecutive slices of at most ``batch_size`` images."""
        for start in range(0, count, self.batch_size):
            yield slice(start, min(start + self.batch_size, count))

    def logits(self, inputs: Tensor) -> Tensor:
        """``(N, classes)`` logits on the CPU, in float64."""
        parts = []
        with eval_mode([self.model], True), torch.no_grad():
            for rows in self.batches(inputs.shape[0]):
                output = read_output(self.model(self.to_model(inputs[rows])), "logits")
                if output.dim() != 2:
                    raise InvalidInputError(f"the model must return (N, classes) logits, got shape {tuple(output.shape)}")
                parts.append(output.detach().to(torch.float64).cpu())
        return torch.cat(parts)
