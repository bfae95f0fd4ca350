"""Canonizers: rewrite a model into an equivalent one whose layers LRP's rules fit (zennit's idea, our code).

LRP's layer rules (z+, alpha-beta, gamma) read a layer's own weights, but a ``BatchNorm`` after a
convolution rescales each of its channels, possibly by a negative factor, and shifts it, and the
shift absorbs relevance (Montavon et al., 2019, "Layer-wise relevance propagation: an overview",
section 10.4). :class:`BatchNormCanonizer` merges every eval-mode ``BatchNorm1d/2d/3d`` into the
linear or convolution layer whose output feeds only it, for the duration of a ``with`` block:

``W' = W * s`` per output channel, ``b' = (b - mean) * s + beta`` with ``s = gamma / sqrt(var + eps)``,

and the BatchNorm passes its input through. The merged layer computes what the pair computed, so
the model's output is unchanged (checked), and the rules then see the weights that act on the input.

The pairs are found from behaviour: one probe forward is traced with hooks on every module and
an interception of every torch function call, which records which layer output each BatchNorm
reads and who else reads it. A BatchNorm whose input is not a layer output, or whose layer's
output is also used elsewhere (a residual sum, the attributed layer's value, the model's output),
or whose layer shares its weight with another module, is left as it is and reported in
:attr:`Canonization.kept`; this is never wrong, only as little conservative as before. A
BatchNorm in training mode (or without running statistics) normalises with the batch's own
statistics and is refused with a :class:`~limelight.errors.LayerError`. Parameters are swapped on
the module instances (the original ``Parameter`` objects are put back, untouched, when the block
ends, normally or by an exception); no class or module source is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves

from ...errors import InvalidInputError, LayerError
from .context import _modules_once

_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
"""Layers a BatchNorm can be merged into: their weight's first dimension is the output channel."""


@dataclass(frozen=True)
class Canonization:
    """What a canonizer did: the BatchNorms merged (by name) and those kept, each with the reason."""

    merged: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Pair:
    """A BatchNorm, the layer it merges into, and the parameters and statistics that merging reads."""

    layer: nn.Module
    norm_name: str
    norm: _BatchNorm
    weight: nn.Parameter
    bias: nn.Parameter | None
    mean: Tensor
    var: Tensor


class _Trace(TorchFunctionMode):
    """One forward, watched: each module's outputs and inputs, and which running module reads each tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.running: list[nn.Module] = []
        self.outputs: dict[nn.Module, list[Tensor]] = {}
        self.inputs: dict[nn.Module, list[Tensor]] = {}
        self.readers: dict[int, set[int]] = {}
        """``id(tensor)`` of every layer output -> ``id`` of each module (0: none) that passed it to a torch function."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        value = func(*args, **kwargs)
        if not any(isinstance(v, Tensor) for v in tree_leaves(value)):
            return value  # a size or shape query
        reader = id(self.running[-1]) if self.running else 0
        for leaf in tree_leaves((args, kwargs)):
            if isinstance(leaf, Tensor) and id(leaf) in self.readers:
                self.readers[id(leaf)].add(reader)
        return value

    def hook(self, module: nn.Module, layer: bool) -> list[Any]:
        def enter(m: nn.Module, args: Any) -> None:
            self.inputs.setdefault(module, []).extend(a for a in tree_leaves(args) if isinstance(a, Tensor))
            self.running.append(module)

        def leave(m: nn.Module, args: Any, output: Any) -> None:
            self.running.pop()
            self.outputs.setdefault(module, []).extend(o for o in tree_leaves(output) if isinstance(o, Tensor))
            if layer and isinstance(output, Tensor):
                self.readers.setdefault(id(output), set())

        return [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]


class BatchNormCanonizer:
    """Merge eval-mode BatchNorms into the linear or convolution layer that feeds each (see the module docstring).

    ``tolerance``: the largest change of the probe's output, relative to its largest magnitude,
    that merging may cause (float rounding; at least 50 machine epsilons of the output's dtype, so
    half precision gets about 0.05); a larger one is refused with a :class:`LayerError`.
    """

    def __init__(self, tolerance: float = 1e-4) -> None:
        if not 0 < tolerance < 1:
            raise InvalidInputError(f"tolerance must be in (0, 1), a fraction of the output's size, got {tolerance!r}")
        self.tolerance = float(tolerance)

    @contextmanager
    def applied(
        self, roots: list[nn.Module], probe: Callable[[], Tensor], layer: nn.Module | None = None, at_input: bool = False
    ) -> Iterator[Canonization]:
        """While the block runs, the modules of ``roots`` with their BatchNorms merged.

        ``probe`` runs the explained forward on a few rows and returns its output; it is traced
        once to find the pairs and run once more to check the merged output. ``layer`` is the
        attributed layer (its inputs with ``at_input``): a pair whose layer output is that value
        is kept, since merging would change it.
        """
        names = dict((module, name or "<root>") for name, module in _modules_once(roots))
        if not any(isinstance(m, _BatchNorm) for m in names):
            yield Canonization()
            return
        _refuse_batch_statistics(names)
        pairs, kept, plain = self._pairs(names, probe, layer, at_input)
        self._check(pairs, probe, plain)
        with ExitStack() as stack:
            for pair in pairs:
                stack.enter_context(_merged(pair))
            yield Canonization(tuple(p.norm_name for p in pairs), kept)

    def _pairs(
        self, names: dict[nn.Module, str], probe: Callable[[], Tensor], layer: nn.Module | None, at_input: bool
    ) -> tuple[list[_Pair], tuple[str, ...], Tensor]:
        """The pairs to merge, the BatchNorms kept (with why), and the probe's plain output."""
        trace = _Trace()
        handles = [h for m in names for h in trace.hook(m, isinstance(m, _LAYERS))]
        try:
            with torch.no_grad(), trace:
                plain = probe()
        finally:
            for handle in handles:
                handle.remove()
        source = {id(t): m for m in names if isinstance(m, _LAYERS) for t in trace.outputs.get(m, [])}
        attributed = {id(t) for t in (trace.inputs if at_input else trace.outputs).get(layer, [])} if layer is not None else set()
        owners: dict[int, int] = {}
        for m in names:
            for p in m.parameters(recurse=False):
                owners[id(p)] = owners.get(id(p), 0) + 1
        pairs: list[_Pair] = []
        kept: list[str] = []
        for norm in (m for m in names if isinstance(m, _BatchNorm) and m in trace.inputs):
            mean, var = norm.running_mean, norm.running_var
            if mean is None or var is None:
                continue  # not reached: _refuse_batch_statistics refused it (this narrows the types)
            found = _layer_of(norm, trace, source, attributed | {id(plain)}, owners)
            if isinstance(found, str):
                kept.append(f"{names[norm]}: {found}")
            else:
                layer_module, weight, bias = found
                pairs.append(_Pair(layer_module, names[norm], norm, weight, bias, mean, var))
        return pairs, tuple(kept), plain

    def _check(self, pairs: list[_Pair], probe: Callable[[], Tensor], plain: Tensor) -> None:
        """Refuse, naming the BatchNorms, a merge that changes the probe's output beyond the tolerance."""
        if not pairs or self._close(pairs, probe, plain):
            return
        culprits = [p.norm_name for p in pairs if not self._close([p], probe, plain)] or [p.norm_name for p in pairs]
        raise LayerError(
            f"merging the BatchNorms {culprits} into the layers before them changed the model's output by more than "
            f"{self.tolerance:g} of its size: the forward uses those layers or BatchNorms in a way the trace did not see; "
            "pass canonize=False to explain the model as it is"
        )

    def _close(self, pairs: list[_Pair], probe: Callable[[], Tensor], plain: Tensor) -> bool:
        """Whether the probe's output with ``pairs`` merged is ``plain`` within the tolerance."""
        with ExitStack() as stack, torch.no_grad():
            for pair in pairs:
                stack.enter_context(_merged(pair))
            value = probe()
        scale = plain.abs().max().item() if plain.numel() else 0.0
        tolerance = max(self.tolerance, 50 * torch.finfo(plain.dtype).eps) if plain.dtype.is_floating_point else self.tolerance
        return value.shape == plain.shape and bool(((value - plain).abs() <= tolerance * max(scale, 1e-12)).all())


def _refuse_batch_statistics(names: dict[nn.Module, str]) -> None:
    """A BatchNorm that normalises with the batch's statistics cannot be merged (nor traced on one row)."""
    for norm in (m for m in names if isinstance(m, _BatchNorm)):
        if norm.training or norm.running_mean is None or norm.running_var is None:
            raise LayerError(
                f"BatchNorm {names[norm]!r} normalises with the statistics of the batch (training mode or no running "
                "statistics), so each row's relevance would depend on the others and it cannot be merged into the layer "
                "before it; explain in eval mode (eval_mode=True, the default) or pass canonize=False"
            )


def _layer_of(
    norm: _BatchNorm, trace: _Trace, source: Mapping[int, nn.Module], elsewhere: set[int], owners: dict[int, int]
) -> tuple[nn.Module, nn.Parameter, nn.Parameter | None] | str:
    """The layer ``norm`` merges into, with its weight and bias, or why there is none.

    ``elsewhere``: ids of tensors used outside the model's modules (the attributed layer's value,
    the probe's output); ``owners``: how many modules hold each parameter.
    """
    if type(norm).forward is not _BatchNorm.forward:
        return f"{type(norm).__name__} has its own forward"
    inputs = trace.inputs[norm]
    layers = {id(source.get(id(t))): source.get(id(t)) for t in inputs}
    layer = next(iter(layers.values()))
    if len(layers) != 1 or layer is None:
        return "its input is not the output of one linear or convolution layer"
    outputs = trace.outputs[layer]
    if {id(t) for t in outputs} != {id(t) for t in inputs}:
        return "its layer's output is also used without it (the layer runs more often)"
    if any(trace.readers[id(t)] - {id(norm)} or id(t) in elsewhere for t in outputs):
        return "its layer's output is also used elsewhere (a residual sum, the attributed layer, the model's output)"
    weight, bias = layer._parameters.get("weight"), layer._parameters.get("bias")
    if not isinstance(weight, nn.Parameter) or any(owners.get(id(p), 0) > 1 for p in (weight, bias) if p is not None):
        return "its layer's weight is computed or shared with another module"
    channels = 2 if isinstance(layer, nn.Linear) else weight.dim()
    if any(t.dim() != channels or t.shape[1] != weight.shape[0] for t in outputs) or norm.num_features != weight.shape[0]:
        return "its layer's output channels are not the BatchNorm's features"
    return layer, weight, bias


@contextmanager
def _merged(pair: _Pair) -> Iterator[None]:
    """``pair.layer`` with the BatchNorm's scale and shift in its parameters, the BatchNorm passing its input through."""
    layer, norm, weight, bias = pair.layer, pair.norm, pair.weight, pair.bias
    with torch.no_grad():
        scale = torch.rsqrt(pair.var.double() + norm.eps)
        shift = -pair.mean.double() * scale
        if norm.affine:
            scale, shift = scale * norm.weight.double(), shift * norm.weight.double() + norm.bias.double()
        merged_weight = weight.double() * scale.reshape(-1, *[1] * (weight.dim() - 1))
        merged_bias = shift if bias is None else bias.double() * scale + shift
    handle = norm.register_forward_hook(lambda m, args, output: args[0])
    try:
        layer.weight = nn.Parameter(merged_weight.to(weight.dtype), requires_grad=False)
        layer.bias = nn.Parameter(merged_bias.to(weight.dtype), requires_grad=False)
        yield
    finally:
        layer.weight = weight
        layer.register_parameter("bias", bias)
        handle.remove()
