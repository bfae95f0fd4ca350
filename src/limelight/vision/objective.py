"""An image classifier's class names, choosing the explained class by index or name, and the
objective an image explanation explained (the objective itself is the engine's).

An unknown name is an error that lists the closest names first (:func:`resolve_label`), which
matters with ImageNet's thousand classes.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from ..engine.objective import Objective, check_quantity
from ..errors import InvalidInputError, TargetError
from .explanation import ImageExplanation

LabelSpec = int | str | None
_SHOWN = 20


def class_names(model: Any, n_classes: int, labels: Sequence[str] | None = None) -> list[str]:
    """The class names for a model with ``n_classes`` outputs: ``labels``, else the model's ``config.id2label``, else ``class_<i>``."""
    if labels is not None:
        if len(labels) != n_classes:
            raise InvalidInputError(f"labels has {len(labels)} names but the model has {n_classes} classes")
        return list(labels)
    id2label = getattr(getattr(model, "config", None), "id2label", None) or {}
    return [str(id2label.get(i, id2label.get(str(i), f"class_{i}"))) for i in range(n_classes)]


def objective_of(explanation: ImageExplanation, names: Sequence[str], quantity: str | None = None) -> Objective:
    """The objective an image explanation explained; ``quantity`` overrides its quantity."""
    contrast = None if explanation.contrast_label is None else resolve_label(explanation.contrast_label, names, "contrast")
    return Objective(resolve_label(explanation.target_label, names), check_quantity(quantity or explanation.quantity), contrast)


def resolve_label(spec: LabelSpec, names: Sequence[str], role: str = "target") -> int:
    """The class index of a label name or index; the error lists valid labels, closest names first."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        if 0 <= spec < len(names):
            return spec
        raise TargetError(f"{role} index {spec} is out of range: the model has {len(names)} classes, 0..{len(names) - 1}")
    if isinstance(spec, str):
        if spec in names:
            return list(names).index(spec)
        folded = [n.casefold() for n in names]
        if folded.count(spec.casefold()) == 1:
            return folded.index(spec.casefold())
        raise TargetError(f"unknown {role} label {spec!r}; {_listing(spec, names)}")
    raise TargetError(f"{role} must be a label name or a class index, got {spec!r}")


def _listing(spec: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(spec, names, n=5, cutoff=0.5)
    close += [n for n in names if spec.casefold() in n.casefold() and n not in close][: 5 - len(close)]
    rest = [n for n in names if n not in close]
    shown = close + rest[: max(0, _SHOWN - len(close))]
    more = f", ... ({len(names)} labels in all)" if len(shown) < len(names) else ""
    lead = "closest first: " if close else ""
    return f"valid labels ({lead}index: name): " + ", ".join(f"{names.index(n)}: {n!r}" for n in shown) + more
