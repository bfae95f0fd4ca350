"""The one propagation context: every interception a rule needs, entered and removed in one place.

A :class:`Propagation` is built from a forward and its rules; :meth:`Propagation.active` then

- refuses TorchScript (its operations are invisible to the interception, so rules would silently
  not apply);
- intercepts every torch *function* call (a :class:`~torch.overrides.TorchFunctionMode`), so
  functional activations and modules used several times are rewritten at each call;
- registers forward hooks on the modules whose rule is defined per module (LRP's layers with
  weights and normalisation layers written out of elementary operations such as ``LlamaRMSNorm``;
  the activations in ``transformers.activations``), and pre/post hooks that keep the path of the
  running module for error messages;
- freezes the parameters (``requires_grad=False``) so that only tensors on the attributed path are
  seen as such;

and undoes all of it when the block ends, normally or by an exception. The attribution itself is
plain autograd through the graph the rules built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from ...errors import InvalidInputError, LayerError
from ..forward import find_modules
from ..model import BoundModel
from .composites import Composite
from .functions import NonlinearFunctions, derivative_of, graded
from .layers import InputRule, layer_function
from .rectifiers import GradientRule, RectifierFunctions
from .reference import PairedRows, Reference
from .reveal_cancel import reveal_cancel
from .surrogates import ORDINARY, Handover, entry, scaled


class FunctionRules(Protocol):
    """What the interception asks for every torch function call."""

    def handle(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """The call's value through a rule, or :data:`~.surrogates.ORDINARY`."""


def is_elementwise_module(module: nn.Module, paired: bool) -> bool:
    """Modules whose rule is defined on the module: transformers' activations, and (LRP) hand-written norms.

    ``nn.LayerNorm``, ``nn.RMSNorm`` and torch's activation modules call one torch function each
    and are handled there. transformers' activations are written out of elementary operations
    (``0.5 * x * (1 + tanh(...))``) but are element-wise functions, rescaled as a whole. A
    hand-written norm (``x * rsqrt(mean(x^2) + eps) * w``) is, for LRP, rescaled as a whole,
    which holds its scale constant; DeepLift applies its rules to the pieces, which stays complete.
    """
    if isinstance(module, (nn.LayerNorm, nn.RMSNorm)):
        return False
    if type(module).__module__.startswith("transformers.activations"):
        return True
    return not paired and type(module).__name__.endswith(("RMSNorm", "LayerNorm"))


class _Intercept(TorchFunctionMode):
    def __init__(self, context: Propagation) -> None:
        super().__init__()
        self.context = context

    def __torch_function__(self, func: Any, types: Any, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        context = self.context
        if not context.paused and not context.replacing:
            value = context.functions.handle(func, args, kwargs)
            if value is not ORDINARY:
                return value
        return func(*args, **kwargs)


class Propagation:
    """The rules of one propagation method for one forward (see the module docstring).

    ``functions`` rewrites function calls; ``reference`` is DeepLift's pairing or LRP's zero
    (``None``: no per-module rules, as for guided backpropagation); ``composite`` gives the LRP
    rules of layers with weights.
    """

    def __init__(
        self,
        forward: Callable[..., Any],
        functions: FunctionRules,
        reference: Reference | None = None,
        composite: Composite | None = None,
    ) -> None:
        self.forward = forward
        self.functions = functions
        self.reference = reference
        self.composite = composite
        self.paused = False
        self.replacing = 0
        self.path: list[tuple[str, nn.Module]] = []
        self.entries: dict[int, Handover] = {}
        self.handed_over = False
        self.splits = functions.splits if isinstance(functions, NonlinearFunctions) else None
        if isinstance(functions, NonlinearFunctions):
            functions.where = self.where
            functions.inside_module = lambda: bool(self.path)

    def where(self) -> str:
        """The running module, as ``'name' (Type)``, for error messages."""
        if not self.path:
            return "the forward (outside any module)"
        name, module = self.path[-1]
        return f"module {name or '<root>'!r} ({type(module).__name__})"

    @contextmanager
    def active(self) -> Iterator[Propagation]:
        """Intercept, hook and freeze while the block runs; remove everything when it ends (also on error)."""
        check_interceptable(self.forward)
        handles: list[Any] = []
        frozen: list[nn.Parameter] = []
        try:
            if self.reference is not None:
                for name, module in _modules_once(find_modules(self.forward)):
                    handles.append(module.register_forward_pre_hook(self._enter(name, module)))
                    handles.append(module.register_forward_hook(self._leave(name, module)))
                    frozen += [p for p in module.parameters(recurse=False) if p.requires_grad]
                for parameter in frozen:
                    parameter.requires_grad_(False)
            with _Intercept(self):
                yield self
        finally:
            for handle in handles:
                handle.remove()
            for parameter in frozen:
                parameter.requires_grad_(True)
            self.path.clear()
            self.entries.clear()
            if self.splits is not None:
                self.splits.clear()
            self.replacing = 0

    def _enter(self, name: str, module: nn.Module) -> Callable[..., None]:
        elementwise = is_elementwise_module(module, isinstance(self.reference, PairedRows))

        def enter(m: nn.Module, args: Any) -> None:
            if self.paused:
                return
            self.path.append((name, module))
            if elementwise:
                self.replacing += 1

        return enter

    def _leave(self, name: str, module: nn.Module) -> Callable[..., Any]:
        elementwise = is_elementwise_module(module, isinstance(self.reference, PairedRows))
        fn = layer_function(module)

        def leave(m: nn.Module, args: Any, output: Any) -> Any:
            if self.paused:
                return None
            if elementwise:
                self.replacing -= 1
            where = self.where()
            self.path.pop()
            x = args[0] if args else None
            if not (torch.is_grad_enabled() and isinstance(x, Tensor) and graded(x) and isinstance(output, Tensor)) or self.replacing:
                return None
            self.paused = True
            try:
                if elementwise and output.shape == x.shape:
                    return self._rescale_module(module, x, output)
                if fn is not None and self.composite is not None:
                    return self._layer_rule(name, module, fn, x, output, where)
                if fn is not None and self.splits is not None:
                    return self.splits.record(fn, module, x, output, self.where)
                return None
            finally:
                self.paused = False

        return leave

    def _rescale_module(self, module: nn.Module, x: Tensor, output: Tensor) -> Tensor:
        """An element-wise module (activation, norm) with its Rescale multiplier against the reference."""
        if self.reference is None:
            return output
        slope = lambda: derivative_of(module.forward, x)  # noqa: E731  (.forward: no hooks run again)
        split = None if self.splits is None else self.splits.take(x, inplace=False)
        if split is not None:
            return reveal_cancel(module.forward, x, split, self.reference, slope, self.where, inplace=False)
        return scaled(x, output, self.reference.multiplier(x, output, slope, self.where))

    def _layer_rule(self, name: str, module: nn.Module, fn: Any, x: Tensor, output: Tensor, where: str) -> Tensor | None:
        if self.composite is None:
            return None
        handover = self.entries.get(id(x))
        rule = self.composite.rule_for(name, module, handover is not None)
        if rule is None:
            return None
        if isinstance(rule, InputRule):
            if handover is None:
                raise LayerError(
                    f"the LRP rule {rule!r} hands relevance to the model's input, but {where} receives a computed "
                    "tensor, not the input; give it an ordinary rule (e.g. in Composite(layers={...})) or drop `first`"
                )
            self.handed_over = True
            return rule.apply(fn, module, x, output, handover)
        return rule.surrogate(fn, module, x, output)

    def bind(
        self, model: BoundModel, inputs: int, layer: nn.Module | None = None, at_input: bool = False, relevance: bool = False
    ) -> BoundModel:
        """``model`` whose forward tells the rules each call's row count and, with ``relevance``, marks where relevance ends.

        ``relevance``: the attributed tensors (the first ``inputs`` arguments, or ``layer``'s value)
        pass through :func:`~.surrogates.entry`, so their gradient is their relevance.
        """
        forward = model.forward

        def run(*args: Any, **kwargs: Any) -> Any:
            if isinstance(self.reference, PairedRows):
                self.reference.rows = args[0].shape[0] if args and isinstance(args[0], Tensor) else None
            self.entries.clear()
            self.path.clear()  # a forward stopped by an exception (a neuron forward) leaves its modules on the path
            self.replacing = 0
            if self.splits is not None:
                self.splits.clear()
            if not relevance:
                return forward(*args, **kwargs)
            self.handed_over = False
            if layer is None:
                value = forward(*(self._mark(a) for a in args[:inputs]), *args[inputs:], **kwargs)
            else:
                if at_input:
                    handle = layer.register_forward_pre_hook(lambda m, a: tuple(self._mark(v) for v in a))
                else:
                    handle = layer.register_forward_hook(lambda m, a, out: self._mark_value(out))
                try:
                    value = forward(*args, **kwargs)
                finally:
                    handle.remove()
            first = None if self.composite is None else self.composite.first
            if first is not None and not self.handed_over and torch.is_grad_enabled():
                raise LayerError(
                    f"the composite's first-layer rule {first!r} applied to no layer: no layer with weights takes the model's "
                    "input directly (the forward transforms it first, or the attributed layer feeds no such layer); "
                    "use a composite without `first`"
                )
            return value

        return replace(model, forward=run)

    def _mark(self, value: Any) -> Any:
        if not graded(value):
            return value
        handover = Handover()
        marked = entry(value, handover)
        self.entries[id(marked)] = handover
        return marked

    def _mark_value(self, value: Any) -> Any:
        if isinstance(value, Tensor):
            return self._mark(value)
        if isinstance(value, tuple):
            return type(value)(self._mark(v) for v in value)
        return value


def _modules_once(roots: list[nn.Module]) -> Iterator[tuple[str, nn.Module]]:
    """Every module of ``roots`` once, named from the outermost root (a forward may hold a model and one of its layers)."""
    inner = {id(m) for root in roots for m in root.modules() if m is not root}
    seen: set[int] = set()
    for root in (r for r in roots if id(r) not in inner):
        for name, module in root.named_modules():
            if id(module) not in seen:
                seen.add(id(module))
                yield name, module


def check_interceptable(forward: Callable[..., Any]) -> None:
    """Refuse forwards whose operations the interception cannot see (TorchScript)."""
    scripted = [m for root in find_modules(forward) for m in root.modules() if isinstance(m, torch.jit.ScriptModule)]
    if scripted or isinstance(forward, torch.jit.ScriptFunction):
        name = type(scripted[0]).__name__ if scripted else "a TorchScript function"
        raise InvalidInputError(
            f"the forward runs TorchScript ({name}), whose activations propagation methods cannot intercept, so "
            "their gradients would silently stay ordinary; explain the eager (unscripted) model instead"
        )


@contextmanager
def modified_backward(rule: GradientRule, forward: Callable[..., Any]) -> Iterator[None]:
    """While active, every rectifier the forward computes passes gradients back by ``rule`` (guided methods)."""
    with Propagation(forward, RectifierFunctions(rule)).active():
        yield
