"""The vision result type: one image's attributions, in the input space and on the original image.

An :class:`ImageExplanation` holds the original ``image`` ``(C, H, W)`` in ``[0, 1]``, the
``input`` the model saw ``(C', H', W')`` and that input as an image (``input_image``), the
``attributions`` in input space, their channel-pooled ``scores`` ``(H', W')``, the ``image_scores``
mapped back onto the original image ``(H, W)``, and, when features were segments, the
``segments`` ``(H', W')`` with one score per segment. It also records the prediction, the
largest probabilities, the target, the method and its settings, the baseline and the
:class:`~limelight.engine.evidence.Evidence` of the computation (delta, steps). JSON keeps
arrays compact (base64 of their bytes) and round-trips exactly.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .._display import html
from .._optional import pandas
from ..engine.convergence import ABSOLUTE_TOLERANCE
from ..engine.evidence import Evidence, ExampleEvidence
from ..errors import InvalidInputError

FORMAT_VERSION = 1
_ARRAYS = ("image", "input", "input_image", "attributions", "scores", "image_scores", "segments")


@dataclass(frozen=True)
class ImageExplanation:
    """One image explained; see the module's description of the fields."""

    image: Tensor
    input: Tensor
    input_image: Tensor
    attributions: Tensor
    scores: Tensor
    image_scores: Tensor
    predicted_label: str
    probabilities: dict[str, float]
    target_label: str
    quantity: str
    method: str
    contrast_label: str | None = None
    method_settings: dict[str, Any] = field(default_factory=dict)
    baseline: str = "none"
    features: str = "pixels"
    pooling: str = "sum"
    image_mapping: str = "jacobian"
    segments: Tensor | None = None
    segment_scores: list[float] | None = None
    name: str = "image"
    evidence: ExampleEvidence = field(default_factory=Evidence)

    @property
    def delta(self) -> float | None:
        """Completeness error: sum of attributions minus ``f(input) - f(baseline)`` (additive methods)."""
        return self.evidence.delta

    @property
    def n_steps(self) -> int | None:
        """Path points the integral used (integrated-gradients family)."""
        return self.evidence.n_steps

    @property
    def tolerance(self) -> float | None:
        """The relative completeness tolerance aimed for."""
        return self.evidence.tolerance

    @property
    def delta_bound(self) -> float | None:
        """The largest ``|delta|`` that counts as converged."""
        if self.tolerance is None:
            return None
        return self.tolerance * abs((self.evidence.input_value or 0.0) - (self.evidence.baseline_value or 0.0)) + ABSOLUTE_TOLERANCE

    @property
    def converged(self) -> bool | None:
        """Whether ``|delta|`` is within :attr:`delta_bound`; ``None`` without a delta or tolerance."""
        if self.delta is None or self.delta_bound is None:
            return None
        return abs(self.delta) <= self.delta_bound

    @property
    def predicted_probability(self) -> float:
        """The probability of the predicted label."""
        return self.probabilities[self.predicted_label]

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The arrays as numpy: images channels-last ``(H, W, C)``, scores ``(H, W)``, attributions ``(C, H', W')``."""
        arrays = {name: getattr(self, name) for name in _ARRAYS if getattr(self, name) is not None}
        out = {name: value.numpy() for name, value in arrays.items()}
        for name in ("image", "input_image"):
            out[name] = np.ascontiguousarray(out[name].transpose(1, 2, 0))
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (arrays as base64 of their bytes); :meth:`from_dict` inverts it exactly."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _ARRAYS:
            data[name] = None if data[name] is None else _encode(data[name])
        data["evidence"] = {f.name: getattr(self.evidence, f.name) for f in fields(Evidence)}
        data["format_version"] = FORMAT_VERSION
        return data

    def to_json(self, **json_kwargs: Any) -> str:
        """Serialise to a JSON string (``json.dumps`` keyword arguments pass through)."""
        return json.dumps(self.to_dict(), **json_kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageExplanation:
        """Rebuild an explanation from :meth:`to_dict` output."""
        data = dict(data)
        version = data.pop("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise InvalidInputError(f"unsupported image explanation format_version {version}; this limelight reads {FORMAT_VERSION}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"unknown image explanation fields {unknown}; expected a subset of {sorted(known)}")
        for name in _ARRAYS:
            if data.get(name) is not None:
                data[name] = _decode(data[name])
        data["evidence"] = Evidence(**data.get("evidence", {}))
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> ImageExplanation:
        """Rebuild an explanation from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    def summary(self) -> dict[str, Any]:
        """One flat row of facts (for tables): name, prediction, target, method, delta, ..."""
        return {
            "name": self.name,
            "predicted_label": self.predicted_label,
            "predicted_probability": self.predicted_probability,
            "target_label": self.target_label,
            "contrast_label": self.contrast_label,
            "quantity": self.quantity,
            "method": self.method,
            "baseline": self.baseline,
            "features": self.features,
            "total_score": float(self.scores.sum()),
            "delta": self.delta,
            "n_steps": self.n_steps,
        }

    def _repr_html_(self) -> str | None:
        """Overlays for Jupyter (the renderer :mod:`limelight.viz` registers)."""
        return html(self)


def _encode(tensor: Tensor) -> dict[str, Any]:
    array = tensor.detach().cpu().contiguous().numpy()
    return {"dtype": str(array.dtype), "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode("ascii")}


def _decode(data: dict[str, Any]) -> Tensor:
    array = np.frombuffer(base64.b64decode(data["data"]), dtype=np.dtype(data["dtype"])).reshape(data["shape"])
    return torch.from_numpy(array.copy())


class ImageExplanations(list[ImageExplanation]):
    """A list of :class:`ImageExplanation` that also converts to JSON and to a pandas DataFrame."""

    def __init__(self, items: Iterable[ImageExplanation] = ()) -> None:
        super().__init__(items)

    def to_json(self, **json_kwargs: Any) -> str:
        """Serialise all explanations to one JSON array."""
        return json.dumps([e.to_dict() for e in self], **json_kwargs)

    @classmethod
    def from_json(cls, text: str) -> ImageExplanations:
        """Rebuild a collection from :meth:`to_json` output."""
        return cls(ImageExplanation.from_dict(d) for d in json.loads(text))

    def to_dataframe(self, level: str = "image") -> Any:
        """One row per image (:meth:`ImageExplanation.summary`), or per segment with ``level="segment"``.

        Segment rows add ``segment``, ``pixels`` and ``score``. Requires pandas (``limelight[pandas]``).
        """
        if level not in ("image", "segment"):
            raise InvalidInputError(f"level must be 'image' or 'segment', got {level!r}")
        pd = pandas()
        rows = []
        for index, explanation in enumerate(self):
            facts = {"example": index, **explanation.summary()}
            if level == "image":
                rows.append(facts)
                continue
            if explanation.segments is None or explanation.segment_scores is None:
                raise InvalidInputError(
                    f"image {index} ({explanation.name}) has no segments; explain with features='slic', 'patches' or a mask"
                )
            sizes = torch.bincount(explanation.segments.flatten(), minlength=len(explanation.segment_scores)).tolist()
            rows.extend({**facts, "segment": s, "pixels": sizes[s], "score": score} for s, score in enumerate(explanation.segment_scores))
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str | None:
        """All images on one shared colour scale, for Jupyter; plain repr when empty."""
        return html(self) if self else None
