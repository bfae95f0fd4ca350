"""The attribution engine: gradient and perturbation methods, paths, targets and batching over any PyTorch forward."""

from .gradient_shap import GradientShap
from .gradients import InputXGradient, Saliency
from .integrated_gradients import IntegratedGradients, LayerIntegratedGradients
from .noise_tunnel import NoiseTunnel
from .perturbation import FeatureAblation, KernelShap, Lime, MaskedBaseline, Occlusion, Perturber, ShapleyValues, ShapleyValueSampling
from .result import Attribution
from .targets import Contrast

__all__ = [
    "Attribution",
    "Contrast",
    "FeatureAblation",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "KernelShap",
    "LayerIntegratedGradients",
    "Lime",
    "MaskedBaseline",
    "NoiseTunnel",
    "Occlusion",
    "Perturber",
    "Saliency",
    "ShapleyValueSampling",
    "ShapleyValues",
]
