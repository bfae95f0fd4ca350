"""The attribution engine: methods, paths, targets and batching over any PyTorch forward."""

from .gradient_shap import GradientShap
from .gradients import InputXGradient, Saliency
from .integrated_gradients import IntegratedGradients, LayerIntegratedGradients
from .noise_tunnel import NoiseTunnel
from .result import Attribution
from .targets import Contrast

__all__ = [
    "Attribution",
    "Contrast",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "LayerIntegratedGradients",
    "NoiseTunnel",
    "Saliency",
]
