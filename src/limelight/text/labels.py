"""Label names from a Hugging Face config, and choosing the explained class by name or index."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInputError, TargetError

LabelSpec = int | str | None


def label_names(config: Any, n_classes: int) -> list[str]:
    """``config.id2label`` in index order, or ``LABEL_i`` where a config names none."""
    id2label = getattr(config, "id2label", None) or {}
    return [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(n_classes)]


def model_labels(model: Any) -> list[str]:
    """The label names of a Hugging Face-style classifier (``config.num_labels``), in class-index order."""
    config = getattr(model, "config", None)
    count = getattr(config, "num_labels", None)
    if not isinstance(count, int) or count < 1:
        raise InvalidInputError("the model needs a config with num_labels (and ideally id2label), like a Hugging Face classifier")
    return label_names(config, count)


def resolve_label(spec: LabelSpec, names: list[str], role: str = "target") -> int:
    """The class index for a label name or index; errors list the valid labels."""
    if isinstance(spec, bool):
        raise TargetError(f"{role} must be a label name or index, got {spec!r}")
    if isinstance(spec, int):
        if 0 <= spec < len(names):
            return spec
        raise TargetError(f"{role} index {spec} is out of range: valid indices are 0..{len(names) - 1} ({_listing(names)})")
    if isinstance(spec, str):
        if spec in names:
            return names.index(spec)
        folded = [n.lower() for n in names]
        if spec.lower() in folded and folded.count(spec.lower()) == 1:
            return folded.index(spec.lower())
        raise TargetError(f"unknown {role} label {spec!r}; the model's labels are {_listing(names)}")
    raise TargetError(f"{role} must be a label name or index, got {type(spec).__name__}")


def _listing(names: list[str]) -> str:
    return ", ".join(f"{i}: {name!r}" for i, name in enumerate(names))
