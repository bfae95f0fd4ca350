"""Teacher-forced scoring of many rows at once, reusing the key/value cache of each row's unchanged prompt prefix.

A :class:`Row` is a (perturbed) prompt, its target continuation and, optionally, its *reference*:
the unperturbed prompt it came from. A perturbation that changes only late features leaves the
row's first ``k`` tokens equal to the reference's. The reference's keys and values are computed
once, in one forward of its first tokens (one row), and a row is then run from its *cut* ``k``
(at most its length minus one: the last prompt token's logits predict the first target token):
only the tokens after the cut and the target go through the model, on top of the cached prefix.

Rows of any prompts share chunks. A chunk is laid out as ``[cached prefix | suffix | target]``:
each row's cached prefix is left-padded to the chunk's longest cut, its suffix left-padded to
the longest suffix, its target right-padded to the longest target. The attention mask covers all
three parts (zero on padding) and the position ids are explicit (a suffix token's position is its
index in the row's unpadded prompt), so a row's values equal the plain teacher-forced forward's
up to floating-point summation order (checked to 1e-5 in the tests). This is what Captum's cached
token-by-token forward gets wrong with transformers 5: it feeds the whole sequence again on top of
the cache (it slices the new tokens with ``cache_position``, which ``prepare_inputs_for_generation``
no longer reads), so every step sees the prompt twice.

The cache is used only where it is exact: models whose cache is transformers' ``DynamicCache`` of
full-attention layers (no sliding windows, no linear attention), and only for a reference whose
rows skip more prompt tokens in total than its prefix forward costs. Elsewhere the cut is 0:
the plain teacher-forced forward.

The cache must never cost more than it saves, and padding is where it would: a chunk runs every
row at its longest suffix. So rows are grouped by suffix length (their cut point, for rows of one
prompt) and split into chunks that minimise an estimated cost in *row tokens* (a computed token
is 1, a cached position :data:`CACHED_POSITION_COST`, a forward :data:`CHUNK_OVERHEAD`); a chunk
whose rows would cost less run whole runs whole, and if the plain plan (every row whole, grouped
by length the same way) is estimated cheaper than the cached one with its prefix forwards, the
whole batch runs plain (:func:`plan_batch`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor

from limelight.engine.chunking import cpu_capped, rows_for_budget

from .quantity import Quantity


class GenerationRunner(Protocol):
    """What the cached scorer reads of its runner (``runner.GenerationRunner``); a protocol keeps imports one way."""

    model: Any
    device: torch.device
    pad_id: int
    keeps_logits: bool
    memory_budget: int

    def row_bytes(self, prompt_length: int, steps: int, grad: bool) -> int: ...


Ids = tuple[int, ...]
KeysValues = list[tuple[Tensor, Tensor]]

CHUNK_OVERHEAD = 16.0
"""A forward's fixed cost in row tokens (each layer's kernels launched once per chunk; an estimate for CPUs)."""
CACHED_POSITION_COST = 0.05
"""A cached prefix position's cost per row, relative to a computed token (its keys and values copied into the chunk's cache and attended to)."""
_SPAN = 64
"""The most suffix-length groups one chunk spans in the planner's search (keeps planning linear in the rows)."""


@dataclass(frozen=True)
class Row:
    """A prompt (token ids, non-empty), its target ids, the contrast's ids (or None) and the unperturbed prompt it shares a prefix with (or None)."""

    prompt: Ids
    target: Ids
    alternative: Ids | None = None
    reference: Ids | None = None


def cache_keyword(model: Any) -> str | None:
    """The forward's keyword for a key/value cache when a prefix can be reused exactly (a full-attention ``DynamicCache``), else None."""
    try:
        from transformers.cache_utils import DynamicCache, DynamicLayer
    except ImportError:
        return None
    parameters = inspect.signature(model.forward).parameters
    keyword = next((k for k in ("cache", "past_key_values") if k in parameters), None)
    config = getattr(model, "config", None)
    if keyword is None or "position_ids" not in parameters or config is None:
        return None
    try:
        layers = DynamicCache(config=config).layers
    except (AttributeError, TypeError, ValueError):
        return None
    return keyword if all(type(layer) is DynamicLayer for layer in layers) else None


def common_prefix(a: Ids, b: Ids) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def plan_cuts(rows: Sequence[Row], enabled: bool) -> list[int]:
    """Each row's cut: its shared prefix with its reference (keeping one prompt token), 0 where the cache would not pay off."""
    cuts = [min(common_prefix(r.prompt, r.reference), len(r.prompt) - 1) if enabled and r.reference is not None else 0 for r in rows]
    saved: dict[Ids, int] = {}
    longest: dict[Ids, int] = {}
    for row, cut in zip(rows, cuts):
        if row.reference is not None:
            saved[row.reference] = saved.get(row.reference, 0) + cut
            longest[row.reference] = max(longest.get(row.reference, 0), cut)
    return [cut if r.reference is not None and saved[r.reference] > longest[r.reference] else 0 for r, cut in zip(rows, cuts)]


@dataclass(frozen=True)
class Plan:
    """How a batch runs: its chunks (row indices), each row's cut (0: run whole) and the estimated cost in row tokens."""

    chunks: list[list[int]]
    cuts: list[int]
    cost: float


def chunk_cost(rows: int, tokens: int, cached: int, forwards: int = 1) -> float:
    """Estimated cost of ``rows`` rows of ``tokens`` computed tokens on ``cached`` cached positions, run in ``forwards`` forwards."""
    return forwards * CHUNK_OVERHEAD + rows * (tokens + CACHED_POSITION_COST * cached)


def plan_chunks(rows: Sequence[Row], cuts: Sequence[int], limit: int) -> Plan:
    """Rows grouped by (suffix length, target length) into chunks of at most ``limit`` rows, at the least estimated cost.

    A dynamic programme over the sorted groups: a chunk spans consecutive groups and runs at the
    longest suffix among them; a run of groups with more than ``limit`` rows is split evenly.
    """
    keys = [(len(r.prompt) - c, len(r.target)) for r, c in zip(rows, cuts)]
    groups: list[list[int]] = []
    for i in sorted(range(len(rows)), key=keys.__getitem__):
        if groups and keys[groups[-1][0]] == keys[i]:
            groups[-1].append(i)
        else:
            groups.append([i])
    longest_cut = [max(cuts[i] for i in g) for g in groups]
    best, back = [0.0] + [math.inf] * len(groups), [0] * (len(groups) + 1)
    for end in range(1, len(groups) + 1):
        width, count, steps, cached = keys[groups[end - 1][0]][0], 0, 0, 0
        for start in range(end - 1, max(end - _SPAN, 0) - 1, -1):
            count += len(groups[start])
            steps = max(steps, keys[groups[start][0]][1])
            cached = max(cached, longest_cut[start])
            cost = best[start] + chunk_cost(count, width + steps, cached, forwards=-(-count // limit))
            if cost < best[end]:
                best[end], back[end] = cost, start
    out: list[list[int]] = []
    end = len(groups)
    while end:
        members = [i for g in groups[back[end] : end] for i in g]
        pieces = -(-len(members) // limit)
        out[:0] = [members[p * len(members) // pieces : (p + 1) * len(members) // pieces] for p in range(pieces)]
        end = back[end]
    return Plan(out, list(cuts), best[-1])


def plan_batch(rows: Sequence[Row], cuts: Sequence[int], cached_limit: int, plain_limit: int) -> Plan:
    """The cheaper of the cached plan (chunks where the cache does not pay run whole, plus one prefix forward per reference) and the plain one."""
    plain = plan_chunks(rows, [0] * len(rows), plain_limit)
    if not any(cuts):
        return plain
    cached = plan_chunks(rows, cuts, cached_limit)
    kept = list(cached.cuts)
    cost = 0.0
    for chunk in cached.chunks:
        steps = max(len(rows[i].target) for i in chunk)
        with_cache = chunk_cost(len(chunk), max(len(rows[i].prompt) - kept[i] for i in chunk) + steps, max(kept[i] for i in chunk))
        whole = chunk_cost(len(chunk), max(len(rows[i].prompt) for i in chunk) + steps, 0)
        if whole <= with_cache:
            for i in chunk:
                kept[i] = 0
        cost += min(whole, with_cache)
    prefixes: dict[Ids, int] = {}
    for row, cut in zip(rows, kept):
        if cut and row.reference is not None:
            prefixes[row.reference] = max(prefixes.get(row.reference, 0), cut)
    cost += sum(CHUNK_OVERHEAD + length for length in prefixes.values())
    return Plan(cached.chunks, kept, cost) if cost < plain.cost else plain


class CachedScorer:
    """Scores :class:`Row` s with one forward per chunk, each reference's prefix computed once (see the module).

    ``reused_tokens`` counts the prompt tokens that rows took from a cache instead of running them.
    """

    def __init__(self, runner: GenerationRunner, use_cache: bool) -> None:
        self.runner = runner
        self.keyword = cache_keyword(runner.model) if use_cache else None
        self.reused_tokens = 0
        self._token_bytes: int | None = None  # one token's keys and values over all layers, measured on first use

    def score(self, rows: Sequence[Row], quantity: Quantity) -> list[Tensor]:
        """Each row's ``(T,)`` values (float64, CPU), in the order given, by the cheaper plan (:func:`plan_batch`)."""
        if not rows:
            return []
        cuts = plan_cuts(rows, self.keyword is not None)
        plan = plan_batch(rows, cuts, self._chunk_rows(rows, cached=any(cuts)), self._chunk_rows(rows, cached=False))
        prefixes = self._prefixes(rows, plan.cuts)
        self.reused_tokens += sum(plan.cuts)
        out: list[Tensor] = [torch.empty(0)] * len(rows)
        for picked in plan.chunks:
            with torch.inference_mode():
                values = self._forward([rows[i] for i in picked], [plan.cuts[i] for i in picked], prefixes, quantity)
            for i, v in zip(picked, values.to(torch.float64).cpu()):
                out[i] = v[: len(rows[i].target)]
        return out

    def _prefixes(self, rows: Sequence[Row], cuts: Sequence[int]) -> dict[Ids, KeysValues]:
        """Per reference, the keys and values of its first ``max cut`` tokens, from one forward of one row."""
        needed: dict[Ids, int] = {}
        for row, cut in zip(rows, cuts):
            if cut and row.reference is not None:
                needed[row.reference] = max(needed.get(row.reference, 0), cut)
        return {reference: self._prefix(reference[:length]) for reference, length in needed.items()}

    def _prefix(self, ids: Ids) -> KeysValues:
        from transformers.cache_utils import DynamicCache

        runner = self.runner
        tokens = torch.tensor([ids], device=runner.device)
        cache = DynamicCache()
        kwargs: dict[str, Any] = {"input_ids": tokens, "attention_mask": torch.ones_like(tokens), "use_cache": True}
        kwargs["position_ids"] = torch.arange(len(ids), device=runner.device)[None]
        if runner.keeps_logits:
            kwargs["logits_to_keep"] = 1
        kwargs[str(self.keyword)] = cache
        with torch.inference_mode():
            runner.model(**kwargs)
        layers: list[Any] = list(cache.layers)  # DynamicLayer each (checked by cache_keyword)
        return [(layer.keys, layer.values) for layer in layers]

    def _chunk_rows(self, rows: Sequence[Row], cached: bool) -> int:
        """Rows per chunk: the plain forward's measured activations plus, with a cache, every layer's keys and values of a whole row."""
        longest = max(len(r.prompt) for r in rows)
        steps = max(len(r.target) for r in rows)
        row_bytes = self.runner.row_bytes(longest, steps, grad=False)
        if cached:
            if self._token_bytes is None:
                layers = self._prefix((self.runner.pad_id,))
                self._token_bytes = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in layers)
            row_bytes += self._token_bytes * (2 * longest + steps)  # cached positions and suffix, each at most a prompt
        return cpu_capped(rows_for_budget(row_bytes, self.runner.memory_budget), self.runner.device)

    def _forward(self, rows: Sequence[Row], cuts: Sequence[int], prefixes: dict[Ids, KeysValues], quantity: Quantity) -> Tensor:
        """``(rows, T_max)`` values of one chunk (columns past a row's target are padding)."""
        runner = self.runner
        n, cached = len(rows), max(cuts)
        width = max(len(r.prompt) - c for r, c in zip(rows, cuts))
        steps = max(len(r.target) for r in rows)
        ids = torch.full((n, width + steps), runner.pad_id, dtype=torch.long)
        mask = torch.zeros((n, cached + width + steps), dtype=torch.long)
        positions = torch.zeros((n, width + steps), dtype=torch.long)
        targets = torch.full((n, steps), runner.pad_id, dtype=torch.long)
        alternatives = None if rows[0].alternative is None else targets.clone()
        for i, (row, cut) in enumerate(zip(rows, cuts)):
            suffix, length = row.prompt[cut:], len(row.target)
            ids[i, width - len(suffix) : width + length] = torch.tensor(suffix + row.target)
            mask[i, cached - cut : cached] = 1
            mask[i, cached + width - len(suffix) : cached + width + length] = 1
            positions[i, width - len(suffix) : width + length] = torch.arange(cut, cut + len(suffix) + length)
            targets[i, :length] = torch.tensor(row.target)
            if alternatives is not None and row.alternative is not None:
                alternatives[i, :length] = torch.tensor(row.alternative)
        device = runner.device
        kwargs: dict[str, Any] = {"input_ids": ids.to(device), "attention_mask": mask.to(device), "position_ids": positions.to(device)}
        if cached:
            kwargs[str(self.keyword)] = self._chunk_cache(rows, cuts, prefixes, cached)
            kwargs["use_cache"] = True
        else:
            kwargs["use_cache"] = False
        if runner.keeps_logits:
            logits = runner.model(**kwargs, logits_to_keep=steps + 1).logits[:, :steps]
        else:
            logits = runner.model(**kwargs).logits[:, width - 1 : width - 1 + steps]
        return quantity.values(logits.float(), targets.to(device), None if alternatives is None else alternatives.to(device))

    @staticmethod
    def _chunk_cache(rows: Sequence[Row], cuts: Sequence[int], prefixes: dict[Ids, KeysValues], cached: int) -> Any:
        """A fresh ``DynamicCache`` of the chunk: each row's prefix keys and values, left-padded to ``cached`` positions."""
        from transformers.cache_utils import DynamicCache

        layers = []
        for layer, (k0, v0) in enumerate(next(iter(prefixes.values()))):
            keys = k0.new_zeros((len(rows), k0.shape[1], cached, k0.shape[3]))
            values = v0.new_zeros((len(rows), v0.shape[1], cached, v0.shape[3]))
            for i, (row, cut) in enumerate(zip(rows, cuts)):
                if cut and row.reference is not None:
                    k, v = prefixes[row.reference][layer]
                    keys[i, :, cached - cut :] = k[0, :, :cut]
                    values[i, :, cached - cut :] = v[0, :, :cut]
            layers.append((keys, values))
        return DynamicCache(layers)
