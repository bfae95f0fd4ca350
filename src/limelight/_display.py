"""Views of result types without results importing views.

A view package registers, when it is imported, the functions that draw each result type:
:func:`register_html` for Jupyter's HTML (``limelight.viz`` does, and ``import limelight`` imports
it), :func:`register_view` for other named views (a comparison's Markdown, its DataFrame). A result
type's ``_repr_html_`` returns :func:`html` of itself, and its other methods call :func:`render`.
So imports point from views to results, never back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from limelight.errors import MissingViewError

View = Callable[..., Any]

_VIEWS: dict[tuple[type, str], View] = {}


def register_view(kind: type, name: str, view: View) -> None:
    """Make ``view(value, **options)`` the ``name`` view of values of ``kind`` (and of subclasses without their own)."""
    _VIEWS[(kind, name)] = view


def register_html(kind: type, renderer: Callable[[Any], str]) -> None:
    """Draw values of ``kind`` in Jupyter with ``renderer`` (the ``"html"`` view)."""
    register_view(kind, "html", renderer)


def _find(value: object, name: str) -> View | None:
    """The ``name`` view of the nearest type in ``value``'s MRO that has one."""
    for kind in type(value).__mro__:
        view = _VIEWS.get((kind, name))
        if view is not None:
            return view
    return None


def html(value: object) -> str | None:
    """Jupyter HTML for ``value``; ``None`` (Jupyter shows the plain repr) when no view package drew its type."""
    view = _find(value, "html")
    return None if view is None else str(view(value))


def render(value: object, name: str, **options: Any) -> Any:
    """The ``name`` view of ``value`` called with ``options``; :class:`MissingViewError` when none is registered."""
    view = _find(value, name)
    if view is None:
        raise MissingViewError(f"no {name!r} view of {type(value).__name__} is registered; import the package that draws it")
    return view(value, **options)
