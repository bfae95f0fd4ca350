"""What TracIn returns: training examples named with their scores, per test example, as JSON, a DataFrame or a view.

:class:`Influence` holds the full ``[n_test, n_train]`` score matrix and, per test example, its top
proponents and opponents (:class:`TrainingExample`: index, score, label, and text or reference);
:class:`SelfInfluence` holds one score per training example. ``settings`` records how the scores
were made (method, checkpoints, learning rates, parameters, projection), the evidence needed to
repeat them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._optional import pandas
from ..engine.validation import check_count
from ..errors import InvalidInputError


@dataclass(frozen=True)
class TrainingExample:
    """One training example in a result: its index in the training set, its score, label, and text or reference."""

    index: int
    score: float
    label: Any = None
    text: str | None = None
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return asdict(self)


@dataclass(frozen=True)
class TestInfluence:
    """One test example (``{"index", "label"[, "text"]}``) and its strongest proponents and opponents, strongest first."""

    test: dict[str, Any]
    proponents: list[TrainingExample]
    opponents: list[TrainingExample]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "test": dict(self.test),
            "proponents": [p.to_dict() for p in self.proponents],
            "opponents": [o.to_dict() for o in self.opponents],
        }


@dataclass(frozen=True)
class Influence:
    """TracIn scores of every training example (columns) for every test example (rows), and the top of each row."""

    scores: np.ndarray
    examples: list[TestInfluence]
    settings: dict[str, Any]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> TestInfluence:
        return self.examples[index]

    def to_dict(self) -> dict[str, Any]:
        """Settings and per test example its proponents and opponents (the full matrix is :attr:`scores`)."""
        return {"settings": dict(self.settings), "examples": [e.to_dict() for e in self.examples]}

    def to_json(self, **json_kwargs: Any) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict(), **json_kwargs)

    def to_dataframe(self) -> Any:
        """One row per (test example, kind, rank): ``test``, ``test_text``, ``kind`` (proponent/opponent), ``rank``, the training example's fields."""
        rows = [
            {"test": e.test["index"], "test_text": e.test.get("text"), "kind": kind, "rank": rank, **item.to_dict()}
            for e in self.examples
            for kind, items in (("proponent", e.proponents), ("opponent", e.opponents))
            for rank, item in enumerate(items)
        ]
        return _frame(rows)

    def to_html(self) -> str:
        """A standalone HTML table per test example, proponents beside opponents (every user string escaped)."""
        from .view import influence_html

        return influence_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        from .view import influence_text

        return influence_text(self)


@dataclass(frozen=True)
class SelfInfluence:
    """Each training example's self-influence (``scores[i]`` for example ``i``)."""

    scores: np.ndarray
    examples: list[TrainingExample]
    settings: dict[str, Any]

    def order(self) -> np.ndarray:
        """Training indices from the highest self-influence to the lowest (ties in index order)."""
        return np.argsort(-self.scores, kind="stable")

    def top(self, k: int = 10) -> list[TrainingExample]:
        """The ``k`` training examples with the highest self-influence, with their scores."""
        check_count("k", k)
        return [_scored(self.examples[i], float(self.scores[i])) for i in self.order()[:k]]

    def to_dict(self) -> dict[str, Any]:
        """Settings and every example with its score, in training order."""
        return {"settings": dict(self.settings), "examples": [_scored(e, float(s)).to_dict() for e, s in zip(self.examples, self.scores)]}

    def to_json(self, **json_kwargs: Any) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict(), **json_kwargs)

    def to_dataframe(self) -> Any:
        """One row per training example (``index``, ``score``, ``label``, ``text``, ``reference``), highest score first."""
        return _frame([_scored(self.examples[i], float(self.scores[i])).to_dict() for i in self.order()])

    def to_html(self) -> str:
        """An HTML table of the 20 highest self-influences (escaped)."""
        from .view import self_influence_html

        return self_influence_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()


def _scored(example: TrainingExample, score: float) -> TrainingExample:
    return TrainingExample(example.index, score, example.label, example.text, example.reference)


def _frame(rows: list[dict[str, Any]]) -> Any:
    return pandas().DataFrame(rows)


def detection(scores: np.ndarray, flagged: np.ndarray, fractions: tuple[float, ...] = (0.1, 0.2)) -> dict[str, float]:
    """How well ranking by ``scores`` (highest first) finds the ``flagged`` examples (e.g. flipped labels).

    ``found@q``: the share of flagged examples among the top ``q`` fraction; ``auc``: the probability
    that a flagged example scores above an unflagged one (ties count half; Mann-Whitney).
    """
    scores, flagged = np.asarray(scores, dtype=np.float64), np.asarray(flagged, dtype=bool)
    if scores.shape != flagged.shape or scores.ndim != 1 or not flagged.any() or flagged.all():
        raise InvalidInputError("detection needs one score and one flag per example, with both flagged and unflagged examples")
    order = np.argsort(-scores, kind="stable")
    out = {f"found@{q:g}": float(flagged[order[: int(round(q * len(scores)))]].sum() / flagged.sum()) for q in fractions}
    ranks = _average_ranks(scores)
    positives = int(flagged.sum())
    negatives = len(scores) - positives
    out["auc"] = float((ranks[flagged].sum() - positives * (positives + 1) / 2) / (positives * negatives))
    return out


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        stop = start
        while stop + 1 < len(values) and sorted_values[stop + 1] == sorted_values[start]:
            stop += 1
        ranks[order[start : stop + 1]] = (start + stop) / 2 + 1
        start = stop + 1
    return ranks
