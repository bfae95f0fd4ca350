"""Optional dependencies, imported where first needed, with one clear error naming the extra to install."""

from __future__ import annotations

from types import ModuleType

from limelight.errors import MissingDependencyError


def pandas(purpose: str = "to_dataframe") -> ModuleType:
    """The ``pandas`` module; a :class:`MissingDependencyError` saying what needs it when it is not installed."""
    try:
        import pandas as module
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(f"{purpose} needs pandas: pip install 'limelight[pandas]'") from error
    return module
