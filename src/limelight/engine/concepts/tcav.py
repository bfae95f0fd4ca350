"""TCAV: testing with concept activation vectors (Kim et al., 2018), for any model and any layers.

For a concept and a layer, a CAV (:mod:`.cav`) is fitted to tell the concept's activations from
those of a random set; the TCAV score is the share of the target's examples whose derivative
along the CAV is positive. A direction means something only if it beats chance, so each score is
computed ``n_runs`` times against different random sets and compared, by Welch's two-sided
t-test, with the scores of CAVs fitted between two random sets; p-values are Bonferroni-corrected
over every (concept, layer) test. Activations of each concept are computed once and cached; one
forward (and one backward, for the target's gradients) serves all layers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ...errors import InvalidInputError, TargetError
from ..forward import OutputSpec, eval_mode
from ..validation import check_count, check_positive, check_probability, is_int, resolve_seed
from .activations import Pool, check_pool, layer_values
from .cav import fit_cav
from .concept import Concept, ModelInputs
from .result import TCAVResult
from .stats import bonferroni, welch_t_test

LayerSpec = nn.Module | str | Sequence[nn.Module | str] | Mapping[str, nn.Module]
"""Layers by module, by name in ``model.named_modules()``, a list of either, or a ``{name: module}`` mapping."""


def resolve_layers(model: nn.Module, layers: LayerSpec) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` per requested layer, each checked to be a submodule of ``model``."""
    named = dict(model.named_modules())
    names_of = {id(module): name for name, module in reversed(list(named.items()))}
    if isinstance(layers, Mapping):
        items: list[Any] = list(layers.items())
    else:
        items = [layers] if isinstance(layers, (nn.Module, str)) else list(layers)
    if not items:
        raise InvalidInputError("layers is empty; pass a layer (a submodule or its name) or a list of them")
    out: list[tuple[str, nn.Module]] = []
    for item in items:
        name, module = item if isinstance(item, tuple) else (None, item)
        if isinstance(module, str):
            if module not in named:
                close = [n for n in named if module in n][:5]
                raise InvalidInputError(
                    f"the model has no submodule named {module!r}" + (f"; did you mean one of {close}?" if close else "")
                )
            name, module = name or module, named[module]
        if not isinstance(module, nn.Module):
            raise InvalidInputError(f"a layer must be a torch.nn.Module or its name, got {type(module).__name__}")
        if id(module) not in names_of:
            raise InvalidInputError(f"the {type(module).__name__} given as a layer is not a submodule of the model")
        out.append((name or names_of[id(module)] or type(module).__name__, module))
    if len({name for name, _ in out}) != len(out):
        raise InvalidInputError(f"layers repeat a layer: {[name for name, _ in out]}")
    return out


class TCAV:
    """Concept sensitivity of a model's output at ``layers`` (see the module docstring).

    ``model`` is an ``nn.Module`` called as ``model(x)``, ``model(*x)`` or ``model(**x)`` on a
    concept's examples (see :class:`Concept`); ``output`` picks the explained tensor from what it
    returns (a key, ``"logits"`` by default, or a callable). ``pool`` turns a layer's value into
    one vector per example (see :mod:`.activations`). ``batch_size`` examples go through the model
    together (results do not depend on it). ``l2`` regularises the CAVs' logistic regression.
    """

    def __init__(
        self,
        model: nn.Module,
        layers: LayerSpec,
        *,
        output: OutputSpec = "logits",
        pool: Pool = "flatten",
        batch_size: int = 32,
        l2: float = 1e-2,
        eval_mode: bool = True,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InvalidInputError(f"TCAV needs a torch.nn.Module (to find its layers), got {type(model).__name__}")
        self.model = model
        self.layers = resolve_layers(model, layers)
        self.output = output
        self.pool = check_pool(pool)
        self.batch_size = check_count("batch_size", batch_size)
        self.l2 = check_positive("l2", l2, allow_zero=True)
        self.eval_mode = eval_mode
        self._cache: dict[str, dict[str, Tensor]] = {}
        self._seen: dict[str, Concept] = {}

    @property
    def layer_names(self) -> list[str]:
        return [name for name, _ in self.layers]

    @property
    def device(self) -> torch.device:
        parameter = next(self.model.parameters(), None)
        return torch.device("cpu") if parameter is None else parameter.device

    def activations(self, concept: Concept) -> dict[str, Tensor]:
        """Per layer, the concept's pooled activations ``(examples, D)`` on the model's device (cached by name)."""
        if not isinstance(concept, Concept):
            raise InvalidInputError(f"concepts must be limelight Concept objects, got {type(concept).__name__}")
        known = self._seen.get(concept.name)
        if known is not None and known is not concept:
            raise InvalidInputError(f"two different concepts are named {concept.name!r}; give each concept its own name")
        if concept.name not in self._cache:
            with eval_mode([self.model], self.eval_mode):
                self._cache[concept.name] = layer_values(self.model, self.layers, concept.examples, self.pool, self.batch_size, self.device)
            self._seen[concept.name] = concept
        return self._cache[concept.name]

    def gradients(self, inputs: ModelInputs, target: int) -> dict[str, Tensor]:
        """Per layer, the pooled gradient ``(examples, D)`` of ``output[:, target]`` for ``inputs``."""
        if not is_int(target) or target < 0:
            raise TargetError(f"target must be a class index (a non-negative int), got {target!r}")
        with eval_mode([self.model], self.eval_mode):
            return layer_values(self.model, self.layers, inputs, self.pool, self.batch_size, self.device, output=self.output, target=target)

    def interpret(
        self,
        inputs: ModelInputs,
        concepts: Concept | Sequence[Concept],
        random: Concept,
        target: int,
        *,
        n_runs: int = 10,
        seed: int | None = None,
        alpha: float = 0.05,
    ) -> TCAVResult:
        """TCAV scores of ``concepts`` for ``target`` on the examples ``inputs``, tested against ``random``.

        ``random`` is a pool of unrelated examples; each run draws from it, without replacement,
        a negative set and a random "concept" as large as the concept (so the pool needs at least
        twice the largest concept's examples). ``seed`` (drawn and recorded when ``None``) fixes
        the draws and the CAVs' held-out splits.
        """
        wanted = [concepts] if isinstance(concepts, Concept) else list(concepts)
        if not wanted:
            raise InvalidInputError("concepts is empty; pass at least one Concept")
        if not isinstance(random, Concept):
            raise InvalidInputError(f"random must be a Concept of unrelated examples, got {type(random).__name__}")
        strangers = [type(c).__name__ for c in wanted if not isinstance(c, Concept)]
        if strangers:
            raise InvalidInputError(f"concepts must be limelight Concept objects, got {strangers[0]}")
        names = [c.name for c in wanted]
        if len(set(names)) != len(wanted) or random.name in names:
            raise InvalidInputError(f"concepts (and random) need distinct names, got {names} and {random.name!r}")
        check_count("n_runs", n_runs, minimum=2)
        level = check_probability("alpha", alpha)
        largest = max(len(c) for c in wanted)
        if len(random) < 2 * largest:
            raise InvalidInputError(
                f"random has {len(random)} examples; each run draws two disjoint sets as large as the largest concept "
                f"({largest}), so it needs at least {2 * largest}"
            )
        resolved = resolve_seed(seed)
        generator = torch.Generator().manual_seed(resolved)
        grads = self.gradients(inputs, target)
        pool = self.activations(random)
        shape = (len(wanted), len(self.layers), n_runs)
        tables = {name: torch.zeros(shape, dtype=torch.float64) for name in ("scores", "random_scores", "accuracy", "random_accuracy")}
        for c, concept in enumerate(wanted):
            acts, size = self.activations(concept), len(concept)
            for run in range(n_runs):
                order = torch.randperm(len(random), generator=generator)
                negative, stand_in = order[:size], order[size : 2 * size]
                for i, layer in enumerate(self.layer_names):
                    others = pool[layer][negative.to(pool[layer].device)]
                    for key, positives in (("", acts[layer]), ("random_", pool[layer][stand_in.to(pool[layer].device)])):
                        cav = fit_cav(positives, others, generator, self.l2)
                        derivative = grads[layer].to(cav.vector) @ cav.vector
                        tables[key + "scores"][c, i, run] = float((derivative > 0).double().mean())
                        tables[key + "accuracy"][c, i, run] = cav.accuracy
        tests = [
            welch_t_test(s.tolist(), r.tolist()) for s, r in zip(tables["scores"].flatten(0, 1), tables["random_scores"].flatten(0, 1))
        ]
        p_values = torch.tensor([t.p_value for t in tests], dtype=torch.float64)
        return TCAVResult(
            concepts=tuple(names),
            layers=tuple(self.layer_names),
            target=target,
            n_examples=next(iter(grads.values())).shape[0],
            n_runs=n_runs,
            seed=resolved,
            alpha=level,
            p_values=p_values.reshape(shape[:2]),
            p_adjusted=torch.tensor(bonferroni(p_values.tolist()), dtype=torch.float64).reshape(shape[:2]),
            **tables,
        )
