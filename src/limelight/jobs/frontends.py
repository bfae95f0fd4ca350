"""What a dataset job does differently per front end: read an input, call the explainer, make a row.

A :class:`FrontEnd` knows, for one kind of explainer, how an input value read from a source becomes
what is shown and explained (:meth:`FrontEnd.check`), how a chunk of items is explained in one call
(per-row targets and text pairs included), which columns a row has and how an explanation fills
them (:meth:`FrontEnd.row`), and how an explanation sent as JSON (by a Ray actor) is rebuilt.
:func:`front_end` picks it from the explainer: :class:`ImageFrontEnd` for an
:class:`~limelight.vision.explainer.ImageExplainer`, :class:`GenerationFrontEnd` for a
:class:`~limelight.generation.explainer.GenerationExplainer`, :class:`TextFrontEnd` for anything
else that satisfies :class:`~limelight.jobs.protocol.Explainer`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from limelight.errors import MissingDependencyError
from limelight.generation.explainer import GenerationExplainer
from limelight.generation.explanation import GenerationExplanation
from limelight.jobs.sources import Checked, Item, checked_text, text_input
from limelight.text.explanation import Explanation
from limelight.vision.explainer import ImageExplainer
from limelight.vision.explanation import ImageExplanation
from limelight.viz.image import overlay

THUMBNAIL = 96
"""The longest side, in pixels, of the overlay thumbnail an image row keeps (a PNG of a few kB)."""


class FrontEnd:
    """The text front end's behaviour, and the interface the others override."""

    name = "text"
    input_column = "text"
    """The column that shows each row's input (a text, an image's path, a prompt)."""

    def check(self, value: Any) -> Checked:
        """What is shown and explained for one input value, and why it cannot be explained (or ``None``)."""
        return text_input(value)

    def labels(self, explainer: Any) -> Sequence[str]:
        """The model's label names in index order (to name integer labels and targets), or none."""
        labels = getattr(explainer, "labels", ())
        return list(labels) if isinstance(labels, Sequence) else []

    def settings(self, explainer: Any) -> dict[str, Any]:
        """What decides the rows beyond :func:`~limelight.jobs.records.job_settings` (JSON values)."""
        return {}

    def explain(self, explainer: Any, items: Sequence[Item], explain_kwargs: dict[str, Any]) -> Sequence[Any]:
        """One explanation per item, in order, from one explainer call."""
        pairs = [item.pair for item in items]
        return list(
            explainer.explain([item.text for item in items], None if pairs[0] is None else pairs, **_targets(items, explain_kwargs))
        )

    def fields(self, pa: Any) -> list[tuple[str, Any]]:
        """The columns of a row after ``id`` (name and Arrow type), in order."""
        return [
            ("text", pa.string()), ("pair", pa.string()), ("label", pa.string()), ("prediction", pa.string()),
            ("probability", pa.float64()), ("probabilities", pa.string()), ("target", pa.string()), ("contrast", pa.string()),
            ("correct", pa.bool_()), ("words", pa.list_(pa.string())), ("scores", pa.list_(pa.float64())), ("delta", pa.float64()),
            ("steps", pa.int64()), ("converged", pa.bool_()), ("windowed", pa.bool_()), ("method", pa.string()),
            ("error", pa.string()), ("sha256", pa.string()), ("explanation", pa.string()),
        ]  # fmt: skip

    def row(self, item: Item, e: Any, error: str | None) -> dict[str, Any]:
        """The row of ``item``: its explanation ``e``, or ``error`` saying why it has none (the columns of :meth:`fields`)."""
        base = self._base(item, error)
        base["pair"] = item.pair
        if e is None:
            return base
        return {
            **base,
            **_prediction(item, e),
            "words": [w for w, _ in e.words],
            "scores": [s for _, s in e.words],
            "delta": e.delta,
            "steps": e.n_steps,
            "converged": e.converged,
            "windowed": e.is_windowed,
            "method": e.method,
            "explanation": e.to_json(),
        }

    def decode(self, text: str) -> Any:
        """An explanation rebuilt from its exact JSON."""
        return Explanation.from_json(text)

    def _base(self, item: Item, error: str | None) -> dict[str, Any]:
        return {"id": item.id, self.input_column: item.text, "label": item.label, "error": error, "sha256": item.digest}


TextFrontEnd = FrontEnd


class ImageFrontEnd(FrontEnd):
    """Image classifiers: inputs are image files (paths) or arrays; a row keeps the score map, not the image."""

    name = "image"
    input_column = "image"

    def check(self, value: Any) -> Checked:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "", None, "no image (a missing value)", None
        if isinstance(value, (str, os.PathLike)):
            path = os.fspath(value)
            if not path.strip():
                return path, None, "no image (an empty path)", None
            if not os.path.isfile(path):
                return path, None, f"no image file at {path!r}", None
            return path, path, None, f"{os.path.getsize(path)} bytes"
        if type(value).__module__.startswith("PIL."):
            value = np.asarray(value)
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            shown = f"array {'x'.join(map(str, array.shape))} {array.dtype}"
            return shown, array, None, hashlib.sha256(array.tobytes()).hexdigest()
        return str(value)[:200], None, f"not an image (a {type(value).__name__}); give a path, an array or a PIL image", None

    def labels(self, explainer: Any) -> Sequence[str]:
        classes = _classes(explainer.model)
        return [] if classes is None else explainer.labels(classes)

    def settings(self, explainer: Any) -> dict[str, Any]:
        features = explainer.features
        return {
            "front_end": self.name,
            "preprocess": repr(explainer.preprocess)
            if hasattr(explainer.preprocess, "__dataclass_fields__")
            else _callable(explainer.preprocess),
            "features": "pixels" if features is None else features.describe(),
            "layer": None if explainer.layer is None else type(explainer.layer).__name__,
        }

    def explain(self, explainer: Any, items: Sequence[Item], explain_kwargs: dict[str, Any]) -> Sequence[Any]:
        return list(explainer.explain([item.value for item in items], **_targets(items, explain_kwargs)))

    def fields(self, pa: Any) -> list[tuple[str, Any]]:
        return [
            ("image", pa.string()), ("label", pa.string()), ("prediction", pa.string()), ("probability", pa.float64()),
            ("probabilities", pa.string()), ("target", pa.string()), ("contrast", pa.string()), ("correct", pa.bool_()),
            ("scores", pa.list_(pa.list_(pa.float32()))), ("segment_scores", pa.list_(pa.float64())),
            ("image_size", pa.list_(pa.int64())), ("delta", pa.float64()), ("steps", pa.int64()), ("converged", pa.bool_()),
            ("method", pa.string()), ("settings", pa.string()), ("thumbnail", pa.binary()), ("error", pa.string()),
            ("sha256", pa.string()),
        ]  # fmt: skip

    def row(self, item: Item, e: Any, error: str | None) -> dict[str, Any]:
        base = self._base(item, error)
        if e is None:
            return base
        settings = {
            "quantity": e.quantity,
            "baseline": e.baseline,
            "features": e.features,
            "pooling": e.pooling,
            "image_mapping": e.image_mapping,
            "method_settings": e.method_settings,
        }
        return {
            **base,
            **_prediction(item, e),
            "scores": e.scores.detach().float().numpy().tolist(),
            "segment_scores": e.segment_scores,
            "image_size": list(e.image.shape[1:]),
            "delta": e.delta,
            "steps": e.n_steps,
            "converged": e.converged,
            "method": e.method,
            "settings": json.dumps(settings, sort_keys=True, default=repr),
            "thumbnail": thumbnail(e),
        }

    def decode(self, text: str) -> Any:
        return ImageExplanation.from_json(text)


class GenerationFrontEnd(FrontEnd):
    """Causal LMs: inputs are prompts; the target column (if any) gives the continuation to explain."""

    name = "generation"
    input_column = "prompt"

    def check(self, value: Any) -> Checked:
        text, problem = checked_text(value, "prompt")
        return text, None, problem, None

    def labels(self, explainer: Any) -> Sequence[str]:
        return []

    def settings(self, explainer: Any) -> dict[str, Any]:
        return {
            "front_end": self.name,
            "method": explainer.method,
            "method_options": explainer.method_options,
            "features": explainer.features,
            "baseline": explainer.baseline,
            "erasure": explainer.erasure,
            "quantity": explainer.quantity.kind,
            "attribute_generated": getattr(explainer, "attribute_generated", False),
        }

    def explain(self, explainer: Any, items: Sequence[Item], explain_kwargs: dict[str, Any]) -> Sequence[Any]:
        return list(explainer.explain([item.text for item in items], **_targets(items, explain_kwargs)))

    def fields(self, pa: Any) -> list[tuple[str, Any]]:
        floats = pa.list_(pa.float64())
        return [
            ("prompt", pa.string()), ("label", pa.string()), ("target", pa.string()), ("generated", pa.list_(pa.string())),
            ("generated_text", pa.string()), ("features", pa.list_(pa.string())), ("feature_starts", pa.list_(pa.int64())),
            ("feature_ends", pa.list_(pa.int64())), ("matrix", pa.list_(floats)), ("sequence_scores", floats), ("values", floats),
            ("delta", floats), ("steps", pa.int64()), ("converged", pa.bool_()), ("method", pa.string()), ("quantity", pa.string()),
            ("settings", pa.string()), ("error", pa.string()), ("sha256", pa.string()), ("explanation", pa.string()),
        ]  # fmt: skip

    def row(self, item: Item, e: Any, error: str | None) -> dict[str, Any]:
        base = {**self._base(item, error), "target": None if item.target is None else str(item.target)}
        if e is None:
            return base
        delta, converged, steps = e.evidence.delta, e.evidence.converged, e.evidence.n_steps
        return {
            **base,
            "generated": list(e.generated),
            "generated_text": e.text,
            "features": [text for text, _ in e.features],
            "feature_starts": [span[0] for _, span in e.features],
            "feature_ends": [span[1] for _, span in e.features],
            "matrix": e.matrix.tolist(),
            "sequence_scores": e.sequence_scores.tolist(),
            "values": e.values.tolist(),
            "delta": None if delta is None else torch.as_tensor(delta).flatten().tolist(),
            "steps": None if steps is None else int(torch.as_tensor(steps).max()),
            "converged": None if converged is None else bool(torch.as_tensor(converged).all()),
            "method": e.method,
            "quantity": e.quantity,
            "settings": json.dumps(e.settings, sort_keys=True, default=repr),
            "explanation": e.to_json(),
        }

    def decode(self, text: str) -> Any:
        return GenerationExplanation.from_json(text)


FRONT_ENDS: dict[str, FrontEnd] = {f.name: f for f in (TextFrontEnd(), ImageFrontEnd(), GenerationFrontEnd())}
"""Every front end by its name (the name a job's manifest records)."""


def front_end(explainer: Any) -> FrontEnd:
    """The front end of ``explainer``: image, generation, or text (anything else with ``explain``)."""
    if isinstance(explainer, ImageExplainer):
        return FRONT_ENDS["image"]
    if isinstance(explainer, GenerationExplainer):
        return FRONT_ENDS["generation"]
    return FRONT_ENDS["text"]


def front_end_of(result: Any) -> FrontEnd:
    """The front end that made the explanation ``result``."""
    if isinstance(result, ImageExplanation):
        return FRONT_ENDS["image"]
    if isinstance(result, GenerationExplanation):
        return FRONT_ENDS["generation"]
    return FRONT_ENDS["text"]


def thumbnail(explanation: ImageExplanation, size: int = THUMBNAIL) -> bytes:
    """The blend overlay of ``explanation`` (its own colour scale) as a PNG at most ``size`` pixels on its longest side."""
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("image rows need Pillow for their thumbnail: pip install 'limelight[vision]'") from error
    picture = Image.fromarray(np.rint(overlay(explanation, "blend") * 255).astype(np.uint8))
    picture.thumbnail((size, size))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _targets(items: Sequence[Item], explain_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``explain_kwargs`` with each item's own target (a target column) as ``target=[...]`` when the items have one."""
    if all(item.target is None for item in items):
        return explain_kwargs
    return {**explain_kwargs, "target": [item.target for item in items]}


def _prediction(item: Item, e: Any) -> dict[str, Any]:
    """The prediction columns of a classifier's explanation (text or image)."""
    return {
        "prediction": e.predicted_label,
        "probability": e.predicted_probability,
        "probabilities": json.dumps(e.probabilities),
        "target": e.target_label,
        "contrast": e.contrast_label,
        "correct": None if item.label is None else item.label == e.predicted_label,
    }


def _classes(model: nn.Module) -> int | None:
    """The number of classes of an image model: ``config.num_labels``, else the last ``Linear`` layer's outputs."""
    labels = getattr(getattr(model, "config", None), "num_labels", None)
    if isinstance(labels, int):
        return labels
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linear[-1].out_features if linear else None


def _callable(function: Any) -> str:
    """A stable name for a preprocessing callable (its module and qualified name; never its address)."""
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', type(function).__name__)}"
