"""Training and test examples for TracIn: any indexable of ``(input, label)``, texts, or a DataLoader.

Every source yields chunks of at most ``batch_size`` examples in dataset order as a
:class:`Batch` (batched positional inputs, keyword inputs and labels), and names each example
(:meth:`Examples.describe`: its index, label, and text or reference), so results can say *which*
training examples matter. Chunks only bound memory: each example's gradient is its own, so no
result depends on the chunk size.

* :class:`TensorExamples`: ``dataset[i] = (x, y)`` with ``x`` a tensor or a tuple of tensors;
* :class:`TextExamples`: ``dataset[i] = (text, label)`` for a Hugging Face-style classifier,
  tokenised by the text front end (:func:`limelight.text.encoding.encode_batch`: never truncated,
  so a text over the model's limit is refused) and padded on the right with an attention mask;
* :class:`LoaderExamples`: a ``DataLoader`` in its own order (a sequential sampler, so indices
  name dataset examples) yielding ``(inputs, labels)`` with inputs a tensor, a tuple or a dict of tensors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, SequentialSampler

from ..engine.validation import check_count
from ..errors import InvalidInputError
from ..text.encoding import encode_batch, pad_sequences
from ..text.erasure import pad_token_id
from ..text.windows import model_max_length


@dataclass(frozen=True)
class Batch:
    """Examples ready for the model: ``model(*args, **kwargs)``, every tensor with one row per example."""

    args: tuple[Tensor, ...]
    labels: Tensor
    kwargs: dict[str, Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device: torch.device) -> Batch:
        """The batch on ``device``."""
        return Batch(tuple(a.to(device) for a in self.args), self.labels.to(device), {k: v.to(device) for k, v in self.kwargs.items()})


class Examples:
    """A source of examples: ``len``, chunks in order, and a description of each example."""

    def __len__(self) -> int:
        raise NotImplementedError

    def chunks(self, size: int) -> Iterator[tuple[int, Batch]]:
        """``(index of the first example, batch)`` for consecutive chunks of at most ``size`` examples."""
        raise NotImplementedError

    def describe(self, index: int) -> dict[str, Any]:
        """``{"index", "label"[, "text"]}`` for example ``index``."""
        raise NotImplementedError


class TensorExamples(Examples):
    """An indexable of ``(x, y)``: ``x`` a tensor (or a tuple of tensors) without a batch dimension, ``y`` a class index."""

    def __init__(self, dataset: Sequence[Any], role: str) -> None:
        self.dataset, self.role = dataset, role
        if len(dataset) == 0:
            raise InvalidInputError(f"the {role} examples are empty")
        _split(dataset[0], role, 0)

    def __len__(self) -> int:
        return len(self.dataset)

    def chunks(self, size: int) -> Iterator[tuple[int, Batch]]:
        for start in range(0, len(self), size):
            pairs = [_split(self.dataset[i], self.role, i) for i in range(start, min(start + size, len(self)))]
            width = len(pairs[0][0])
            if any(len(x) != width for x, _ in pairs):
                raise InvalidInputError(f"every {self.role} example needs the same number of input tensors")
            args = tuple(torch.stack([x[j] for x, _ in pairs]) for j in range(width))
            yield start, Batch(args, torch.stack([_label(y, self.role, start + i) for i, (_, y) in enumerate(pairs)]))

    def describe(self, index: int) -> dict[str, Any]:
        return {"index": index, "label": _label(self.dataset[index][1], self.role, index).item()}


class TextExamples(Examples):
    """An indexable of ``(text, label)`` for a Hugging Face-style classifier and its tokenizer."""

    def __init__(self, dataset: Sequence[Any], tokenizer: Any, model: nn.Module, role: str) -> None:
        self.dataset, self.tokenizer, self.role = dataset, tokenizer, role
        if len(dataset) == 0:
            raise InvalidInputError(f"the {role} examples are empty")
        self.texts = [_text(item, role, i) for i, item in enumerate(dataset)]
        self.limit = model_max_length(model, tokenizer)

    def __len__(self) -> int:
        return len(self.dataset)

    def chunks(self, size: int) -> Iterator[tuple[int, Batch]]:
        for start in range(0, len(self), size):
            stop = min(start + size, len(self))
            encodings = encode_batch(self.tokenizer, self.texts[start:stop])
            long = [start + i for i, e in enumerate(encodings) if len(e) > self.limit]
            if long:
                raise InvalidInputError(f"{self.role} texts {long} are longer than the model's {self.limit} tokens; shorten them")
            kwargs = {
                "input_ids": pad_sequences([e.input_ids for e in encodings], pad_token_id(self.tokenizer)),
                "attention_mask": pad_sequences([e.attention for e in encodings], 0),
            }
            if all(e.token_type_ids is not None for e in encodings):
                kwargs["token_type_ids"] = pad_sequences(
                    [e.token_type_ids or () for e in encodings], getattr(self.tokenizer, "pad_token_type_id", 0)
                )
            labels = torch.stack([_label(self.dataset[i][1], self.role, i) for i in range(start, stop)])
            yield start, Batch((), labels, kwargs)

    def describe(self, index: int) -> dict[str, Any]:
        return {"index": index, "label": _label(self.dataset[index][1], self.role, index).item(), "text": self.texts[index]}


class LoaderExamples(Examples):
    """A ``DataLoader`` with a sequential sampler yielding ``(inputs, labels)`` batches (its batches are the chunks)."""

    def __init__(self, loader: DataLoader, role: str) -> None:
        if not isinstance(loader.sampler, SequentialSampler):
            raise InvalidInputError(
                f"the {role} DataLoader must not shuffle (a sequential sampler), so that result indices name dataset examples"
            )
        self.loader, self.role = loader, role
        self.labels: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.loader.dataset)  # type: ignore[arg-type]  # a sequential sampler needs a sized dataset

    def chunks(self, size: int) -> Iterator[tuple[int, Batch]]:
        start = 0
        for item in self.loader:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise InvalidInputError(f"the {self.role} DataLoader must yield (inputs, labels) batches")
            inputs, labels = item
            labels = torch.as_tensor(labels).long().reshape(-1)
            if isinstance(inputs, Mapping):
                batch = Batch((), labels, {str(k): v for k, v in inputs.items()})
            else:
                batch = Batch(tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,), labels)
            if any(not isinstance(v, Tensor) or v.shape[0] != len(labels) for v in (*batch.args, *batch.kwargs.values())):
                raise InvalidInputError(f"the {self.role} DataLoader's inputs must be tensors with one row per label")
            self.labels.update({start + i: int(y) for i, y in enumerate(labels.tolist())})
            yield start, batch
            start += len(labels)

    def describe(self, index: int) -> dict[str, Any]:
        return {"index": index, "label": self.labels.get(index)}


def examples(data: Any, role: str, model: nn.Module, tokenizer: Any) -> Examples:
    """The source for ``data``: a DataLoader, texts (with a tokenizer) or tensors (module docstring)."""
    if isinstance(data, Examples):
        return data
    if isinstance(data, DataLoader):
        return LoaderExamples(data, role)
    if isinstance(data, (str, bytes)) or not hasattr(data, "__len__") or not hasattr(data, "__getitem__"):
        raise InvalidInputError(
            f"the {role} examples must be an indexable of (input, label) pairs or a DataLoader, got {type(data).__name__}"
        )
    return TextExamples(data, tokenizer, model, role) if tokenizer is not None else TensorExamples(data, role)


def chunk_size(value: Any) -> int:
    """The number of examples whose gradients are held at once."""
    return check_count("batch_size", value)


def _split(item: Any, role: str, index: int) -> tuple[tuple[Tensor, ...], Any]:
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise InvalidInputError(f"{role} example {index} must be an (input, label) pair, got {type(item).__name__}")
    x, y = item
    inputs = tuple(x) if isinstance(x, (tuple, list)) else (x,)
    if not inputs or not all(isinstance(v, Tensor) for v in inputs):
        raise InvalidInputError(
            f"{role} example {index}'s input must be a tensor or a tuple of tensors (for texts pass tokenizer=...), got {type(x).__name__}"
        )
    return inputs, y


def _text(item: Any, role: str, index: int) -> str:
    if not isinstance(item, (tuple, list)) or len(item) != 2 or not isinstance(item[0], str):
        raise InvalidInputError(f"{role} example {index} must be a (text, label) pair when a tokenizer is given")
    return item[0]


def _label(value: Any, role: str, index: int) -> Tensor:
    label = torch.as_tensor(value)
    if label.numel() != 1 or label.is_floating_point() or label.dtype == torch.bool:
        raise InvalidInputError(f"{role} example {index}'s label must be one class index, got {value!r}")
    return label.reshape(()).long()
