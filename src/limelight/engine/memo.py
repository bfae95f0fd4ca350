"""What a method instance remembers about its forward between calls, so probes are not repeated.

The forward-contract probe and the memory measurement cost a few small forwards each; a user
who explains one sentence at a time would pay them on every call. A :class:`ProbeMemo` keeps,
per *signature* (the inputs' dtypes, ranks and devices, the structure of the extra arguments,
the target's kind and the space), whether the contract held and what one row cost. Lengths
are not part of the signature: a row's memory is rescaled from the measured row by its size,
conservatively (quadratically when it grows, as attention does), and measured again when a
row is more than :data:`REMEASURE_GROWTH` times the measured one. Only chunk sizes depend on
the estimate, and results never depend on chunk sizes.

The memo outlives the method instance: :func:`shared_memo` keeps one per model object (weakly, so
models are not kept alive), because front ends such as ``explain()`` build a new method on every
call. A verdict is then only as good as its key, so :func:`forward_key` puts in it everything the
forward's behaviour visibly depends on: the callables' code and captured values, and per module
of the model its type, ``forward`` code, hooks and plain attributes (flags, sizes, ``training``).
A forward that holds anything else (a tensor, a list, an object of its own) gets no shared memo.
What stays outside the key: parameter values and the globals a function reads; neither should
make a forward batch-dependent.
"""

from __future__ import annotations

import functools
import math
import types
import weakref
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules import module as torch_module

from .model import BoundModel
from .spaces import Points

REMEASURE_GROWTH = 2.0
"""A row more than this many times the measured row's size is measured again."""

MAX_KEYS = 256
"""Keys one memo remembers; past that the oldest are forgotten (a model whose hooks change on every call
would otherwise grow its memo without bound)."""


@dataclass(frozen=True)
class _RowCost:
    size: int
    bytes_per_row: int


def _shape_free(value: Any) -> Hashable:
    if isinstance(value, Tensor):
        return (value.dtype, value.dim(), str(value.device))
    return type(value).__name__


def signature(points: Points, model: BoundModel, *extra: Hashable) -> Hashable:
    """What a probe's verdict depends on, lengths left out (``extra``: the space, the perturber, ...)."""
    args = tuple(_shape_free(a) for a in model.args.args)
    kwargs = tuple(sorted((k, _shape_free(v)) for k, v in model.args.kwargs.items()))
    return (tuple(_shape_free(p) for p in points), args, kwargs, type(model.target).__name__, *extra)


def row_size(points: Points, model: BoundModel) -> int:
    """Elements of one row: the first row of each point tensor and of each per-example argument."""
    per_example = [
        v
        for v in (*model.args.args, *model.args.kwargs.values())
        if isinstance(v, Tensor) and v.dim() > 0 and v.shape[0] == model.args.n_examples
    ]
    return sum(t[:1].numel() for t in (*points, *per_example))


class ProbeMemo:
    """Per signature: whether the forward passed its probe, and the measured memory of one row."""

    def __init__(self) -> None:
        self._passed: dict[Hashable, None] = {}
        self._costs: dict[Hashable, _RowCost] = {}

    def check_once(self, key: Hashable, check: Callable[[], None]) -> None:
        """Run ``check`` (which raises on a broken forward) unless it already passed for ``key``."""
        if key not in self._passed:
            check()
            _remember(self._passed, key, None)

    def bytes_per_row(self, key: Hashable, size: int, measure: Callable[[], int]) -> int:
        """Bytes one row of ``size`` elements costs: measured once, then rescaled (upwards when unsure)."""
        known = self._costs.get(key)
        if known is None or size > REMEASURE_GROWTH * known.size:
            known = _RowCost(max(size, 1), measure())
            _remember(self._costs, key, known)
            return known.bytes_per_row
        ratio = size / known.size
        return math.ceil(known.bytes_per_row * max(ratio, ratio * ratio))


def _remember(memory: dict[Hashable, Any], key: Hashable, value: Any) -> None:
    memory.pop(key, None)
    memory[key] = value
    while len(memory) > MAX_KEYS:
        del memory[next(iter(memory))]


_SHARED: weakref.WeakKeyDictionary[nn.Module, ProbeMemo] = weakref.WeakKeyDictionary()


class _Opaque(Exception):
    """Raised inside :func:`_identity` for a value whose behaviour a key cannot capture."""


_PLAIN = (type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device)


def _identity(value: Any) -> Hashable:
    """A hashable stand-in for a callable or captured value: equal only for values that behave alike.

    Modules are held by weak reference (a dead one never equals a live one), functions by their code,
    defaults and captured cells, bound methods by their object and function. Anything else is opaque.
    """
    if isinstance(value, _PLAIN):
        return (type(value), value)
    if isinstance(value, tuple):
        return tuple(_identity(v) for v in value)
    if isinstance(value, nn.Module):
        return weakref.ref(value)
    if isinstance(value, types.FunctionType):
        cells = tuple(_identity(_cell(c)) for c in value.__closure__ or ())
        defaults = _identity(value.__defaults__) if value.__defaults__ else ()
        keywords = tuple(sorted((k, _identity(v)) for k, v in (value.__kwdefaults__ or {}).items()))
        return (value.__code__, cells, defaults, keywords)
    if isinstance(value, types.MethodType):
        return ("method", _identity(value.__self__), _identity(value.__func__))
    if isinstance(value, functools.partial):
        keywords = tuple(sorted((k, _identity(v)) for k, v in value.keywords.items()))
        return ("partial", _identity(value.func), _identity(value.args), keywords)
    if isinstance(value, (types.BuiltinFunctionType, type)):
        return value
    raise _Opaque


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


_PLAIN_TYPES = frozenset(_PLAIN)
_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
"""The hook dicts of a module that change what its forward (or backward) does."""


def _module_state(module: nn.Module) -> Hashable:
    """A module's type, its ``forward`` (the class's or one set on the instance), hooks and plain attributes."""
    attributes = module.__dict__
    plain = tuple(
        (name, value)
        for name, value in attributes.items()
        if type(value) in _PLAIN_TYPES or (type(value) is tuple and all(type(v) in _PLAIN_TYPES for v in value))
    )
    hooks = tuple(tuple(attributes.get(name) or ()) for name in _HOOKS)
    own = attributes.get("forward")
    if own is None:
        return (type(module), hooks, plain)
    try:
        return (type(module), _identity(own), hooks, plain)
    except _Opaque:
        return (type(module), id(own), hooks, plain)  # not comparable: a replaced object never matches


class _Key:
    """A large hashable key that computes its hash once (memo lookups hash it several times per call)."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: Hashable) -> None:
        self.value, self._hash = value, hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self._hash == other._hash and self.value == other.value


_GLOBAL_HOOKS = tuple(
    sorted(n for n, v in vars(torch_module).items() if n.startswith("_global") and n.endswith("hooks") and isinstance(v, dict))
)
"""Torch's registries of hooks that run on every module (``register_module_forward_hook`` and the like)."""


def _global_hooks() -> Hashable:
    """The ids of the hooks registered on every module."""
    return tuple(tuple(getattr(torch_module, name)) for name in _GLOBAL_HOOKS)


def callable_key(forward: Callable[..., Any], output: Any) -> Hashable | None:
    """What identifies ``forward`` and the ``output`` spec across method instances; ``None`` if they hold opaque values."""
    try:
        return (_identity(forward), _identity(output))
    except _Opaque:
        return None


def modules_key(roots: Iterable[nn.Module]) -> Hashable:
    """The state of every module under ``roots`` that can change what the forward computes (see :func:`_module_state`)."""
    return _Key((_global_hooks(), tuple((weakref.ref(m), _module_state(m)) for root in roots for m in root.modules())))


def shared_memo(forward: Callable[..., Any], output: Any, roots: list[nn.Module]) -> ProbeMemo | None:
    """The memo shared by every method on the same model (the first of ``roots``), or ``None`` when the forward
    holds opaque values and must keep a memo of its own."""
    if not roots or callable_key(forward, output) is None:
        return None
    memo = _SHARED.get(roots[0])
    if memo is None:
        memo = _SHARED[roots[0]] = ProbeMemo()
    return memo
