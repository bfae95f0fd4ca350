"""Function rules of DeepLift and LRP: how each torch function call on the attributed path differentiates.

The propagation context (:mod:`.context`) hands every torch function call made by the forward to
:meth:`NonlinearFunctions.handle`. Linear operations (additions, linear and convolution layers,
reshapes, means, embeddings, masks) keep their ordinary gradient; nonlinear ones are rewritten,
call by call, so functional activations and modules run several times are handled at every use:

- element-wise activations (ReLU family, GELU, SiLU, tanh, sigmoid, ...): Rescale,
  ``(y - y_ref) / (x - x_ref)``, or DeepLift's RevealCancel on request (:mod:`.reveal_cancel`);
  with LRP's zero reference Rescale is the identity rule ``y / x``,
  which passes relevance through unchanged. DeepLift also rescales element-wise maths
  (``exp``, ``sqrt``, ``pow`` with a constant exponent, ...), which keeps it exactly complete;
- products of two attributed tensors (``a * b``, ``matmul``, ``einsum``): each factor is
  differentiated with the other at its midpoint, ``d(ab) = da * mid(b) + mid(a) * db``, which is
  exact for DeepLift (the Shapley split of a bilinear change) and for LRP the uniform rule
  (each factor receives half);
- ``layer_norm`` / ``rms_norm``: LRP holds the normalising scale ``1 / sigma`` constant (Ali et al.,
  2022); DeepLift writes the norm out as ``u * rsqrt(mean(u^2) + eps)`` and applies its rules to the
  pieces, so the change of the scale is attributed too and completeness stays exact;
- softmax: DeepLift writes it as ``exp(z - c) * 1 / sum exp(z - c)`` (complete); LRP holds the attention softmax constant,
  so relevance reaches the tokens only through the values (see :meth:`NonlinearFunctions._softmax`);
  ``scaled_dot_product_attention`` likewise (DeepLift writes it out as products and a softmax).

Max pooling follows DeepLift's rule (each window's change routed through the maxima of the input
and of the baseline). DeepLift refuses nonlinear operations it has no rule for (maxima, adaptive
max pooling, division by an attributed tensor, norms and variances outside a normalisation layer) with an error that names
the module, instead of returning multipliers that would silently break its completeness.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ...errors import InvalidInputError
from .reference import Reference
from .reveal_cancel import Splits, reveal_cancel
from .surrogates import ORDINARY, scaled, substitute

ACTIVATIONS = frozenset(
    "relu relu_ relu6 hardtanh hardtanh_ clamp clamp_ clamp_min clamp_min_ clamp_max clamp_max_ clip clip_ threshold threshold_ "
    "gelu silu silu_ sigmoid sigmoid_ tanh tanh_ softplus elu elu_ leaky_relu leaky_relu_ selu selu_ celu celu_ mish hardswish "
    "hardsigmoid logsigmoid softsign tanhshrink hardshrink softshrink".split()
)
"""Element-wise activation functions (by ``__name__``): Rescale for DeepLift, the identity rule for LRP."""

ELEMENTWISE_MATH = frozenset(
    "exp exp_ exp2 log log_ log2 log10 log1p expm1 sqrt sqrt_ rsqrt rsqrt_ reciprocal reciprocal_ abs abs_ neg sin cos "
    "erf erfc square pow pow_ __pow__ __rpow__ __rtruediv__ __rdiv__ float_power".split()
)
"""Element-wise functions of one attributed tensor that DeepLift rescales like activations."""

PRODUCTS = frozenset("mul __mul__ __rmul__ multiply matmul __matmul__ __rmatmul__ bmm mm einsum".split())
DIVISIONS = frozenset("div __truediv__ true_divide divide __div__".split())
SOFTMAX = frozenset({"softmax", "_softmax"})
MAX_POOLS = frozenset({"max_pool1d", "max_pool2d", "max_pool3d"})
_POOL = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
REFUSED = frozenset(
    "max amax min amin maximum minimum fmax fmin max_pool1d_with_indices "
    "max_pool2d_with_indices max_pool3d_with_indices adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d "
    "fractional_max_pool2d fractional_max_pool3d lp_pool1d lp_pool2d logsumexp norm std var std_mean var_mean prod "
    "sort topk cumprod median atan2 log_softmax".split()
)
"""Nonlinear functions DeepLift has no rule for: refused when they touch the attributed path."""

RULED = ACTIVATIONS | SOFTMAX | PRODUCTS | {"scaled_dot_product_attention", "layer_norm", "rms_norm"}
"""Every function with an LRP rule; any other call is ordinary, whatever its arguments."""
RULED_PAIRED = RULED | ELEMENTWISE_MATH | MAX_POOLS | REFUSED | DIVISIONS
"""Every function DeepLift has a rule for or refuses."""

_SDPA = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
_NORM = ("input", "normalized_shape", "weight", "bias", "eps")


def graded(value: Any) -> bool:
    """Whether ``value`` is a floating tensor on the attributed path (parameters are frozen while rules run)."""
    return isinstance(value, Tensor) and value.requires_grad and value.dtype.is_floating_point


def _put(args: Sequence[Any], position: int, value: Any) -> tuple[Any, ...]:
    return tuple(value if i == position else a for i, a in enumerate(args))


def _in_place(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    trailing = name.endswith("_") and not name.endswith("__")
    return trailing or kwargs.get("inplace") is True or any(a is True for a in args[1:])


def derivative_of(func: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """The derivative of an element-wise ``func`` at ``x``, on a detached copy (``func`` may work in place)."""
    with torch.enable_grad():
        leaf = x.detach().requires_grad_(True)
        value = func(leaf * 1)
        if not value.requires_grad:
            return torch.zeros_like(leaf)
        (derivative,) = torch.autograd.grad(value.sum(), leaf, allow_unused=True)
    return torch.zeros_like(leaf) if derivative is None else derivative


class NonlinearFunctions:
    """DeepLift's (with :class:`~.reference.PairedRows`) or LRP's (with :class:`~.reference.ZeroReference`) function rules.

    ``where`` names the module now running (for errors); ``inside_module`` says whether any module
    is running (a softmax outside every module belongs to an output transform, not to attention).
    """

    def __init__(self, reference: Reference, splits: Splits | None = None) -> None:
        self.reference = reference
        self.splits = splits
        """RevealCancel's record of split layer outputs (``None``: Rescale everywhere)."""
        self.where: Callable[[], str] = lambda: "the forward"
        self.inside_module: Callable[[], bool] = lambda: False
        self.ruled = RULED_PAIRED if reference.paired else RULED

    def handle(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """The call's value through its rule, or :data:`~.surrogates.ORDINARY` for a call differentiated as usual.

        Most calls of a forward (reshapes, additions, indexing, linear layers) have no rule: their
        name settles them before any argument is looked at.
        """
        name = getattr(func, "__name__", "")
        if name not in self.ruled or not torch.is_grad_enabled():
            return ORDINARY
        positions = [i for i, a in enumerate(args) if graded(a)]
        keywords = any(graded(v) for v in kwargs.values())
        if not positions and not keywords:
            return ORDINARY
        paired = self.reference.paired
        single = positions == [0] and not keywords
        if single and (name in ACTIVATIONS or paired and name in ELEMENTWISE_MATH):
            return self.rescale(func, args, kwargs, name)
        if single and name in SOFTMAX:
            return self._softmax(func, args, kwargs)
        if name == "scaled_dot_product_attention":
            return self._attention(func, args, kwargs)
        if single and name in ("layer_norm", "rms_norm"):
            return self._norm(func, args, kwargs, centred=name == "layer_norm")
        if name in PRODUCTS and len(positions) == 2:
            return self.bilinear(func, args, kwargs)
        if single and paired and name in MAX_POOLS:
            return self._max_pool(func, args, kwargs, name)
        if paired and (
            name in REFUSED
            or name in DIVISIONS
            and len(args) > 1
            and graded(args[1])
            or name in ACTIVATIONS | ELEMENTWISE_MATH | SOFTMAX
            or name in PRODUCTS
            and len(positions) > 2
        ):
            raise InvalidInputError(
                f"DeepLift has no rule for {name} on the attributed path in {self.where()}: its multipliers would be silently "
                "wrong and the attributions would not add up. Attribute at a layer after it (LayerDeepLift), or use LRP or "
                "IntegratedGradients for this model"
            )
        return ORDINARY

    def rescale(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any], name: str) -> Tensor:
        """An element-wise call whose derivative is its Rescale multiplier (in place when the call was)."""
        x, inplace = args[0], _in_place(name, args, kwargs)
        elementwise = lambda t: func(t, *args[1:], **kwargs)  # noqa: E731
        slope = lambda: derivative_of(elementwise, x)  # noqa: E731
        split = self.splits.take(x, inplace) if self.splits is not None and name in ACTIVATIONS else None
        if split is not None:
            return reveal_cancel(elementwise, x, split, self.reference, slope, self.where, inplace)
        with torch.no_grad():
            value = elementwise(x.detach().clone())
        return scaled(x, value, self.reference.multiplier(x, value, slope, self.where), inplace)

    def bilinear(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Tensor:
        """A product of two attributed tensors, each differentiated with the other at its midpoint."""
        positions = [i for i, a in enumerate(args) if graded(a)]
        if len(positions) < 2:
            return func(*args, **kwargs)
        i, j = positions
        with torch.no_grad():
            value = func(*args, **kwargs)
        middle_i = self.reference.midpoint(args[i].detach(), self.where)
        middle_j = self.reference.midpoint(args[j].detach(), self.where)
        surrogate = func(*_put(args, j, middle_j), **kwargs) + func(*_put(args, i, middle_i), **kwargs)
        return substitute(value, surrogate)

    def _softmax(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """DeepLift: written as exponentials over their sum (complete). LRP: a constant inside the model, ordinary outside it.

        With the attention probabilities constant, ``softmax(QK^T) V`` is linear in the values and
        conserves relevance exactly (Ali et al., 2022); the rescaled softmax has no meaningful
        zero reference, so LRP does not use it. A softmax outside every module is an output
        transform (explaining probabilities): it keeps its gradient.
        """
        if not self.reference.paired:
            if not self.inside_module():
                return ORDINARY
            with torch.no_grad():
                return func(*args, **kwargs)
        with torch.no_grad():
            value = func(*args, **kwargs)
        x = args[0]
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if not isinstance(dim, int):
            raise InvalidInputError(f"softmax without an explicit dim in {self.where()}: DeepLift needs to know its axis")
        # exp(z - c) / sum(exp(z - c)) with one shift c per pair: Rescale of exp and of the reciprocal, a product
        # of the two; exactly complete with multipliers bounded by the mean value theorem (a Rescale of softmax
        # itself, dy_i / dz_i, is also complete but explodes where z_i barely moves and y_i does).
        shift = self.reference.shared_max(x.detach(), dim, self.where)
        shifted = x - torch.where(torch.isfinite(shift), shift, torch.zeros_like(shift))
        exponentials = self.rescale(torch.exp, (shifted,), {}, "exp")
        inverse = self.rescale(torch.reciprocal, (exponentials.sum(dim, keepdim=True),), {}, "reciprocal")
        return substitute(value, self.bilinear(torch.mul, (exponentials, inverse), {}))

    def _max_pool(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any], name: str) -> Tensor:
        """DeepLift's max-pooling rule (as Captum's): each window's change, routed to the maxima of input and baseline.

        A window's output change ``max_x - max_b`` is split at ``m = max(max_x, max_b)`` into
        ``m - max_b`` (through the input's arg-max) and ``max_x - m`` (through the baseline's); each
        element receives what reaches it divided by its own change (its gradient where that is ~0).
        """
        bound = dict(zip(_POOL, args)) | dict(kwargs)
        if bound.get("return_indices"):
            raise InvalidInputError(f"max pooling that returns its indices in {self.where()} has no DeepLift rule")
        x = bound["input"]
        pool = getattr(torch.nn.functional, f"{name}_with_indices")
        with torch.no_grad():
            value, indices = pool(x.detach(), *(bound.get(k) for k in _POOL[1:6] if k != "return_indices"))
            top = torch.maximum(value, self.reference.partner(value, self.where))
            is_input = torch.arange(value.shape[0], device=value.device).remainder(2).eq(0)
            is_input = is_input.reshape(-1, *([1] * (value.dim() - 1)))
            partner = self.reference.partner(value, self.where)
            change = torch.where(is_input, top - partner, partner - top)
        return _MaxPoolRule.apply(x, value, indices, change, self.reference.difference(x.detach(), self.where), self.reference)

    def _attention(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """Fused attention: LRP keeps only the value path; DeepLift writes it out as products and a softmax."""
        bound = dict(zip(_SDPA, args)) | dict(kwargs)
        query, key, value = bound["query"], bound["key"], bound["value"]
        if not self.reference.paired:
            return func(query.detach(), key.detach(), value, *args[3:], **kwargs)
        if bound.get("dropout_p"):
            raise InvalidInputError(f"attention dropout is on in {self.where()}: put the model in eval mode for DeepLift")
        if bound.get("enable_gqa"):
            repeat = query.shape[-3] // key.shape[-3]
            key, value = key.repeat_interleave(repeat, -3), value.repeat_interleave(repeat, -3)
        scale = bound.get("scale") or 1 / math.sqrt(query.shape[-1])
        scores = self.bilinear(torch.matmul, (query, key.transpose(-2, -1)), {}) * scale
        if bound.get("is_causal"):
            causal = torch.ones(query.shape[-2], key.shape[-2], dtype=torch.bool, device=query.device).tril()
            scores = scores.masked_fill(~causal, float("-inf"))
        mask = bound.get("attn_mask")
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        probabilities = self._softmax(torch.softmax, (scores, -1), {})
        return self.bilinear(torch.matmul, (probabilities, value), {})

    def _norm(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any], centred: bool) -> Tensor:
        """``layer_norm`` / ``rms_norm``: LRP holds the normalising scale constant; DeepLift writes the norm out."""
        bound = dict(zip(_NORM, args)) | dict(kwargs)
        x, weight = bound["input"], bound.get("weight")
        dims = tuple(range(-len(bound["normalized_shape"]), 0))
        eps = bound.get("eps")
        eps = (1e-5 if centred else torch.finfo(x.dtype).eps) if eps is None else eps
        with torch.no_grad():
            value = func(*args, **kwargs)
            spread = x.var(dims, unbiased=False, keepdim=True) if centred else x.pow(2).mean(dims, keepdim=True)
            scale = (spread + eps).rsqrt() * (1 if weight is None else weight)  # LRP's constant scale
        inner = x - x.mean(dims, keepdim=True) if centred else x
        if not self.reference.paired:
            return substitute(value, inner * scale)
        # DeepLift: inner * rsqrt(mean(inner^2) + eps), each piece by its rule, so the change of the scale between
        # input and baseline is attributed too (holding it constant would break completeness)
        squares = self.rescale(torch.pow, (inner, 2), {}, "pow").mean(dims, keepdim=True)
        inverse = self.rescale(torch.rsqrt, (squares + eps,), {}, "rsqrt")
        normalised = self.bilinear(torch.mul, (inner, inverse), {})
        return substitute(value, normalised * (1 if weight is None else weight.detach()))


def _unpool(values: Tensor, indices: Tensor, shape: torch.Size) -> Tensor:
    """Scatter pooled ``values`` back to the input positions ``indices`` (flat per channel), summing overlaps."""
    flat = torch.zeros((*shape[:2], math.prod(shape[2:])), dtype=values.dtype, device=values.device)
    return flat.scatter_add_(2, indices.flatten(2), values.flatten(2)).reshape(shape)


class _MaxPoolRule(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, value: Tensor, indices: Tensor, change: Tensor, delta_in: Tensor, reference: Any) -> Tensor:
        ctx.save_for_backward(indices, change, delta_in)
        ctx.shape, ctx.reference = x.shape, reference
        return value.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None, None, None]:
        indices, change, delta_in = ctx.saved_tensors
        routed = _unpool(grad * change, indices, ctx.shape)
        both = routed + ctx.reference.partner(routed, lambda: "max pooling")
        ordinary = _unpool(grad, indices, ctx.shape)
        small = ~(delta_in.abs() >= 1e-10)
        return torch.where(small, ordinary, both / torch.where(small, torch.ones_like(delta_in), delta_in)), None, None, None, None, None
