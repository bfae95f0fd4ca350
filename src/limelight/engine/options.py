"""Options: what every method's ``attribute`` takes (one typed set), and the base of each method's own.

Every ``attribute`` signature ends in ``**common: Unpack[CommonKwargs]``; :func:`common_options`
validates those keyword arguments once into a frozen :class:`CommonOptions`. A method's own
options (``n_steps``, ``n_samples``, ``seed``, ...) are a frozen dataclass subclassing
:class:`MethodOptions` that validates itself when built; the options a call used are recorded
in its result's ``settings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from typing_extensions import Self, TypedDict

from ..errors import InvalidInputError
from .chunking import DEFAULT_MEMORY_BUDGET, parse_bytes
from .validation import check_flag, check_optional_count, resolve_seed


class CommonKwargs(TypedDict, total=False):
    """Keyword arguments every method's ``attribute`` takes.

    - ``additional_forward_args``: extra positional arguments for the forward (per-example
      tensors are split and repeated with their rows; anything else is passed as is);
    - ``forward_kwargs``: extra keyword arguments for the forward, treated the same way;
    - ``internal_batch_size``: rows per forward; or ``memory_budget`` (bytes, or ``"512MB"``)
      to size chunks from a measurement. Results do not depend on either;
    - ``show_progress``: a progress bar on stderr (``None``: for long runs in a terminal).
    """

    additional_forward_args: Any
    forward_kwargs: Mapping[str, Any] | None
    internal_batch_size: int | None
    memory_budget: int | str | None
    show_progress: bool | None


@dataclass(frozen=True)
class CommonOptions:
    """:class:`CommonKwargs`, validated: the memory budget in bytes, the batch size checked."""

    additional_forward_args: Any = None
    forward_kwargs: Mapping[str, Any] | None = None
    internal_batch_size: int | None = None
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    show_progress: bool | None = None


def common_options(given: Mapping[str, Any], method: str) -> CommonOptions:
    """The validated :class:`CommonOptions` of an ``attribute`` call's common keyword arguments (``method`` names the caller in errors)."""
    unknown = sorted(set(given) - set(CommonKwargs.__annotations__))
    if unknown:
        raise InvalidInputError(
            f"{method}.attribute does not take {unknown}; besides its own options it takes {sorted(CommonKwargs.__annotations__)}"
        )
    budget = given.get("memory_budget")
    return CommonOptions(
        additional_forward_args=given.get("additional_forward_args"),
        forward_kwargs=given.get("forward_kwargs"),
        internal_batch_size=check_optional_count("internal_batch_size", given.get("internal_batch_size")),
        memory_budget=DEFAULT_MEMORY_BUDGET if budget is None else parse_bytes(budget),
        show_progress=check_flag("show_progress", given.get("show_progress")),
    )


@dataclass(frozen=True)
class MethodOptions:
    """Base of a method's own options: a frozen dataclass whose ``__post_init__`` validates it."""

    @property
    def seed(self) -> int | None:
        """The seed a sampled method used (its options override this with a field); ``None`` otherwise."""
        return None

    @classmethod
    def build(cls, given: Mapping[str, Any], method: str) -> Self:
        """Options from keyword arguments, the defaults for the rest; unknown names are an error naming ``method``."""
        accepted = [f.name for f in fields(cls)]
        unknown = sorted(set(given) - set(accepted))
        if unknown:
            raise InvalidInputError(f"{method} does not take {unknown}; its options are {accepted}")
        return cls(**given)


@dataclass(frozen=True)
class SampledOptions(MethodOptions):
    """Options of a sampled method: the ``seed`` it used (``None`` draws one from torch's global generator)."""

    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", resolve_seed(self.seed))
