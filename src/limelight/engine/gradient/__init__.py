"""Gradient methods: integrated gradients (at the inputs or a layer), saliency, input x gradient,
GradientSHAP, and the noise tunnel that wraps any of them; with their paths and quadrature rules."""

from .gradient_shap import GradientShap, GradientShapOptions
from .gradients import InputXGradient, Saliency, SaliencyOptions
from .integrated_gradients import IntegratedGradients, IntegratedGradientsOptions, LayerIntegratedGradients
from .method import Call, Composable, GradientMethod
from .noise_tunnel import NoiseTunnel, NoiseTunnelOptions

__all__ = [
    "Call",
    "Composable",
    "GradientMethod",
    "GradientShap",
    "GradientShapOptions",
    "InputXGradient",
    "IntegratedGradients",
    "IntegratedGradientsOptions",
    "LayerIntegratedGradients",
    "NoiseTunnel",
    "NoiseTunnelOptions",
    "Saliency",
    "SaliencyOptions",
]
