"""Composites: which LRP rule each layer with weights gets, by name, by type, or by kind.

A :class:`Composite` maps a layer to a rule: a module's qualified name first (``"fc"``,
``"encoder.layer.0.output.dense"``), then its type, then its kind (``dense``: ``nn.Linear`` and
transformers' ``Conv1D``; ``conv``: ``nn.Conv1d/2d/3d``); ``first`` overrides all of them for a
layer that takes the model's input. Layers without a rule keep their ordinary gradient, which in
LRP's ``g`` convention is LRP-0. The nonlinear rules (activations, normalisation, attention,
products) are fixed per method (:mod:`.functions`, :mod:`.modules`) and shared by every composite.

Named composites (:data:`COMPOSITES`, :func:`composite`):

- ``"epsilon"``: LRP-epsilon everywhere;
- ``"epsilon_plus"``: z+ for convolutions, epsilon for dense layers (the CNN default);
- ``"epsilon_plus_flat"``: as ``epsilon_plus``, flat for the first layer;
- ``"epsilon_alpha2_beta1"``: alpha=2, beta=1 for convolutions, epsilon for dense layers;
- ``"epsilon_gamma_box"``: z-box on the first layer (inputs in ``[low, high]``), gamma for
  convolutions, epsilon for dense layers (build it with :func:`epsilon_gamma_box` for other bounds);
- ``"transformer"``: epsilon for every dense layer, with the transformer rules (the default for
  models with embeddings or normalisation layers);
- ``"transformer_gamma"``: gamma for the dense layers of a transformer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from torch import nn

from ...errors import InvalidInputError
from .layers import AlphaBeta, Epsilon, Flat, Gamma, LayerRule, ZBox, ZPlus, is_dense, layer_function


@dataclass(frozen=True)
class Composite:
    """Rules for layers with weights: by qualified name or type (``layers``), by kind, and for the first layer."""

    name: str = "custom"
    dense: LayerRule | None = None
    conv: LayerRule | None = None
    first: LayerRule | None = None
    layers: Mapping[str | type[nn.Module], LayerRule] = field(default_factory=dict)

    def rule_for(self, name: str, module: nn.Module, takes_input: bool) -> LayerRule | None:
        """The rule of one layer (``None``: ordinary gradient); ``takes_input``: it reads the model's input."""
        if layer_function(module) is None:
            return None
        if takes_input and self.first is not None:
            return self.first
        if name in self.layers:
            return self.layers[name]
        for kind in type(module).__mro__:
            if kind in self.layers:
                return self.layers[kind]
        return self.dense if is_dense(module) else self.conv

    def describe(self) -> str:
        """A one-line account of the rules, for results' settings."""
        parts = [f"{k}={v!r}" for k, v in (("first", self.first), ("conv", self.conv), ("dense", self.dense)) if v is not None]
        named = [f"{getattr(k, '__name__', k)}={v!r}" for k, v in self.layers.items()]
        return f"{self.name}({', '.join(parts + named)})"


def epsilon_gamma_box(low: float = -3.0, high: float = 3.0, epsilon: float = 1e-6, gamma: float = 0.25) -> Composite:
    """z-box on the first layer for inputs in ``[low, high]``, gamma on convolutions, epsilon on dense layers."""
    return Composite("epsilon_gamma_box", dense=Epsilon(epsilon), conv=Gamma(gamma), first=ZBox(low, high))


COMPOSITES: dict[str, Callable[[], Composite]] = {
    "epsilon": lambda: Composite("epsilon", dense=Epsilon(), conv=Epsilon()),
    "epsilon_plus": lambda: Composite("epsilon_plus", dense=Epsilon(), conv=ZPlus()),
    "epsilon_plus_flat": lambda: Composite("epsilon_plus_flat", dense=Epsilon(), conv=ZPlus(), first=Flat()),
    "epsilon_alpha2_beta1": lambda: Composite("epsilon_alpha2_beta1", dense=Epsilon(), conv=AlphaBeta(2.0, 1.0)),
    "epsilon_gamma_box": epsilon_gamma_box,
    "transformer": lambda: Composite("transformer", dense=Epsilon(), conv=Epsilon()),
    "transformer_gamma": lambda: Composite("transformer_gamma", dense=Gamma(0.25), conv=Gamma(0.25)),
}
"""The named composites (see the module docstring)."""


def composite(spec: str | Composite | None, modules: list[nn.Module]) -> Composite:
    """A composite from its name or itself; ``None`` picks the family default for the model's modules."""
    if isinstance(spec, Composite):
        return spec
    if spec is None:
        return COMPOSITES[default_composite(modules)]()
    if spec not in COMPOSITES:
        raise InvalidInputError(f"unknown LRP composite {spec!r}; choose one of {sorted(COMPOSITES)} or pass a Composite")
    return COMPOSITES[spec]()


def default_composite(modules: list[nn.Module]) -> str:
    """``"transformer"`` for models with embeddings or normalisation layers, ``"epsilon_plus"`` with convolutions, else ``"epsilon"``."""
    every = [m for root in modules for m in root.modules()]
    if any(isinstance(m, (nn.Embedding, nn.LayerNorm)) or type(m).__name__.endswith(("RMSNorm", "LayerNorm")) for m in every):
        return "transformer"
    if any(isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) for m in every):
        return "epsilon_plus"
    return "epsilon"
