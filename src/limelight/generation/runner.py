"""The one forward pipeline of generation: prompt + target, teacher-forced, batched, on the model's device.

A *row* is a prompt (token ids, possibly perturbed) followed by a target continuation. Rows are
packed into one batch with the prompts left-padded and the targets right-padded, an attention mask
over the real tokens and position ids counted from each row's first real token, so a row's values
do not depend on the rows it is batched with (up to floating-point summation order). The logits
that predict target token ``t`` sit in the same column for every row, and only those ``T`` columns
go through the language-model head (``logits_to_keep`` where the model supports it). Each row's
``(T,)`` values are the :class:`~limelight.generation.quantity.Quantity` of its target tokens.

A prompt left empty by deletion is the tokenizer's BOS token alone (EOS when there is no BOS):
a causal LM needs one token to predict the first target token from.

Rows scored without gradients (:meth:`GenerationRunner.score_rows`) go through
:mod:`~limelight.generation.prefix_cache`: rows of many prompts share chunks, and a perturbed row
reuses the key/value cache of the prefix it shares with its unperturbed prompt.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from limelight.engine.chunking import rows_for_budget, saved_bytes
from limelight.errors import InvalidInputError

from .prefix_cache import CachedScorer, Row
from .quantity import Quantity


@dataclass(frozen=True)
class Packed:
    """A batch of rows: ids, attention mask and position ids ``(rows, L)``, target ids ``(rows, T)``, the first target column."""

    input_ids: Tensor
    attention_mask: Tensor
    position_ids: Tensor
    targets: Tensor
    alternatives: Tensor | None
    prompt_columns: int
    prompt_lengths: tuple[int, ...]


class GenerationRunner:
    """Runs a causal LM on teacher-forced rows, in chunks that fit ``memory_budget`` bytes.

    ``prefix_cache``: score perturbed rows from the key/value cache of their unchanged prompt
    prefix where that is exact (:mod:`~limelight.generation.prefix_cache`); False always runs the whole row.
    """

    def __init__(self, model: Any, tokenizer: Any, memory_budget: int, prefix_cache: bool = True) -> None:
        if not callable(getattr(model, "get_input_embeddings", None)):
            raise InvalidInputError(f"{type(model).__name__} has no get_input_embeddings(): pass a Hugging Face causal LM")
        self.model = model
        self.tokenizer = tokenizer
        self.memory_budget = memory_budget
        self.embedding: nn.Module = model.get_input_embeddings()  # a Hugging Face PreTrainedModel (typed Any: no stubs)
        parameter = next(model.parameters(), None)
        self.device = parameter.device if parameter is not None else torch.device("cpu")
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if start is None:
            raise InvalidInputError("the tokenizer has neither a BOS nor an EOS token; limelight needs one to stand for an empty prompt")
        self.start_id = int(start)
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else start)
        self.keeps_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
        self._row_bytes: dict[tuple[int, int, bool], int] = {}
        self.scorer = CachedScorer(self, prefix_cache)

    def generate(self, prompt_ids: Sequence[int], max_new_tokens: int, generation_kwargs: Mapping[str, Any]) -> list[int]:
        """Greedy continuation of one prompt (``generation_kwargs`` go to ``model.generate``; they may turn sampling on)."""
        ids = torch.tensor([list(prompt_ids)], device=self.device)
        kwargs = {"do_sample": False, "max_new_tokens": max_new_tokens, "pad_token_id": self.pad_id, **generation_kwargs}
        if not kwargs.get("do_sample"):
            kwargs.setdefault("temperature", None)
            kwargs.setdefault("top_p", None)
            kwargs.setdefault("top_k", None)
        with torch.inference_mode():
            output = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **kwargs)
        return [int(i) for i in output[0, ids.shape[1] :].tolist()]

    def pack(self, prompts: Sequence[Sequence[int]], targets: Tensor, alternatives: Tensor | None = None) -> Packed:
        """Left-padded prompts followed by their ``(rows, T)`` targets, as tensors on the model's device."""
        rows = [self.prompt(p) for p in prompts]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row) :] = 1
        ids = torch.cat([ids, targets.cpu()], 1).to(self.device)
        mask = torch.cat([mask, torch.ones_like(targets.cpu())], 1).to(self.device)
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        alt = None if alternatives is None else alternatives.to(self.device)
        return Packed(ids, mask, positions, targets.to(self.device), alt, width, tuple(len(r) for r in rows))

    def values(self, packed: Packed, quantity: Quantity, inputs_embeds: Tensor | None = None) -> Tensor:
        """``(rows, T)`` values of the target tokens (with gradients if the embeddings carry them)."""
        steps = packed.targets.shape[1]
        kwargs: dict[str, Any] = {"attention_mask": packed.attention_mask, "position_ids": packed.position_ids, "use_cache": False}
        if inputs_embeds is None:
            kwargs["input_ids"] = packed.input_ids
        else:
            kwargs["inputs_embeds"] = inputs_embeds
        if self.keeps_logits:
            kwargs["logits_to_keep"] = steps + 1
            logits = self.model(**kwargs).logits[:, :steps]
        else:
            logits = self.model(**kwargs).logits[:, packed.prompt_columns - 1 : packed.prompt_columns - 1 + steps]
        return quantity.values(logits.float(), packed.targets, packed.alternatives)

    def score(
        self,
        prompts: Sequence[Sequence[int]],
        targets: Tensor,
        quantity: Quantity,
        alternatives: Tensor | None = None,
        reference: Sequence[int] | None = None,
    ) -> Tensor:
        """Values ``(rows, T)`` (float64, CPU) of many rows without gradients, in chunks that fit the memory budget.

        ``reference``: the unperturbed prompt the rows were made from; their shared prefix with it is run once.
        """
        shared = None if reference is None else tuple(reference)
        rows = [
            Row(self.prompt(p), tuple(targets[i].tolist()), None if alternatives is None else tuple(alternatives[i].tolist()), shared)
            for i, p in enumerate(prompts)
        ]
        return torch.stack(self.score_rows(rows, quantity))

    def score_rows(self, rows: Sequence[Row], quantity: Quantity) -> list[Tensor]:
        """Each row's ``(T,)`` values (float64, CPU), rows of any prompts and target lengths batched together."""
        return self.scorer.score(rows, quantity)

    def prompt(self, ids: Sequence[int]) -> tuple[int, ...]:
        """A prompt's ids as a row starts with them: an empty prompt is the start token alone."""
        return tuple(int(i) for i in ids) if len(ids) else (self.start_id,)

    def chunk_rows(self, prompt_length: int, steps: int, grad: bool) -> int:
        """Rows per chunk for rows of about ``prompt_length + steps`` tokens, from one measured row (remembered per length)."""
        return rows_for_budget(self.row_bytes(prompt_length, steps, grad), self.memory_budget)

    def row_bytes(self, prompt_length: int, steps: int, grad: bool) -> int:
        """Bytes one row of about ``prompt_length + steps`` tokens keeps (activations for backward, or a quarter without gradients)."""
        key = (max(prompt_length, 1), steps, grad)
        if key not in self._row_bytes:
            targets = torch.zeros((1, steps), dtype=torch.long)
            packed = self.pack([[self.pad_id] * key[0]], targets)

            def run() -> object:
                with torch.enable_grad():
                    embeds = self.embedding(packed.input_ids).detach().requires_grad_(True)
                    return self.values(packed, Quantity(), embeds)

            measured = saved_bytes(run)
            self._row_bytes[key] = measured if grad else max(measured // 4, 1)
        return self._row_bytes[key]
