"""The result of TCAV: per concept and layer, the scores of every run, the random baseline and the test.

Arrays are indexed ``[concept, layer, run]``. ``scores`` are TCAV scores (the share of the
target's examples whose derivative along the concept's CAV is positive) of CAVs fitted against
``n_runs`` random sets; ``random_scores`` those of CAVs of random sets against random sets, the
distribution a meaningless direction gives. ``p_values`` come from Welch's two-sided t-test of
the two; ``p_adjusted`` are Bonferroni-corrected over every (concept, layer) test of the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor

from ..._display import html
from ...errors import InvalidInputError

_ARRAYS = ("scores", "random_scores", "accuracy", "random_accuracy", "p_values", "p_adjusted")


@dataclass(frozen=True)
class TCAVResult:
    """TCAV scores with significance against random concepts (Kim et al., 2018); see the module docstring."""

    concepts: tuple[str, ...]
    layers: tuple[str, ...]
    target: int
    n_examples: int
    n_runs: int
    seed: int
    alpha: float
    scores: Tensor
    random_scores: Tensor
    accuracy: Tensor
    random_accuracy: Tensor
    p_values: Tensor
    p_adjusted: Tensor

    @property
    def mean(self) -> Tensor:
        """Mean TCAV score over runs, ``[concept, layer]``."""
        return self.scores.mean(-1)

    @property
    def random_mean(self) -> Tensor:
        """Mean random-direction score over runs, ``[concept, layer]``."""
        return self.random_scores.mean(-1)

    @property
    def significant(self) -> Tensor:
        """Whether each (concept, layer) score differs from random at level ``alpha`` after the correction."""
        return self.p_adjusted < self.alpha

    def score(self, concept: str, layer: str) -> float:
        """The mean TCAV score of ``concept`` at ``layer``."""
        return float(self.mean[self._index(self.concepts, concept, "concept"), self._index(self.layers, layer, "layer")])

    def p_value(self, concept: str, layer: str, adjusted: bool = True) -> float:
        """The (Bonferroni-adjusted, by default) p-value of ``concept`` at ``layer``."""
        table = self.p_adjusted if adjusted else self.p_values
        return float(table[self._index(self.concepts, concept, "concept"), self._index(self.layers, layer, "layer")])

    def rows(self) -> list[dict[str, Any]]:
        """One record per (concept, layer): mean and spread of scores, the random mean, accuracies, p-values."""
        out = []
        for c, concept in enumerate(self.concepts):
            for i, layer in enumerate(self.layers):
                out.append(
                    {
                        "concept": concept,
                        "layer": layer,
                        "score": float(self.mean[c, i]),
                        "score_std": float(self.scores[c, i].std()),
                        "random_score": float(self.random_mean[c, i]),
                        "cav_accuracy": float(self.accuracy[c, i].mean()),
                        "p_value": float(self.p_values[c, i]),
                        "p_adjusted": float(self.p_adjusted[c, i]),
                        "significant": bool(self.significant[c, i]),
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (NaN accuracies, where nothing was held out, become ``None``)."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Tensor):
                value = _nested(value)
            out[item.name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_json(self) -> str:
        """The result as JSON (see :meth:`from_json`)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TCAVResult:
        """The result :meth:`to_dict` gave."""
        names = {item.name for item in fields(cls)}
        if set(data) != names:
            raise InvalidInputError(f"not a TCAV result: expected the keys {sorted(names)}, got {sorted(data)}")
        given = dict(data)
        for name in _ARRAYS:
            given[name] = torch.tensor(_unnested(given[name]), dtype=torch.float64)
        given["concepts"], given["layers"] = tuple(given["concepts"]), tuple(given["layers"])
        return cls(**given)

    @classmethod
    def from_json(cls, text: str) -> TCAVResult:
        """The result :meth:`to_json` wrote."""
        return cls.from_dict(json.loads(text))

    def _repr_html_(self) -> str | None:
        return html(self)

    @staticmethod
    def _index(names: tuple[str, ...], name: str, what: str) -> int:
        if name not in names:
            raise InvalidInputError(f"unknown {what} {name!r}; this result has {list(names)}")
        return names.index(name)


def _nested(value: Tensor) -> Any:
    """A tensor as nested lists, NaN as ``None`` (JSON has no NaN)."""
    listed = value.tolist()

    def clean(item: Any) -> Any:
        if isinstance(item, list):
            return [clean(v) for v in item]
        return None if item != item else item

    return clean(listed)


def _unnested(value: Any) -> Any:
    if isinstance(value, list):
        return [_unnested(v) for v in value]
    return float("nan") if value is None else value
