"""The attribution methods the text front end offers, and how each turns a batch into token scores.

Gradient methods run at the word-embedding layer; ``"sum"`` over the hidden dimension keeps an
additive method additive (completeness carries over to tokens and words), ``"l2"`` gives the
size of an unsigned gradient. Perturbation methods take words as features through a
word-presence vector (:mod:`limelight.text.presence`); a word's score is shared equally among
its tokens, so summing tokens gives the word's score back. Methods are keyed by the engine's
names (:mod:`limelight.engine.names`, whose aliases such as ``"shapley"`` resolve to them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ..engine import (
    Attribution,
    FeatureAblation,
    InputXGradient,
    KernelShap,
    LayerDeepLift,
    LayerIntegratedGradients,
    LayerLRP,
    Lime,
    NoiseTunnel,
    Occlusion,
    Saliency,
    ShapleyValues,
)
from ..engine.names import canonical_name
from ..engine.result import PerturbationExtras
from ..errors import InvalidInputError
from .presence import presence_forward


@dataclass(frozen=True)
class Batch:
    """One padded batch of texts, ready for a method: ``(rows, width)`` tensors on the model's device.

    ``word_index`` maps each token to its word (``-1`` for special tokens and padding);
    ``baseline_ids`` are the baseline's tokens (``None`` for the zero and delete baselines);
    ``layer_baselines`` are word-embedding baselines (the zero baseline only).
    """

    ids: Tensor
    model_kwargs: dict[str, Tensor]
    word_index: Tensor
    baseline_ids: Tensor | None
    layer_baselines: Tensor | None
    target: Any


@dataclass(frozen=True)
class Setting:
    """What a method needs to be built: the model, its word-embedding layer, the explained output.

    ``trim_padding``: the output is per text, so perturbed rows may drop trailing padding (:mod:`.presence`).
    """

    model: nn.Module
    layer: nn.Module
    output: Callable[[Any], Tensor]
    pad_id: int
    delete: bool
    trim_padding: bool = False


@dataclass(frozen=True)
class GradientTextMethod:
    """A gradient method at the embedding layer, reduced over the hidden dimension."""

    build: Callable[[Setting], Any]
    reduce: str
    defaults: dict[str, Any] = field(default_factory=dict)
    uses_baseline: bool = False
    additive: bool = True
    predicts: bool = False
    """Its one forward runs exactly the batch's rows at their input and hands its output to ``observe``, so the
    prediction is read from it instead of from a forward of its own (:mod:`.prediction`)."""

    def run(
        self, engine: Any, batch: Batch, options: dict[str, Any], observe: Callable[[Any], None] | None = None
    ) -> tuple[Tensor, Attribution]:
        given: dict[str, Any] = {} if observe is None else {"observe": observe}
        if self.uses_baseline:
            given.update(
                {"layer_baselines": batch.layer_baselines} if batch.layer_baselines is not None else {"baselines": batch.baseline_ids}
            )
        result = engine.attribute(batch.ids, target=batch.target, forward_kwargs=batch.model_kwargs, **given, **options)
        values = result.attributions.to(torch.float64)
        return (values.sum(-1) if self.reduce == "sum" else values.norm(dim=-1)), result


@dataclass(frozen=True)
class PerturbationTextMethod:
    """A perturbation method over the words of each text."""

    method: type
    defaults: dict[str, Any] = field(default_factory=dict)
    uses_baseline: bool = True
    additive: bool = True

    @property
    def needs_equal_word_counts(self) -> bool:
        """Occlusion's windows slide over the batch's widest text, so only texts of one word count share a run."""
        return self.method is Occlusion

    def build(self, setting: Setting) -> Any:
        forward = presence_forward(setting.model, setting.pad_id, setting.delete, setting.trim_padding)
        return self.method(forward, output=setting.output)

    predicts = False
    """Its forwards run perturbed rows: the prediction at the input needs a forward of its own."""

    def run(self, engine: Any, batch: Batch, options: dict[str, Any]) -> tuple[Tensor, Attribution]:
        counts = (batch.word_index.max(1).values + 1).clamp(min=0)
        width = max(int(counts.max()), 1)
        columns = torch.arange(width, device=batch.ids.device)
        presence = torch.ones((batch.ids.shape[0], width), device=batch.ids.device)
        feature_mask = torch.where(columns < counts.unsqueeze(1), columns, torch.full_like(columns, -1))
        mask_kwargs = {} if self.method is Occlusion else {"feature_mask": feature_mask}
        if self.method is Occlusion:  # a window wider than the text is one clipped window over all of it
            options = {**options, **_fit_windows(options, width)}
        extra = (
            batch.ids,
            batch.model_kwargs["attention_mask"],
            batch.word_index,
            batch.ids if batch.baseline_ids is None else batch.baseline_ids,
            batch.model_kwargs.get("token_type_ids"),
        )
        result = engine.attribute(presence, baselines=0.0, target=batch.target, additional_forward_args=extra, **mask_kwargs, **options)
        word_scores = result.extras.feature_scores if isinstance(result.extras, PerturbationExtras) else result.attributions
        return spread_over_tokens(word_scores.to(torch.float64), batch.word_index), result


def _fit_windows(options: dict[str, Any], width: int) -> dict[str, Any]:
    """Occlusion's word windows (and strides) no wider than the texts, as the engine clips a last window at the end."""
    window = options.get("sliding_window_shapes")
    if not (isinstance(window, tuple) and len(window) == 1 and isinstance(window[0], int)):
        return {}
    return {"sliding_window_shapes": (min(window[0], width),)}


def spread_over_tokens(word_scores: Tensor, word_index: Tensor) -> Tensor:
    """Token scores that share each word's score equally among its tokens (0 for special tokens)."""
    index = word_index.clamp(min=0)
    sizes = torch.zeros_like(word_scores).scatter_add_(1, index, (word_index >= 0).to(word_scores.dtype))
    shared = word_scores.gather(1, index) / sizes.gather(1, index).clamp(min=1)
    return torch.where(word_index >= 0, shared, torch.zeros_like(shared))


TEXT_METHODS: dict[str, GradientTextMethod | PerturbationTextMethod] = {
    "integrated_gradients": GradientTextMethod(
        lambda s: LayerIntegratedGradients(s.model, s.layer, output=s.output),
        "sum",
        {"n_steps": "auto", "tolerance": 1e-2},
        uses_baseline=True,
    ),
    "input_x_gradient": GradientTextMethod(lambda s: InputXGradient(s.model, s.layer, output=s.output), "sum"),
    # one backward pass each (engine/propagation): DeepLift against the baseline, LRP with the transformer composite
    "deeplift": GradientTextMethod(lambda s: LayerDeepLift(s.model, s.layer, output=s.output), "sum", uses_baseline=True),
    "lrp": GradientTextMethod(lambda s: LayerLRP(s.model, s.layer, output=s.output), "sum", predicts=True),
    "saliency": GradientTextMethod(lambda s: Saliency(s.model, s.layer, output=s.output), "l2", {"abs": False}, additive=False),
    "noise_tunnel": GradientTextMethod(
        lambda s: NoiseTunnel(Saliency(s.model, s.layer, output=s.output)),
        "l2",
        {"abs": False, "nt_samples": 20, "stdevs": 0.01, "seed": 0},
        additive=False,
    ),
    "feature_ablation": PerturbationTextMethod(FeatureAblation),
    "occlusion": PerturbationTextMethod(Occlusion, {"sliding_window_shapes": (3,)}),
    "shapley_values": PerturbationTextMethod(ShapleyValues),
    # the most accurate sampled estimator per model evaluation (benchmarks/shapley_accuracy.py: paired, stratified by size,
    # regression-adjusted): 256 rows per text (254 coalitions besides the empty and full ones), exact up to 8 words
    "shapley_value_sampling": PerturbationTextMethod(
        KernelShap, {"seed": 0, "sampling": "stratified", "regression_adjusted": True, "n_samples": 254}
    ),
    "kernel_shap": PerturbationTextMethod(KernelShap, {"seed": 0}),
    "lime": PerturbationTextMethod(Lime, {"seed": 0}),
}


"""Text methods by engine name; ``"noise_tunnel"`` is SmoothGrad over saliency (alias ``"smoothgrad"``)."""


def text_method_name(name: str) -> str:
    """The engine name of the text method ``name`` (an alias resolves); the error lists the text methods."""
    try:
        canonical = canonical_name(name)
    except InvalidInputError:
        canonical = name
    if canonical not in TEXT_METHODS:
        raise InvalidInputError(f"unknown method {name!r}; choose one of {sorted(TEXT_METHODS)} (or an alias such as 'shapley')")
    return canonical
