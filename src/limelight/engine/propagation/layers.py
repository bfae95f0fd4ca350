"""LRP rules for layers with weights (linear, convolution, Hugging Face's ``Conv1D``).

The backward carries ``g = R / a`` (relevance per unit of activation), so the relevance of any
tensor is ``a * g`` and un-hooked linear operations (residual sums, means, reshapes) split
relevance in proportion to their inputs, as LRP-0 does. A layer ``z = W x + b`` with a rule
receives ``R_z = z * g_z`` and passes back ``g_x = sum_t c_t J_t^T (R_z / stab(z_t))``: each
*term* ``t`` of the rule is the layer evaluated with modified inputs and parameters (zennit's
input and parameter modifiers), ``stab`` the output modifier that keeps denominators away from
zero. It is built as a surrogate graph (:func:`~.surrogates.substitute`), so values never change.

- :class:`Epsilon` (``epsilon=0`` is LRP-0, i.e. gradient x input), :class:`Gamma` (favour
  positive weights), :class:`AlphaBeta` (positive and negative contributions weighted
  ``alpha - beta = 1``), :class:`ZPlus` (positive contributions only, no bias);
- first-layer rules that do not read the input values, :class:`Flat` and :class:`WSquare`, and
  the bounded-input :class:`ZBox`: their relevance cannot be written as ``x * g``, so they hand
  it to the input directly (:class:`~.surrogates.Handover`); they apply only to a layer that
  takes the model's input.

A convolution subclass with its own forward (TensorFlow-style "same" padding, as EfficientNet's
``Conv2dStaticSamePadding`` pads with a ``ZeroPad2d`` or ``F.pad`` before ``F.conv2d``) is
recomputed through its own padding (:class:`PaddedConv`); a forward that does more than pad and
convolve is refused, since the rules would recompute a different layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from ...errors import InvalidInputError, LayerError
from .surrogates import Handover, scaled, substitute

LayerFn = Callable[[Tensor, Tensor, "Tensor | None"], Tensor]
"""``(input, weight, bias) -> output``: a layer's computation with given parameters."""

Modifier = Callable[[Tensor], Tensor]


def _same(t: Tensor) -> Tensor:
    return t


def _positive(t: Tensor) -> Tensor:
    return t.clamp(min=0)


def _negative(t: Tensor) -> Tensor:
    return t.clamp(max=0)


def layer_function(module: nn.Module) -> LayerFn | None:
    """The computation of a layer with weights, or ``None`` for a module LRP's layer rules do not apply to."""
    if isinstance(module, nn.Linear):
        return F.linear
    for stock in _STOCK_CONVS:
        if isinstance(module, stock):
            return module._conv_forward if type(module).forward is stock.forward else PaddedConv(module)
    if type(module).__name__ == "Conv1D" and hasattr(module, "nf"):  # transformers' GPT-2 projection: x @ W + b
        return lambda x, w, b: x @ w if b is None else x @ w + b
    return None


_STOCK_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_FUNCTIONS = (torch.conv1d, torch.conv2d, torch.conv3d)  # F.conv1d/2d/3d are these functions
_CONV_ARGUMENTS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")


@dataclass(frozen=True)
class _Plan:
    """What a convolution subclass's forward does to an input of one shape: these pads, then this convolution."""

    pads: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...]
    conv: Callable[..., Tensor]
    settings: dict[str, Any]


class _Recorder(TorchFunctionMode):
    """Every torch function call of a forward, with its arguments and value."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[Any, tuple[Any, ...], dict[str, Any], Any]] = []

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        value = func(*args, **kwargs)
        self.calls.append((func, tuple(args), kwargs, value))
        return value


class PaddedConv:
    """A convolution subclass's own forward as a :data:`LayerFn`: its padding, then its convolution with given parameters.

    The forward is traced once per input shape: its data path must be the input, padded by
    ``F.pad`` calls that add zeros or copy values (``constant`` with value 0, ``reflect``,
    ``replicate``, ``circular``; a padding module calls ``F.pad``), into one convolution with the
    module's own weight and bias, whose output it returns. Anything else on that path (weight
    standardisation, an activation, a scaled input) is refused with a :class:`LayerError` naming
    the module: the rules would recompute a different layer.
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.plans: dict[tuple[Any, ...], _Plan] = {}

    def __call__(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        key = (tuple(x.shape), x.dtype, x.device)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = self._trace(x.detach())
        for args, kwargs in plan.pads:
            x = F.pad(x, *args, **kwargs)
        return plan.conv(x, weight, bias, **plan.settings)

    def _trace(self, x: Tensor) -> _Plan:
        module = self.module
        with torch.no_grad(), _Recorder() as recorder:
            output = module.forward(x)
        current, pads, conv = x, [], None
        for func, args, kwargs, value in recorder.calls:
            if not any(a is current for a in (*args, *kwargs.values())):
                continue
            if func is F.pad and args[0] is current and _copies_or_zeros(args, kwargs):
                pads.append((args[1:], kwargs))
            elif func in _CONV_FUNCTIONS and args[0] is current and conv is None:
                conv = func, {**dict(zip(_CONV_ARGUMENTS, args)), **kwargs}
            elif isinstance(value, Tensor):
                where = "input before" if conv is None else "output of"
                raise self._refusal(f"it applies {getattr(func, '__name__', func)} to the {where} the convolution")
            else:
                continue  # a size or shape query
            current = value
        if conv is None:
            raise self._refusal("its forward runs no convolution on its (padded) input")
        func, arguments = conv
        if arguments.get("weight") is not getattr(module, "weight", None) or arguments.get("bias") is not getattr(module, "bias", None):
            raise self._refusal("its convolution does not use the module's own weight and bias as they are")
        if output is not current:
            raise self._refusal("its forward does not return the convolution's output")
        settings = {k: v for k, v in arguments.items() if k not in ("input", "weight", "bias")}
        return _Plan(tuple(pads), func, settings)

    def _refusal(self, why: str) -> LayerError:
        module = self.module
        return LayerError(
            f"LRP cannot recompute {type(module).__name__}({module.extra_repr()}), a convolution subclass with its own "
            f"forward: {why}. Its rule needs the layer as padding plus convolution; give this module an epsilon rule "
            "(Composite(layers={...})), which uses the layer's own gradient, or explain with another method"
        )


def _copies_or_zeros(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """An ``F.pad`` call that adds zeros or copies of the input (linear in it), not a nonzero constant."""
    mode = args[2] if len(args) > 2 else kwargs.get("mode", "constant")
    value = args[3] if len(args) > 3 else kwargs.get("value")
    return mode != "constant" or not value


def parameters_of(module: nn.Module) -> tuple[Tensor, Tensor | None]:
    """A layer's weight and bias (``None`` without one), detached: rules read them, never train them."""
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    if not isinstance(weight, Tensor):
        raise InvalidInputError(f"{type(module).__name__} has no weight tensor for an LRP layer rule")
    return weight.detach(), bias.detach() if isinstance(bias, Tensor) else None


def is_dense(module: nn.Module) -> bool:
    """A fully connected layer (``nn.Linear`` or transformers' ``Conv1D``)."""
    return isinstance(module, nn.Linear) or type(module).__name__ == "Conv1D" and hasattr(module, "nf")


def stabilize(z: Tensor, epsilon: float) -> Tensor:
    """``z + epsilon * sign(z)`` with ``sign(0) = 1``."""
    return torch.where(z >= 0, z + epsilon, z - epsilon)


def stabilized_ratio(z: Tensor, epsilon: float) -> Tensor:
    """``z / (z + epsilon sign z)`` (1 where that is ``0 / 0``), as ``|z| / (|z| + epsilon)``: the same bits, fewer operations."""
    if epsilon == 0:
        return torch.ones_like(z)
    size = z.abs()
    return size.div_(size + epsilon)  # in place: the same division, one temporary fewer


@dataclass(frozen=True)
class Part:
    """One evaluation of the layer inside a term: modified input, modified parameters, with or without bias."""

    inputs: Modifier = _same
    params: Modifier = _same
    bias: bool = True
    bias_params: Modifier | None = None
    """The bias's modifier (``None``: the same as the weight's)."""

    def modified_bias(self, bias: Tensor | None) -> Tensor | None:
        """The bias this part evaluates the layer with (``None``: no bias)."""
        if not self.bias or bias is None:
            return None
        return (self.params if self.bias_params is None else self.bias_params)(bias)


@dataclass(frozen=True)
class Term:
    """``coefficient * sum(parts)``: one modified forward of the layer that relevance is divided by."""

    coefficient: float
    parts: tuple[Part, ...]

    @property
    def is_layer(self) -> bool:
        """The layer itself, unmodified: its own output (and graph) serves, nothing is recomputed."""
        return self.coefficient == 1.0 and self.parts == (Part(),)


class LayerRule:
    """A rule for a layer with weights: its terms and the stabiliser of their denominators."""

    name = "rule"

    def terms(self) -> tuple[Term, ...]:
        raise NotImplementedError

    @property
    def stabilizer(self) -> float:
        return 1e-6

    def surrogate(self, fn: LayerFn, module: nn.Module, x: Tensor, z: Tensor) -> Tensor:
        """A graph from ``x`` whose gradient is the rule's ``g_x`` for the layer output ``z``."""
        terms = self.terms()
        if len(terms) == 1 and terms[0].is_layer:  # epsilon: the layer's own gradient, scaled (no surrogate graph)
            return z if self.stabilizer == 0 else scaled(z, z, stabilized_ratio(z.detach(), self.stabilizer))
        weight, bias = parameters_of(module)
        total = torch.zeros_like(z)
        for term in terms:
            if term.is_layer:
                total = total + z * stabilized_ratio(z.detach(), self.stabilizer)
                continue
            zt = torch.zeros_like(z)
            for part in term.parts:
                zt = zt + fn(part.inputs(x), part.params(weight), part.modified_bias(bias))
            denominator = stabilize(zt.detach(), self.stabilizer)
            ratio = torch.where(denominator == 0, torch.ones_like(z), z.detach() / denominator)
            total = total + term.coefficient * zt * ratio
        return substitute(z, total)

    def __repr__(self) -> str:
        return self.name


class Epsilon(LayerRule):
    """LRP-epsilon: ``R_x = x * W^T (R_z / (z + epsilon sign z))``; ``epsilon = 0`` is LRP-0 (gradient x input)."""

    def __init__(self, epsilon: float = 1e-6) -> None:
        if not epsilon >= 0:
            raise InvalidInputError(f"epsilon must be >= 0, got {epsilon}")
        self.epsilon = float(epsilon)
        self.name = f"epsilon({self.epsilon:g})"

    def terms(self) -> tuple[Term, ...]:
        return (Term(1.0, (Part(),)),)

    @property
    def stabilizer(self) -> float:
        return self.epsilon


class Gamma(LayerRule):
    """LRP-gamma: weights ``W + gamma W^+`` (and bias ``b + gamma b^+``) favour positive contributions (inputs >= 0).

    ``epsilon`` stabilises the denominators; ``modify_bias=False`` keeps the bias as it is
    (Captum's ``GammaRule``; zennit and the default modify it like the weights).
    """

    def __init__(self, gamma: float = 0.25, epsilon: float = 1e-6, modify_bias: bool = True) -> None:
        if not (gamma >= 0 and epsilon >= 0):
            raise InvalidInputError(f"gamma and epsilon must be >= 0, got gamma={gamma}, epsilon={epsilon}")
        self.gamma, self.epsilon, self.modify_bias = float(gamma), float(epsilon), modify_bias
        extra = ("" if epsilon == 1e-6 else f", epsilon={self.epsilon:g}") + ("" if modify_bias else ", bias kept")
        self.name = f"gamma({self.gamma:g}{extra})"

    def terms(self) -> tuple[Term, ...]:
        gamma = self.gamma
        return (Term(1.0, (Part(params=lambda p: p + gamma * p.clamp(min=0), bias_params=None if self.modify_bias else _same),)),)

    @property
    def stabilizer(self) -> float:
        return self.epsilon


class AlphaBeta(LayerRule):
    """LRP-alpha-beta: positive contributions weighted ``alpha``, negative ones ``beta``, ``alpha - beta = 1``."""

    def __init__(self, alpha: float = 2.0, beta: float = 1.0, bias: bool = True) -> None:
        if not (beta >= 0 and abs(alpha - beta - 1) < 1e-9):
            raise InvalidInputError(f"alpha-beta needs beta >= 0 and alpha - beta = 1 (conservation), got alpha={alpha}, beta={beta}")
        self.alpha, self.beta, self.bias = float(alpha), float(beta), bias
        self.name = f"alpha{self.alpha:g}_beta{self.beta:g}"

    def terms(self) -> tuple[Term, ...]:
        positive = Term(self.alpha, (Part(_positive, _positive, self.bias), Part(_negative, _negative, False)))
        if self.beta == 0:
            return (positive,)
        negative = Term(-self.beta, (Part(_positive, _negative, self.bias), Part(_negative, _positive, False)))
        return positive, negative


class ZPlus(AlphaBeta):
    """LRP-z+: only positive contributions ``x_j w_kj > 0``, biases ignored (alpha=1, beta=0 without bias)."""

    def __init__(self) -> None:
        super().__init__(1.0, 0.0, bias=False)
        self.name = "zplus"


class InputRule(LayerRule):
    """A first-layer rule: relevance from the layer's output straight to the model's input."""

    def relevance(self, fn: LayerFn, module: nn.Module, x: Tensor, relevance_out: Tensor) -> Tensor:
        raise NotImplementedError

    def terms(self) -> tuple[Term, ...]:  # not used: first-layer rules hand relevance over instead
        return ()

    def apply(self, fn: LayerFn, module: nn.Module, x: Tensor, z: Tensor, handover: Handover) -> Tensor:
        """``z`` forward; backward: this rule's relevance handed to the input, nothing through ``x``'s gradient."""
        return _HandOver.apply(x, z.detach(), lambda r: handover.add(self.relevance(fn, module, x.detach(), r)))


class _HandOver(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, z: Tensor, deliver: Callable[[Tensor], None]) -> Tensor:
        ctx.save_for_backward(z)
        ctx.deliver = deliver
        return z.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (z,) = ctx.saved_tensors
        with torch.enable_grad():
            ctx.deliver(z * grad)
        return None, None, None  # type: ignore[return-value]  # x gets nothing: its relevance was handed over


def _spread(fn: LayerFn, inputs: list[tuple[Tensor, Tensor]], relevance_out: Tensor) -> Tensor:
    """``sum_i input_i * d/d input_i (z' . R / z')`` for ``z' = sum_i fn(input_i, weight_i)``."""
    leaves = [i.detach().requires_grad_(True) for i, _ in inputs]
    z = fn(leaves[0], inputs[0][1], None)
    for leaf, (_, weight) in zip(leaves[1:], inputs[1:]):
        z = z + fn(leaf, weight, None)
    ratio = relevance_out / stabilize(z.detach(), 1e-12)
    grads = torch.autograd.grad((z * ratio).sum(), leaves)
    return sum((leaf.detach() * g for leaf, g in zip(leaves, grads)), torch.zeros_like(leaves[0]))


class Flat(InputRule):
    """Flat: relevance spread equally over each output's receptive field, whatever the input values."""

    name = "flat"

    def relevance(self, fn: LayerFn, module: nn.Module, x: Tensor, relevance_out: Tensor) -> Tensor:
        return _spread(fn, [(torch.ones_like(x), torch.ones_like(parameters_of(module)[0]))], relevance_out)


class WSquare(InputRule):
    """w-square: relevance spread in proportion to the squared weights, whatever the input values."""

    name = "w_square"

    def relevance(self, fn: LayerFn, module: nn.Module, x: Tensor, relevance_out: Tensor) -> Tensor:
        return _spread(fn, [(torch.ones_like(x), parameters_of(module)[0] ** 2)], relevance_out)


class ZBox(InputRule):
    """z-box (z^B) for inputs known to lie in ``[low, high]`` (e.g. normalised pixels): ``x w - l w^+ - h w^-``."""

    def __init__(self, low: float | Tensor, high: float | Tensor) -> None:
        self.low, self.high = low, high
        self.name = "zbox"

    def relevance(self, fn: LayerFn, module: nn.Module, x: Tensor, relevance_out: Tensor) -> Tensor:
        w = parameters_of(module)[0]
        low = torch.as_tensor(self.low, dtype=x.dtype, device=x.device).expand_as(x)
        high = torch.as_tensor(self.high, dtype=x.dtype, device=x.device).expand_as(x)
        return _spread(fn, [(x, w), (low, -w.clamp(min=0)), (high, -w.clamp(max=0))], relevance_out)
