"""TracIn with checkpoints (Pruthi et al., 2020): training examples scored by how their gradients align with a test example's.

For training example ``z`` and test example ``z'``, with checkpoints ``w_1..w_C`` saved during
training and the learning rate ``eta_c`` in force at each::

    TracInCP(z, z') = sum_c eta_c * grad L(w_c, z) . grad L(w_c, z')
    self-influence(z) = sum_c eta_c * ||grad L(w_c, z)||^2

A large positive score marks a *proponent* (a step on ``z`` lowered the test loss), a large negative
one an *opponent*. Self-influence is high for examples the model finds hard to fit (often
mislabelled ones). :class:`TracInCP` uses the gradients of chosen layers (every trainable
parameter by default; optionally randomly projected, :mod:`.gradients`); :class:`TracInCPFast`
uses only the last linear layer, in closed form: its weight gradient is ``outer(dL/dz, a)`` (``z``
the logits, ``a`` the layer's input) and its bias gradient ``dL/dz``, so
``g . g' = (dL/dz . dL/dz') * (a . a' + 1)`` (``+ 1`` only with a bias), with no per-parameter vectors at all.

The score matrix is built exactly, a chunk of training examples at a time (``batch_size``), in
float64; top-k proponents and opponents are exact ``topk`` over its rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import grad, vmap

from .._progress import progress
from ..engine.forward import eval_mode, read_output
from ..engine.validation import check_count, check_flag, check_positive, is_number
from ..errors import ForwardError, InvalidInputError, LayerError
from .data import Batch, Examples, chunk_size, examples
from .gradients import GradientSpace, LossFn, cross_entropy, example_loss
from .result import Influence, SelfInfluence, TestInfluence, TrainingExample

Checkpoint = Mapping[str, Tensor] | str | Path
"""A state dict, or the path of one saved with ``torch.save``."""

Features = tuple[Tensor, ...]


class _TracIn:
    """What both TracIn variants share: data, checkpoints, the chunked score matrix and the results."""

    method = "tracin_cp"

    def __init__(
        self,
        model: nn.Module,
        train_dataset: Any,
        *,
        checkpoints: Sequence[Checkpoint],
        loss_fn: LossFn | None = None,
        learning_rate: float | Sequence[float] = 1.0,
        tokenizer: Any = None,
        batch_size: int = 32,
        references: Sequence[str] | None = None,
        show_progress: bool | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidInputError(f"model must be a torch nn.Module, got {type(model).__name__}")
        if isinstance(checkpoints, (str, Path, Mapping)) or not isinstance(checkpoints, Sequence) or not checkpoints:
            raise InvalidInputError("checkpoints must be a non-empty list of state dicts or paths saved with torch.save")
        if not (is_number(learning_rate) or (isinstance(learning_rate, Sequence) and not isinstance(learning_rate, str))):
            raise InvalidInputError(f"learning_rate must be a number or one number per checkpoint, got {learning_rate!r}")
        rates = [learning_rate] * len(checkpoints) if is_number(learning_rate) else list(learning_rate)  # type: ignore[arg-type]
        if len(rates) != len(checkpoints):
            raise InvalidInputError(
                f"learning_rate needs one value per checkpoint ({len(checkpoints)}) or a single number, got {len(rates)}"
            )
        self.learning_rates = [check_positive("learning_rate", r) for r in rates]
        if loss_fn is not None and not callable(loss_fn):
            raise InvalidInputError(f"loss_fn must be callable(outputs, labels), got {type(loss_fn).__name__}")
        self.model, self.tokenizer, self.checkpoints = model, tokenizer, list(checkpoints)
        self.loss_fn: LossFn = loss_fn or cross_entropy
        self.batch_size, self.show_progress = chunk_size(batch_size), check_flag("show_progress", show_progress)
        self.train = examples(train_dataset, "training", model, tokenizer)
        if references is not None and len(references) != len(self.train):
            raise InvalidInputError(f"references needs one entry per training example ({len(self.train)}), got {len(references)}")
        self.references = None if references is None else [str(r) for r in references]

    def influence(self, test_examples: Any, k: int | None = None) -> Influence:
        """Scores of every training example for each test example (``scores``), with the top ``k`` proponents and
        opponents of each (10 by default, or every training example when there are fewer)."""
        tests = examples(test_examples, "test", self.model, self.tokenizer)
        if k is not None:
            check_count("k", k)
            if k > len(self.train):
                raise InvalidInputError(f"k={k} is more than the {len(self.train)} training examples")
        scores = torch.zeros((len(tests), len(self.train)), dtype=torch.float64)
        for rate in self._checkpoints():
            test = self._all_features(tests)
            for start, batch in self._chunks(self.train, "scoring training examples"):
                scores[:, start : start + len(batch)] += rate * self._dot(test, self._features(batch)).cpu()
        matrix = scores.numpy()
        per_test = [self._ranked(tests.describe(i), matrix[i], k or min(10, len(self.train))) for i in range(len(tests))]
        return Influence(matrix, per_test, self._settings())

    def self_influence(self) -> SelfInfluence:
        """Every training example's self-influence (module docstring), highest first in :meth:`SelfInfluence.top`."""
        scores = torch.zeros(len(self.train), dtype=torch.float64)
        for rate in self._checkpoints():
            for start, batch in self._chunks(self.train, "self-influence"):
                scores[start : start + len(batch)] += rate * self._squared(self._features(batch)).cpu()
        return SelfInfluence(scores.numpy(), [self._example(i, 0.0) for i in range(len(self.train))], self._settings())

    # The variant: per-example features, their dot products and squared norms.
    def _features(self, batch: Batch) -> Features:
        raise NotImplementedError

    def _dot(self, a: Features, b: Features) -> Tensor:
        raise NotImplementedError

    def _squared(self, a: Features) -> Tensor:
        raise NotImplementedError

    def _variant_settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def _settings(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_checkpoints": len(self.checkpoints),
            "learning_rates": list(self.learning_rates),
            "loss": getattr(self.loss_fn, "__name__", type(self.loss_fn).__name__),
            "n_train": len(self.train),
            **self._variant_settings(),
        }

    def _chunks(self, source: Examples, description: str) -> Iterator[tuple[int, Batch]]:
        device = next(self.model.parameters()).device
        total = -(-len(source) // self.batch_size)
        for start, batch in progress(source.chunks(self.batch_size), total, description, self.show_progress):
            yield start, batch.to(device)

    def _all_features(self, source: Examples) -> Features:
        parts = [self._features(batch) for _, batch in self._chunks(source, "test gradients")]
        return tuple(torch.cat(column) for column in zip(*parts))

    def _checkpoints(self) -> Iterator[float]:
        """Each checkpoint's learning rate, with its weights loaded in the model (in eval mode; restored afterwards)."""
        with _restored(self.model), eval_mode([self.model], True):
            for checkpoint, rate in zip(self.checkpoints, self.learning_rates):
                self.model.load_state_dict(_state(checkpoint))
                yield rate

    def _ranked(self, test: dict[str, Any], row: np.ndarray, k: int) -> TestInfluence:
        order = np.argsort(-row, kind="stable")
        proponents = [self._example(int(i), float(row[i])) for i in order[:k]]
        opponents = [self._example(int(i), float(row[i])) for i in np.argsort(row, kind="stable")[:k]]
        return TestInfluence(test, proponents, opponents)

    def _example(self, index: int, score: float) -> TrainingExample:
        described = self.train.describe(index)
        reference = None if self.references is None else self.references[index]
        return TrainingExample(index, score, described.get("label"), described.get("text"), reference)


class TracInCP(_TracIn):
    """``TracInCP(model, train_dataset, checkpoints=..., loss_fn=..., learning_rate=...)`` over the gradients of ``layers``.

    ``layers``: module names whose parameters are differentiated (every trainable parameter by
    default); ``projection_dim``: randomly project parameters larger than that (seeded by ``seed``,
    see :mod:`limelight.influence.gradients`); ``tokenizer``: the training examples are
    ``(text, label)`` pairs for a Hugging Face classifier; ``batch_size``: examples per gradient chunk;
    ``references``: a name per training example (a thumbnail path, an id) carried into results;
    ``show_progress``: progress bars over the chunks (``None``: only in a terminal).
    """

    def __init__(
        self,
        model: nn.Module,
        train_dataset: Any,
        *,
        checkpoints: Sequence[Checkpoint],
        loss_fn: LossFn | None = None,
        learning_rate: float | Sequence[float] = 1.0,
        layers: Sequence[str] | None = None,
        projection_dim: int | None = None,
        seed: int | None = 0,
        tokenizer: Any = None,
        batch_size: int = 32,
        references: Sequence[str] | None = None,
        show_progress: bool | None = None,
    ) -> None:
        super().__init__(
            model,
            train_dataset,
            checkpoints=checkpoints,
            loss_fn=loss_fn,
            learning_rate=learning_rate,
            tokenizer=tokenizer,
            batch_size=batch_size,
            references=references,
            show_progress=show_progress,
        )
        self.space = GradientSpace(model, layers, self.loss_fn, projection_dim, seed)

    def _features(self, batch: Batch) -> Features:
        return (self.space.per_example(batch),)

    def _dot(self, a: Features, b: Features) -> Tensor:
        return a[0] @ b[0].T

    def _squared(self, a: Features) -> Tensor:
        return (a[0] ** 2).sum(dim=1)

    def _variant_settings(self) -> dict[str, Any]:
        return self.space.settings()


class TracInCPFast(_TracIn):
    """TracIn over the last linear layer only, in closed form (module docstring): ``final_layer`` names it.

    The layer's output must be the model's output (the logits), so ``dL/dz`` is the gradient of the loss there.
    """

    method = "tracin_cp_fast"

    def __init__(
        self,
        model: nn.Module,
        train_dataset: Any,
        *,
        checkpoints: Sequence[Checkpoint],
        final_layer: str,
        loss_fn: LossFn | None = None,
        learning_rate: float | Sequence[float] = 1.0,
        tokenizer: Any = None,
        batch_size: int = 32,
        references: Sequence[str] | None = None,
        show_progress: bool | None = None,
    ) -> None:
        super().__init__(
            model,
            train_dataset,
            checkpoints=checkpoints,
            loss_fn=loss_fn,
            learning_rate=learning_rate,
            tokenizer=tokenizer,
            batch_size=batch_size,
            references=references,
            show_progress=show_progress,
        )
        layer = dict(model.named_modules()).get(final_layer) if isinstance(final_layer, str) else None
        if not isinstance(layer, nn.Linear):
            raise InvalidInputError(f"final_layer must name an nn.Linear module of the model (its last layer), got {final_layer!r}")
        self.final_layer, self.layer = final_layer, layer

    def _features(self, batch: Batch) -> Features:
        captured: dict[str, Tensor] = {}

        def hook(module: nn.Module, args: tuple[Any, ...], output: Tensor) -> None:
            captured["a"], captured["z"] = args[0], output

        handle = self.layer.register_forward_hook(hook)
        try:
            with torch.no_grad():
                logits = read_output(self.model(*batch.args, **batch.kwargs), "logits")
        finally:
            handle.remove()
        if "z" not in captured or captured["a"].dim() != 2:
            raise LayerError(f"{self.final_layer!r} did not run once on (rows, features) inputs in the forward")
        if not torch.equal(captured["z"], logits):
            raise ForwardError(
                f"the model's output is not the output of {self.final_layer!r}; TracInCPFast needs the last layer to give the logits"
            )
        loss_gradient = vmap(grad(lambda z, y: example_loss(self.loss_fn, z[None], y[None])))(logits, batch.labels)
        return loss_gradient.to(torch.float64), captured["a"].detach().to(torch.float64)

    def _dot(self, a: Features, b: Features) -> Tensor:
        return (a[0] @ b[0].T) * (a[1] @ b[1].T + self._bias)

    def _squared(self, a: Features) -> Tensor:
        return (a[0] ** 2).sum(1) * ((a[1] ** 2).sum(1) + self._bias)

    @property
    def _bias(self) -> float:
        return 1.0 if self.layer.bias is not None else 0.0

    def _variant_settings(self) -> dict[str, Any]:
        return {"final_layer": self.final_layer, "parameters": [n for n, _ in self.layer.named_parameters()]}


def _state(checkpoint: Checkpoint) -> Mapping[str, Tensor]:
    if isinstance(checkpoint, Mapping):
        return checkpoint
    if isinstance(checkpoint, (str, Path)):
        path = Path(checkpoint)
        if not path.is_file():
            raise InvalidInputError(f"checkpoint {str(path)!r} is not a file")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, Mapping):
            return state
    raise InvalidInputError(f"a checkpoint must be a state dict or the path of one, got {type(checkpoint).__name__}")


@contextmanager
def _restored(model: nn.Module) -> Iterator[None]:
    """The model's own weights come back after the checkpoints were loaded."""
    saved = {name: value.detach().clone() for name, value in model.state_dict().items()}
    try:
        yield
    finally:
        model.load_state_dict(saved)
