"""The result of explaining one text: the original string, its tokens and words, and their scores.

An :class:`Explanation` is plain data: everything a view or a metric needs is here, nothing is
recomputed. Character offsets always point into the exact original string(s), so views can show
the text as the user wrote it, never a re-spaced detokenisation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import torch
from torch import Tensor

from .._display import html
from .._optional import pandas
from ..engine.convergence import ABSOLUTE_TOLERANCE
from ..engine.evidence import Evidence, ExampleEvidence
from ..engine.result import Attribution, PerturbationExtras
from ..errors import InvalidInputError
from .erasure import Erasure

FORMAT_VERSION = 2
"""Version 2 keeps the evidence in one ``evidence`` record (version 1, still read, had flat fields and ``target_value``)."""


@dataclass(frozen=True)
class Span:
    """A scored piece of the original text: a word or a token.

    ``start``/``end`` are character offsets into ``Explanation.text`` (``segment`` 0) or
    ``Explanation.text_pair`` (``segment`` 1). Special tokens have ``start == end`` and
    ``special=True``. ``token_indices`` lists the tokens a word was pooled from; for a token
    it holds its own index. ``standard_error``: for a word scored by a sampled Shapley estimator,
    the estimate's standard error (0 where exact, ``nan`` where too few draws measure it); ``None``
    for other methods, for tokens and for windowed texts.
    """

    text: str
    start: int
    end: int
    score: float
    segment: int = 0
    special: bool = False
    token_indices: tuple[int, ...] = ()
    standard_error: float | None = None


@dataclass
class Explanation:
    """Why the model gave its output for one text (or text pair).

    Scores are in the units of ``quantity`` (by default the target's logit), so explanations of
    different texts by the same model are directly comparable: nothing is normalised per text.
    ``evidence`` (:class:`~limelight.engine.evidence.Evidence`, its fields also readable here:
    ``delta``, ``input_value``, ``baseline_value``, ``n_steps``, ``converged``, ``tolerance``)
    says how far to trust the scores: ``delta`` is the completeness error of the attribution
    (sum of token scores minus the change of the explained quantity between baseline and input);
    ``None`` for methods that do not promise completeness. ``converged`` is filled from
    :attr:`delta_bound` when not given.

    A text longer than the model's limit is explained in overlapping windows: ``windows`` lists
    each window's character span and ``window_evidence`` each window's own evidence (its values
    and completeness error, for its own tokens). ``probabilities`` come from the mean of the
    windows' logits. Each window explains its own output ``f_w``, and a token takes its score
    from one window (:func:`~limelight.text.windows.stitch`), so the text's evidence is defined
    over the windows: ``input_value = sum_w f_w(x)``, ``baseline_value = sum_w f_w(b)``, and
    ``delta = sum of token scores - sum_w (f_w(x) - f_w(b))``, which also counts what stitching
    dropped (the scores the overlaps got in the windows that do not own them); ``n_steps`` is the
    most any window took. :attr:`is_windowed` says so, and every view shows it.

    ``head`` is the model's head (:data:`limelight.text.tasks.HEADS`): for ``"regression"`` there
    is no class (``probabilities`` is empty and ``input_value`` is the predicted value); for
    ``"multi_label_classification"`` ``probabilities`` are each label's own sigmoid. ``marks``
    are ``(segment, start, end)`` character spans the explained output is about (the token of a
    token classifier, the answer of a reader), which views mark. ``segment_names`` name the
    segments (e.g. ``["question", "context"]``). ``read_window`` is the character span of the
    one window a long text was read in when the head explains a single position (the rest of the
    text scores exactly 0: the explained output never saw it).
    """

    text: str
    word_spans: list[Span]
    token_spans: list[Span]
    predicted_label: str
    probabilities: dict[str, float]
    target_label: str
    quantity: str = "logit"
    method: str = "integrated_gradients"
    method_settings: dict[str, Any] = field(default_factory=dict)
    baseline: str = "pad"
    text_pair: str | None = None
    contrast_label: str | None = None
    evidence: ExampleEvidence = field(default_factory=Evidence)
    windows: list[tuple[int, int]] = field(default_factory=list)
    window_evidence: list[ExampleEvidence] = field(default_factory=list)
    head: str = "single_label_classification"
    marks: list[tuple[int, int, int]] = field(default_factory=list)
    segment_names: list[str] = field(default_factory=list)
    read_window: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.evidence.converged is None and self.evidence.delta is not None and self.delta_bound is not None:
            self.evidence = replace(self.evidence, converged=abs(self.evidence.delta) <= self.delta_bound)

    @property
    def is_windowed(self) -> bool:
        """True when the text was longer than the model's limit and explained in several windows."""
        return len(self.windows) > 1

    @property
    def delta(self) -> float | None:
        """The completeness error: sum of scores minus ``input_value - baseline_value`` (``None``: not promised)."""
        return self.evidence.delta

    @property
    def input_value(self) -> float | None:
        """The explained scalar at the input."""
        return self.evidence.input_value

    @property
    def baseline_value(self) -> float | None:
        """The explained scalar at the baseline."""
        return self.evidence.baseline_value

    @property
    def n_steps(self) -> int | None:
        """The path points the integral used (integrated-gradients family)."""
        return self.evidence.n_steps

    @property
    def converged(self) -> bool | None:
        """Whether ``|delta|`` is within :attr:`delta_bound`; ``None`` when there is no delta or tolerance."""
        return self.evidence.converged

    @property
    def tolerance(self) -> float | None:
        """The relative completeness tolerance aimed for."""
        return self.evidence.tolerance

    @property
    def words(self) -> list[tuple[str, float]]:
        """``(word, score)`` pairs in reading order."""
        return [(span.text, span.score) for span in self.word_spans]

    @property
    def tokens(self) -> list[tuple[str, float]]:
        """``(token, score)`` pairs in model order, special tokens included."""
        return [(span.text, span.score) for span in self.token_spans]

    @property
    def delta_bound(self) -> float | None:
        """The largest ``|delta|`` that counts as converged: ``tolerance * |f(x) - f(b)|`` plus a small floor."""
        if self.tolerance is None:
            return None
        return self.tolerance * abs((self.input_value or 0.0) - (self.baseline_value or 0.0)) + ABSOLUTE_TOLERANCE

    @property
    def erasure(self) -> Erasure | None:
        """The word erasure the baseline was (delete, pad, mask, unk; ``None`` for zero, custom ids or text, or no baseline)."""
        return Erasure.named(self.baseline)

    @property
    def predicted_probability(self) -> float | None:
        """The probability the model gives its predicted label (``None`` for a one-output model, which has none)."""
        return self.probabilities.get(self.predicted_label)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` inverts it exactly."""
        data = asdict(self)
        data["format_version"] = FORMAT_VERSION
        return data

    def to_json(self, **json_kwargs: Any) -> str:
        """Serialise to a JSON string (``json.dumps`` keyword arguments pass through)."""
        return json.dumps(self.to_dict(), **json_kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        """Rebuild an explanation from :meth:`to_dict` output."""
        data = dict(data)
        version = data.pop("format_version", FORMAT_VERSION)
        if version == 1:
            flat = {"input_value": data.pop("target_value", None), **{name: data.pop(name, None) for name in _V1_EVIDENCE}}
            data["evidence"] = flat
        elif version != FORMAT_VERSION:
            raise InvalidInputError(f"unsupported explanation format_version {version}; this limelight reads 1 and {FORMAT_VERSION}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"unknown explanation fields {unknown}; expected a subset of {sorted(known)}")
        for key in ("word_spans", "token_spans"):
            data[key] = [Span(**{**span, "token_indices": tuple(span.get("token_indices", ()))}) for span in data[key]]
        data["windows"] = [tuple(w) for w in data.get("windows", [])]
        data["marks"] = [tuple(m) for m in data.get("marks", [])]
        if data.get("read_window") is not None:
            data["read_window"] = tuple(data["read_window"])
        data["evidence"] = _evidence_from(data.get("evidence", {}))
        data["window_evidence"] = [_evidence_from(record) for record in data.get("window_evidence", [])]
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        """Rebuild an explanation from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    def _repr_html_(self) -> str | None:
        """Word heatmap for Jupyter (the renderer :mod:`limelight.viz` registers)."""
        return html(self)


def _evidence_from(record: dict[str, Any]) -> ExampleEvidence:
    """An :class:`Evidence` from its dict; unknown fields are an error."""
    extra = sorted(set(record) - {f.name for f in fields(Evidence)})
    if extra:
        raise InvalidInputError(f"unknown evidence fields {extra}; expected a subset of {sorted(f.name for f in fields(Evidence))}")
    return Evidence(**record)


_V1_EVIDENCE = ("baseline_value", "delta", "n_steps", "tolerance")
"""Format 1's flat evidence fields besides ``target_value`` (now ``input_value``)."""


def row_standard_errors(result: Attribution, row: int) -> Tensor | None:
    """The standard errors of one row's feature scores (its words), when the engine's result has them."""
    extras = result.extras
    errors = extras.standard_errors if isinstance(extras, PerturbationExtras) else None
    return None if errors is None else errors[row, : int(extras.n_features[row])].detach().to(torch.float64).cpu()  # type: ignore[union-attr]


def with_standard_errors(spans: list[Span], errors: Tensor | None) -> list[Span]:
    """Word spans carrying their scores' standard errors (one per word; spans unchanged without them)."""
    if errors is None or errors.shape[0] != len(spans):
        return spans
    return [replace(span, standard_error=float(error)) for span, error in zip(spans, errors.tolist())]


class Explanations(list[Explanation]):
    """A list of :class:`Explanation` that also converts to JSON and to a pandas DataFrame."""

    def __init__(self, items: Iterable[Explanation] = ()) -> None:
        super().__init__(items)

    def to_json(self, **json_kwargs: Any) -> str:
        """Serialise all explanations to one JSON array."""
        return json.dumps([e.to_dict() for e in self], **json_kwargs)

    @classmethod
    def from_json(cls, text: str) -> Explanations:
        """Rebuild a collection from :meth:`to_json` output."""
        return cls(Explanation.from_dict(d) for d in json.loads(text))

    def _repr_html_(self) -> str | None:
        """All explanations on one shared colour scale, for Jupyter; plain repr when empty."""
        return html(self) if self else None

    def to_dataframe(self, level: str = "word") -> Any:
        """One row per word (or token, with ``level="token"``) of every explanation.

        Columns: ``example``, ``text``, ``position``, ``word``/``token``, ``start``, ``end``,
        ``segment``, ``score``, ``predicted_label``, ``target_label``, ``quantity``, ``method``,
        ``delta``. Requires pandas (``pip install limelight[pandas]``).
        """
        if level not in ("word", "token"):
            raise InvalidInputError(f"level must be 'word' or 'token', got {level!r}")
        pd = pandas()
        rows = []
        for index, exp in enumerate(self):
            spans: Sequence[Span] = exp.word_spans if level == "word" else exp.token_spans
            for position, span in enumerate(spans):
                rows.append(
                    {
                        "example": index,
                        "text": exp.text,
                        "position": position,
                        level: span.text,
                        "start": span.start,
                        "end": span.end,
                        "segment": span.segment,
                        "score": span.score,
                        "predicted_label": exp.predicted_label,
                        "target_label": exp.target_label,
                        "quantity": exp.quantity,
                        "method": exp.method,
                        "delta": exp.delta,
                        "standard_error": span.standard_error,
                    }
                )
        return pd.DataFrame(rows)
