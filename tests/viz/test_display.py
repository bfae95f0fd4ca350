"""The view registry: results find their views without importing them."""

from __future__ import annotations

import pytest

from limelight import _display
from limelight.errors import LimelightError, MissingViewError
from limelight.text.explanation import Explanations
from limelight.viz import render_html


class Shape:
    """A stand-in result type."""


class Square(Shape):
    """A subclass with no views of its own."""


class Circle(Shape):
    """A subclass with its own views."""


def test_the_nearest_registered_type_draws_and_unregistered_types_get_the_plain_repr():
    assert _display.html(Shape()) is None
    _display.register_html(Shape, lambda value: f"<b>{type(value).__name__}</b>")
    _display.register_html(Circle, lambda value: "<i>circle</i>")
    assert (_display.html(Shape()), _display.html(Square()), _display.html(Circle())) == ("<b>Shape</b>", "<b>Square</b>", "<i>circle</i>")
    assert _display.html(object()) is None


def test_named_views_take_options_and_a_missing_one_is_a_limelight_error():
    _display.register_view(Square, "summary", lambda value, width=1: "#" * width)
    assert _display.render(Square(), "summary", width=3) == "###"
    with pytest.raises(MissingViewError, match="no 'summary' view of Circle") as raised:
        _display.render(Circle(), "summary")
    assert isinstance(raised.value, LimelightError) and isinstance(raised.value, LookupError)


def test_importing_limelight_registers_the_explanation_views(minimal_pair):
    assert _display.html(minimal_pair[0]) == render_html(minimal_pair[0])
    assert _display.html(Explanations(minimal_pair)) == render_html(minimal_pair)
