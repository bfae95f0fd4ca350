"""The result of explaining a generation: which prompt features produced each generated token.

A :class:`GenerationExplanation` holds the prompt text, its features (``(text, (start, end))``
spans of the prompt), the generated tokens, the matrix ``(n_generated, n_features)`` of scores,
the explained value of each generated token, and per generated token the method's
:class:`~limelight.engine.evidence.Evidence` (for integrated gradients the completeness
``delta``: row sum minus ``f_t(prompt) - f_t(baseline)``). The sequence scores are the column
sums: for log-probabilities, the attribution of the whole continuation's log-probability.
With ``attribute_generated=True`` the earlier generated tokens are features too:
``generated_matrix[t, u]`` scores generated token ``u < t`` for token ``t`` (zero on and above the
diagonal), and each row of ``matrix`` plus its row of ``generated_matrix`` adds up to the change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

import torch
from torch import Tensor

from limelight._display import html, render
from limelight._optional import pandas
from limelight.engine.evidence import BatchEvidence, Evidence
from limelight.errors import InvalidInputError

FORMAT_VERSION = 1
Feature = tuple[str, tuple[int, int]]


@dataclass(frozen=True)
class GenerationExplanation:
    """Prompt features x generated tokens (see the module docstring).

    ``generated_ids`` are the explained target token ids; ``contrast`` the alternative string
    when the quantity is a contrast; ``roles`` the chat roles when the prompt was chat messages;
    ``settings`` the options the method ran with (seed, steps, baseline, erasure);
    ``generated_matrix`` ``(n_generated, n_generated)`` the scores of earlier generated tokens, when asked for.
    """

    prompt: str
    features: list[Feature]
    generated: list[str]
    generated_ids: list[int]
    matrix: Tensor
    values: Tensor
    evidence: BatchEvidence
    method: str
    quantity: str = "log_probability"
    contrast: str | None = None
    features_kind: str = "words"
    roles: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    generated_matrix: Tensor | None = None

    @property
    def sequence_scores(self) -> Tensor:
        """``(n_features,)``: each feature's score for the whole continuation (the sum of the rows)."""
        return self.matrix.sum(0)

    @property
    def delta(self) -> Tensor | None:
        """Per generated token, the completeness delta where the method defines one (IG, Shapley values), else ``None``."""
        return self.evidence.delta

    @property
    def text(self) -> str:
        """The explained continuation as text (the generated tokens joined)."""
        return "".join(self.generated)

    def top_features(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` features with the largest sequence scores, ``(text, score)``."""
        order = torch.argsort(self.sequence_scores, descending=True)[:k]
        return [(self.features[int(i)][0], float(self.sequence_scores[i])) for i in order]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` inverts it (float64 scores survive exactly)."""
        evidence = {f.name: _plain(getattr(self.evidence, f.name)) for f in fields(Evidence)}
        return {
            "format_version": FORMAT_VERSION,
            "prompt": self.prompt,
            "features": [[text, list(span)] for text, span in self.features],
            "generated": list(self.generated),
            "generated_ids": list(self.generated_ids),
            "matrix": self.matrix.tolist(),
            "values": self.values.tolist(),
            "evidence": evidence,
            "method": self.method,
            "quantity": self.quantity,
            "contrast": self.contrast,
            "features_kind": self.features_kind,
            "roles": list(self.roles),
            "settings": dict(self.settings),
            "generated_matrix": None if self.generated_matrix is None else self.generated_matrix.tolist(),
        }

    def to_json(self, **json_kwargs: Any) -> str:
        """Serialise to a JSON string (``json.dumps`` keyword arguments pass through)."""
        return json.dumps(self.to_dict(), **json_kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationExplanation:
        """Rebuild an explanation from :meth:`to_dict` output."""
        data = dict(data)
        version = data.pop("format_version", None)
        if version != FORMAT_VERSION:
            raise InvalidInputError(f"unsupported generation explanation format_version {version!r}; this limelight reads {FORMAT_VERSION}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"unknown generation explanation fields {unknown}; expected a subset of {sorted(known)}")
        record = data.pop("evidence", {})
        extra = sorted(set(record) - {f.name for f in fields(Evidence)})
        if extra:
            raise InvalidInputError(f"unknown evidence fields {extra}")
        kinds = {"n_steps": torch.long, "converged": torch.bool}
        evidence: BatchEvidence = Evidence(
            **{
                name: (value if name == "tolerance" or value is None else torch.tensor(value, dtype=kinds.get(name, torch.float64)))
                for name, value in record.items()
            }  # type: ignore[arg-type]
        )
        features = [(text, (int(span[0]), int(span[1]))) for text, span in data.pop("features")]
        matrix = torch.tensor(data.pop("matrix"), dtype=torch.float64).reshape(len(data["generated"]), len(features))
        values = torch.tensor(data.pop("values"), dtype=torch.float64)
        generated = data.pop("generated_matrix", None)
        generated_matrix = None if generated is None else torch.tensor(generated, dtype=torch.float64).reshape(len(values), len(values))
        return cls(features=features, matrix=matrix, values=values, evidence=evidence, generated_matrix=generated_matrix, **data)

    @classmethod
    def from_json(cls, text: str) -> GenerationExplanation:
        """Rebuild an explanation from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    def to_dataframe(self) -> Any:
        """One row per (generated token, feature): ``step``, ``generated``, ``feature``, ``feature_text``, ``start``, ``end``, ``score``, ``value``, ``delta``, ``method``, ``quantity``.

        Requires pandas (``pip install limelight[pandas]``).
        """
        pd = pandas()
        delta = self.delta
        rows = [
            {
                "step": step,
                "generated": token,
                "feature": index,
                "feature_text": text,
                "start": span[0],
                "end": span[1],
                "score": float(self.matrix[step, index]),
                "value": float(self.values[step]),
                "delta": None if delta is None else float(delta[step]),
                "method": self.method,
                "quantity": self.quantity,
            }
            for step, token in enumerate(self.generated)
            for index, (text, span) in enumerate(self.features)
        ]
        return pd.DataFrame(rows)

    def to_html(self, **options: Any) -> str:
        """The interactive matrix view (self-contained HTML; :mod:`limelight.viz` draws it)."""
        return str(render(self, "html", **options))

    def _repr_html_(self) -> str | None:
        """The interactive matrix view for Jupyter (the renderer :mod:`limelight.viz` registers)."""
        return html(self)


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, Tensor) else value
