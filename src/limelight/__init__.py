"""limelight: attributions for PyTorch models that are correct by construction.

Engine (any PyTorch forward): :class:`IntegratedGradients`, :class:`LayerIntegratedGradients`,
:class:`Saliency`, :class:`InputXGradient`, :class:`GradientShap`, :class:`NoiseTunnel`;
perturbations: :class:`FeatureAblation`, :class:`Occlusion`, :class:`ShapleyValues`,
:class:`ShapleyValueSampling`, :class:`KernelShap`, :class:`Lime`, :class:`FeaturePermutation`.
Inside the model (Captum's ``(forward, layer)`` shape): :class:`LayerActivation`, :class:`LayerConductance`,
:class:`InternalInfluence`, :class:`LayerGradientXActivation`, :class:`LayerGradientShap`,
:class:`LayerFeatureAblation`; neurons (``attribute(inputs, neuron_selector, ...)``): :class:`NeuronGradient`,
:class:`NeuronIntegratedGradients`, :class:`NeuronConductance`, :class:`NeuronGradientShap`,
:class:`NeuronFeatureAblation`, :class:`NeuronDeepLift`, :class:`NeuronDeepLiftShap`, :class:`NeuronLRP`.
Concepts: :class:`TCAV` (:class:`Concept` sets, :class:`TCAVResult` with
p-values); attention heads: :func:`limelight.text.head_importance` (docs/internals.md).
Text front end (Hugging Face classifiers): :func:`explain`, :class:`TextExplainer`,
:func:`demo_model`. Vision front end (image classifiers): :func:`limelight.vision.explain_image`,
:class:`ImageExplainer`, :func:`demo_image_model`; propagation and layer methods :class:`GuidedBackprop`,
:class:`Deconvolution`, :class:`LayerGradCam`, :class:`GuidedGradCam`, :class:`DeepLift`, :class:`DeepLiftShap`,
:class:`LayerDeepLift`, :class:`LRP`, :class:`LayerLRP`. Evaluation (which explanation to trust): :func:`compare` (texts) and :func:`compare_images` -> :class:`Comparison`;
metrics, rationale loaders and sanity checks in :mod:`limelight.evaluation`.
"""

from __future__ import annotations

from typing import Any

from . import influence as influence  # limelight.influence.TracInCP: which training examples made a prediction
from . import robust as robust  # limelight.robust.FGSM, PGD, MinimalPerturbation: how little flips a decision
from . import viz as viz  # registers the Jupyter views; the README's limelight.viz.save_html
from .engine import (
    LRP,
    TCAV,
    Attribution,
    Concept,
    Contrast,
    Deconvolution,
    DeepLift,
    DeepLiftShap,
    Evidence,
    FeatureAblation,
    FeaturePermutation,
    GradientShap,
    GuidedBackprop,
    GuidedGradCam,
    InputXGradient,
    IntegratedGradients,
    InternalInfluence,
    KernelShap,
    LayerActivation,
    LayerConductance,
    LayerDeepLift,
    LayerFeatureAblation,
    LayerGradCam,
    LayerGradientShap,
    LayerGradientXActivation,
    LayerIntegratedGradients,
    LayerLRP,
    Lime,
    NeuronConductance,
    NeuronDeepLift,
    NeuronDeepLiftShap,
    NeuronFeatureAblation,
    NeuronGradient,
    NeuronGradientShap,
    NeuronIntegratedGradients,
    NeuronLRP,
    NoiseTunnel,
    Occlusion,
    Saliency,
    ShapleyValues,
    ShapleyValueSampling,
    TCAVResult,
)
from .evaluation import Comparison, compare, compare_images
from .text.explainer import TextExplainer, explain
from .text.explanation import Explanation, Explanations
from .vision import ImageExplainer, ImageExplanation, ImageExplanations, explain_image

__version__ = "0.1.0"


def demo_model(name: str = "sentiment") -> tuple[Any, Any]:
    """An embedded demo classifier and its tokenizer (needs ``limelight[demo]``).

    ``"sentiment"`` (default): SST-2, labels negative/positive. ``"cola"``: CoLA grammatical
    acceptability, labels unacceptable/acceptable.
    """
    from .demo import demo_model as load

    return load(name)


def demo_image_model() -> tuple[Any, Any, list[str]]:
    """The demo image classifier (ImageNet EfficientNet-Lite0), its preprocessing and label names (needs ``limelight[vision]``)."""
    from .demo.image import demo_image_model as load

    return load()


def demo_llm() -> tuple[Any, Any]:
    """The demo causal LM, SmolLM2-135M-Instruct, and its tokenizer with chat template (needs ``limelight[llm]``); see :mod:`limelight.generation`."""
    from .demo.llm import demo_llm as load

    return load()


__all__ = [
    "Attribution",
    "Comparison",
    "Concept",
    "Contrast",
    "Deconvolution",
    "DeepLift",
    "DeepLiftShap",
    "Evidence",
    "Explanation",
    "Explanations",
    "ImageExplainer",
    "ImageExplanation",
    "ImageExplanations",
    "FeatureAblation",
    "FeaturePermutation",
    "GradientShap",
    "GuidedBackprop",
    "GuidedGradCam",
    "InputXGradient",
    "IntegratedGradients",
    "InternalInfluence",
    "KernelShap",
    "LayerActivation",
    "LayerConductance",
    "LayerDeepLift",
    "LayerFeatureAblation",
    "LayerGradCam",
    "LayerGradientShap",
    "LayerGradientXActivation",
    "LayerIntegratedGradients",
    "LayerLRP",
    "Lime",
    "LRP",
    "NeuronConductance",
    "NeuronDeepLift",
    "NeuronDeepLiftShap",
    "NeuronFeatureAblation",
    "NeuronGradient",
    "NeuronGradientShap",
    "NeuronIntegratedGradients",
    "NeuronLRP",
    "NoiseTunnel",
    "Occlusion",
    "Saliency",
    "ShapleyValueSampling",
    "ShapleyValues",
    "TCAV",
    "TCAVResult",
    "TextExplainer",
    "compare",
    "compare_images",
    "demo_model",
    "demo_image_model",
    "demo_llm",
    "explain",
    "explain_image",
]
