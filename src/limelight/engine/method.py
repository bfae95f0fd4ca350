"""The one base of every attribution method: construction, options, and the prologue of each call.

A method is built once from a forward (``Method(forward, output=..., eval_mode=..., check_forward=...)``)
and called with ``attribute(inputs, ..., **common)``. This module owns what every family
shares: checking the forward at construction, building the method's typed options
(:meth:`Method.make_options`), validating the common keyword arguments, binding the forward
to a call's extra arguments and target, and holding the model in eval mode while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from torch import nn

from .binding import bind_model, check_forward_spec
from .forward import OutputSpec, eval_mode, find_modules
from .memo import ProbeMemo, callable_key, modules_key, shared_memo
from .model import BoundModel
from .options import CommonOptions, MethodOptions, common_options
from .spaces import Points
from .targets import TargetSpec

OptionsT = TypeVar("OptionsT", bound=MethodOptions)


class Method(Generic[OptionsT]):
    """Base of attribution methods.

    ``forward`` is a model or any callable taking the inputs (then extra arguments) and returning
    a tensor, a tuple, or a mapping such as a Hugging Face ``ModelOutput`` (``output`` picks the
    tensor: a key, ``"logits"`` by default, or a callable). Models are run in eval mode unless
    ``eval_mode=False``. ``check_forward`` probes, with a few two-row forwards, that output rows
    depend only on their own input row.

    ``name`` is the method's key in :mod:`limelight.engine.names` and its results' ``method``;
    ``options_type`` is its frozen options dataclass.
    """

    name = "method"
    options_type: type[OptionsT]

    def __init__(
        self, forward: Callable[..., Any], *, output: OutputSpec = "logits", eval_mode: bool = True, check_forward: bool = True
    ) -> None:
        check_forward_spec(forward, output)
        self.forward = forward
        self.output = output
        self.eval_mode = eval_mode
        self.check_forward = check_forward
        self._own_memo = ProbeMemo()

    @property
    def memo(self) -> ProbeMemo:
        """What earlier probes of this forward found: shared by every method on the same model object (see
        :mod:`limelight.engine.memo`), this instance's own when the forward holds values a key cannot tell apart."""
        return shared_memo(self.forward, self.output, find_modules(self.forward)) or self._own_memo

    def make_options(self, **given: Any) -> OptionsT:
        """This method's validated options from keyword arguments (defaults for the rest)."""
        return self.options_type.build(given, type(self).__name__)

    def common_options(self, common: Mapping[str, Any]) -> CommonOptions:
        """The validated common keyword arguments of one call (see :class:`~limelight.engine.options.CommonKwargs`)."""
        return common_options(common, type(self).__name__)

    def probe_context(self) -> Hashable:
        """What a remembered probe verdict depends on beyond the inputs: the method, the forward and output spec,
        and the state of the model's modules as the call runs them (their modes included)."""
        return (type(self), callable_key(self.forward, self.output), modules_key(find_modules(self.forward)))

    @contextmanager
    def bound(self, points: Points, target: TargetSpec, common: CommonOptions, modules: Iterable[nn.Module] = ()) -> Iterator[BoundModel]:
        """The prologue of every call: the forward bound to its arguments and target, the model in eval mode."""
        model = bind_model(self.forward, self.output, points[0].shape[0], target, common.additional_forward_args, common.forward_kwargs)
        with eval_mode(find_modules(self.forward) + list(modules), self.eval_mode):
            yield model
