"""Sanity checks (Adebayo et al., 2018): an explanation of a model must change when the model does.

* Cascading model-parameter randomisation: re-initialise the classifier head, then the top
  encoder layer, then the next one down, ...; after each step explain the same texts for the same
  targets and measure Spearman's rho between the original and the new word scores. A method whose
  rho stays high ignores the model (an edge detector, in the paper's words).
* Data-label randomisation: train the same small model on true and on shuffled labels and compare
  the explanations of the two; they must differ. Retraining is the expensive part, so limelight
  does it with a :class:`~.tiny_classifier.BagOfEmbeddings` on a few hundred sentences.

Blocks are found from the model's structure: the *head* is every parameter outside the input
embedding's parent module and outside the largest ``nn.ModuleList`` (the layer stack); the layers
follow from the top. Parameters of modules with ``reset_parameters`` are re-initialised by it;
others are redrawn from a normal distribution with their own mean and spread.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation
from limelight.text.runner import input_embeddings

from .explainers import Explainer, explain_like
from .ranking import spearman
from .tiny_classifier import accuracy, train_bag_of_embeddings


@dataclass(frozen=True)
class Block:
    """A group of parameters re-initialised together: those named by or under one of ``prefixes``."""

    name: str
    prefixes: tuple[str, ...]

    def covers(self, parameter: str) -> bool:
        """Whether the parameter called ``parameter`` belongs to this block."""
        return any(parameter == p or parameter.startswith(p + ".") for p in self.prefixes)


def randomisation_blocks(model: nn.Module) -> list[Block]:
    """The head, then each layer of the largest ``nn.ModuleList`` from the top (module docstring)."""
    embedding = input_embeddings(model)
    embedding_name = next((name for name, module in model.named_modules() if module is embedding), None)
    if embedding_name is None:
        raise InvalidInputError("the model's get_input_embeddings() is not one of its modules")
    protected = embedding_name.rsplit(".", 1)[0] if "." in embedding_name else embedding_name
    stacks = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.ModuleList) and len(module) and not (name == protected or name.startswith(protected + "."))
    ]
    stack_name, stack = max(stacks, key=lambda item: len(item[1]), default=("", nn.ModuleList()))
    inside = Block("", (protected, *([stack_name] if stack_name else [])))
    head = tuple(name for name, _ in model.named_parameters() if not inside.covers(name))
    blocks = [Block(_head_name(head), head)] if head else []
    return blocks + [Block(f"{stack_name}.{i}", (f"{stack_name}.{i}",)) for i in reversed(range(len(stack)))]


def _head_name(parameters: tuple[str, ...]) -> str:
    owners = sorted({name.rsplit(".", 1)[0] if "." in name else name for name in parameters})
    return "head (" + ", ".join(owners) + ")"


def randomise(model: nn.Module, block: Block, seed: int = 0) -> None:
    """Re-initialise, in place, the parameters of ``model`` in ``block`` (reproducible with ``seed``)."""
    chosen = {name: parameter for name, parameter in model.named_parameters() if block.covers(name)}
    if not chosen:
        raise InvalidInputError(f"block {block.name!r} names no parameter of the model")
    done: set[str] = set()
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        for module_name, module in model.named_modules():
            own = {f"{module_name}.{p}" if module_name else p for p, _ in module.named_parameters(recurse=False)}
            if own and own <= set(chosen) and callable(getattr(module, "reset_parameters", None)):
                module.reset_parameters()
                done |= own
        for name in sorted(set(chosen) - done):
            parameter = chosen[name]
            spread = float(parameter.std()) if parameter.numel() > 1 else 0.0
            parameter.normal_(float(parameter.mean()), spread if spread > 0 else 0.02)


@dataclass(frozen=True)
class RandomisationCurve:
    """Spearman's rho between original and re-explained word scores after each cumulative step.

    ``spearman[step, text]``; ``steps`` names the block randomised at each step (all earlier ones stay random).
    """

    steps: tuple[str, ...]
    spearman: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Mean rho per step over the texts where it is defined."""
        return np.array([_nanmean(row) for row in self.spearman])

    @property
    def final(self) -> np.ndarray:
        """Per text, rho after the last step (the most randomised model)."""
        return self.spearman[-1]


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


def _scores(explanation: Explanation) -> np.ndarray:
    return np.array([span.score for span in explanation.word_spans], dtype=np.float64)


def _rho(original: Sequence[Explanation], again: Sequence[Explanation]) -> np.ndarray:
    return np.array(
        [spearman(_scores(a), _scores(b)) if len(a.word_spans) == len(b.word_spans) else math.nan for a, b in zip(original, again)]
    )


def cascading_randomisation(
    model: nn.Module,
    explainer: Explainer,
    explanations: Sequence[Explanation],
    *,
    blocks: Sequence[Block] | None = None,
    seed: int = 0,
    only_final: bool = False,
) -> RandomisationCurve:
    """Randomise ``blocks`` (default :func:`randomisation_blocks`) of a copy of ``model`` one after another.

    After each step the texts of ``explanations`` are explained again by ``explainer`` for the same
    targets. ``only_final=True`` explains once, after every block is random (the cascade's last
    point, at one re-explanation's cost). ``model`` itself is never changed.
    """
    chosen = list(blocks) if blocks is not None else randomisation_blocks(model)
    if not chosen:
        raise InvalidInputError("no parameters to randomise outside the input embeddings")
    return cascade(model, chosen, lambda copied: _rho(explanations, explain_like(explainer, copied, explanations)), seed, only_final)


def cascade(
    model: nn.Module, blocks: Sequence[Block], rho_after: Callable[[nn.Module], np.ndarray], seed: int = 0, only_final: bool = False
) -> RandomisationCurve:
    """Randomise ``blocks`` of a copy of ``model`` one after another; after each (or only the last) step,
    ``rho_after(copy)`` gives one rho per input. Modality-free: the caller re-explains and compares."""
    copied = copy.deepcopy(model)
    names, rows = [], []
    for step, block in enumerate(blocks):
        randomise(copied, block, seed + step)
        if only_final and step < len(blocks) - 1:
            continue
        names.append("all" if only_final else block.name)
        rows.append(np.asarray(rho_after(copied), dtype=np.float64))
    count = rows[0].shape[0] if rows else 0
    return RandomisationCurve(tuple(names), np.array(rows).reshape(len(rows), count))


@dataclass(frozen=True)
class DataRandomisation:
    """Per text, rho between explanations of a model trained on true labels and one trained on shuffled labels."""

    spearman: np.ndarray
    train_accuracy_true: float
    train_accuracy_shuffled: float


def data_randomisation(
    tokenizer: Any,
    train_texts: Sequence[str],
    train_labels: Sequence[int],
    texts: Sequence[str],
    explainer: Explainer,
    *,
    label_names: Sequence[str] = ("negative", "positive"),
    seed: int = 0,
    **training: Any,
) -> DataRandomisation:
    """Train two :class:`~.tiny_classifier.BagOfEmbeddings` (true vs shuffled labels) and compare their explanations.

    Both explain the class the true-label model predicts for each of ``texts``. ``training`` goes to
    :func:`~.tiny_classifier.train_bag_of_embeddings` (``dim``, ``epochs``, ``learning_rate``).
    """
    shuffled = np.random.default_rng(seed).permutation(np.asarray(train_labels)).tolist()
    honest = train_bag_of_embeddings(tokenizer, train_texts, train_labels, label_names, seed=seed, **training)
    noise = train_bag_of_embeddings(tokenizer, train_texts, shuffled, label_names, seed=seed, **training)
    first = list(explainer(honest, list(texts), None, None, None))
    second = list(explainer(noise, list(texts), None, [e.target_label for e in first], None))
    return DataRandomisation(
        _rho(first, second),
        accuracy(honest, tokenizer, train_texts, train_labels),
        accuracy(noise, tokenizer, train_texts, train_labels),
    )
