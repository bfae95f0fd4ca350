"""The one validation module: every check names the argument, says what it must be, echoes what it got."""

from __future__ import annotations

import pytest
import torch

from limelight.engine.validation import (
    check_choice,
    check_count,
    check_flag,
    check_optional_count,
    check_positive,
    check_probability,
    check_tolerance,
    resolve_seed,
    seeded_generator,
)
from limelight.errors import InvalidInputError


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3", None])
def test_counts_are_ints_of_at_least_the_minimum(value):
    with pytest.raises(InvalidInputError, match=rf"n_samples must be a positive int, got {value!r}"):
        check_count("n_samples", value)


def test_counts_pass_through_and_minimums_are_named():
    assert check_count("n", 3) == 3 and check_optional_count("n", None) is None and check_optional_count("n", 2) == 2
    with pytest.raises(InvalidInputError, match="min_steps must be an int >= 2, got 1"):
        check_count("min_steps", 1, minimum=2)


def test_numbers_probabilities_choices_and_flags():
    assert check_positive("width", 2) == 2.0 and check_positive("alpha", 0, allow_zero=True) == 0.0
    assert check_probability("p", 1) == 1.0 and check_choice("kind", "a", ("a", "b")) == "a"
    assert check_flag("show_progress", None) is None and check_flag("show_progress", False) is False
    assert check_tolerance(None) is None and check_tolerance(0.1) == 0.1
    for check, value, message in [
        (lambda v: check_positive("width", v), 0, "width must be a positive number"),
        (lambda v: check_positive("alpha", v, allow_zero=True), -1, "alpha must be a non-negative number"),
        (lambda v: check_positive("width", v), True, "width"),
        (lambda v: check_probability("p", v), 1.5, "p must be a number between 0 and 1"),
        (lambda v: check_choice("kind", v, ("a", "b")), "c", r"kind must be one of \('a', 'b'\), got 'c'"),
        (lambda v: check_flag("show_progress", v), "yes", "show_progress must be True, False or None"),
        (lambda v: check_tolerance(v), 0, "tolerance must be a positive number"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            check(value)


def test_seeds_are_drawn_from_torchs_generator_when_not_given():
    torch.manual_seed(1)
    first = resolve_seed(None)
    torch.manual_seed(1)
    assert resolve_seed(None) == first and resolve_seed(7) == 7
    assert torch.equal(torch.rand(3, generator=seeded_generator(7)), torch.rand(3, generator=torch.Generator().manual_seed(7)))
    with pytest.raises(InvalidInputError, match="seed must be an int or None"):
        resolve_seed(1.0)
