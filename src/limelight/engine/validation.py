"""The argument checks of the public API, written once: every bad value raises an ``InvalidInputError``.

Each check names the argument, says what it must be and echoes what it got, so a message reads
the same whichever method (or front end) it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeGuard, TypeVar

import torch

from ..errors import InvalidInputError

Choice = TypeVar("Choice")

SEED_RANGE = 2**62
"""Seeds drawn for ``seed=None`` lie in ``[0, SEED_RANGE)``."""


def is_int(value: object) -> TypeGuard[int]:
    """A Python int that is not a bool (``True`` is an int to Python, not a count to a user)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """A Python int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """A count (samples, steps, rows, ...): an int of at least ``minimum``."""
    if not is_int(value) or value < minimum:
        wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise InvalidInputError(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def check_optional_count(name: str, value: Any, minimum: int = 1) -> int | None:
    """:func:`check_count`, or ``None`` (meaning: let the method choose)."""
    return None if value is None else check_count(name, value, minimum)


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """A positive (or, with ``allow_zero``, non-negative) number, as a float."""
    if not is_number(value) or not (value >= 0 if allow_zero else value > 0):
        raise InvalidInputError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")
    return float(value)


def check_probability(name: str, value: Any) -> float:
    """A number in ``[0, 1]``, as a float."""
    if not is_number(value) or not 0 <= value <= 1:
        raise InvalidInputError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


def check_choice(name: str, value: Choice, choices: Sequence[Choice]) -> Choice:
    """One of ``choices``."""
    if value not in choices:
        raise InvalidInputError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_flag(name: str, value: Any) -> bool | None:
    """``True``, ``False`` or ``None`` (automatic), e.g. ``show_progress``."""
    if value not in (None, True, False):
        raise InvalidInputError(f"{name} must be True, False or None (automatic), got {value!r}")
    return None if value is None else bool(value)


def check_tolerance(tolerance: Any) -> float | None:
    """A relative completeness tolerance: a positive number, or ``None`` for no check."""
    if tolerance is not None and (not is_number(tolerance) or not tolerance > 0):
        raise InvalidInputError(f"tolerance must be a positive number (relative to |f(input) - f(baseline)|) or None, got {tolerance!r}")
    return tolerance


def resolve_seed(seed: Any) -> int:
    """A sampled method's seed; ``None`` draws one from torch's global RNG (so ``torch.manual_seed`` works too).

    Sampled methods record the seed they used in their result's settings, so any run can be repeated.
    """
    if seed is None:
        return int(torch.randint(0, SEED_RANGE, (1,)))
    if not is_int(seed):
        raise InvalidInputError(f"seed must be an int or None, got {seed!r}")
    return int(seed)


def seeded_generator(seed: int | None) -> torch.Generator:
    """A CPU generator seeded with a (resolved) seed; ``None`` draws one as :func:`resolve_seed` does."""
    return torch.Generator().manual_seed(resolve_seed(seed))
