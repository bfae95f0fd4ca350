"""Gradient methods: integrated gradients (at the inputs or a layer), saliency, input x gradient,
GradientSHAP, and the noise tunnel that wraps any of them; with their paths and quadrature rules."""

from .conductance import InternalInfluence, LayerConductance, LayerPathOptions
from .gradient_shap import GradientShap, GradientShapOptions
from .gradients import InputXGradient, Saliency, SaliencyOptions
from .integrated_gradients import IntegratedGradients, IntegratedGradientsOptions, LayerIntegratedGradients
from .layer_gradient_shap import LayerGradientShap
from .layer_methods import LayerActivation, LayerGradientXActivation, LayerGradientXActivationOptions
from .method import Call, Composable, GradientMethod
from .neuron import NeuronGradient, NeuronGradientShap, NeuronIntegratedGradients, NeuronMethod, NeuronOptions
from .neuron_conductance import NeuronConductance, NeuronConductanceOptions
from .neuron_selector import NeuronSelector
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
    "InternalInfluence",
    "LayerActivation",
    "LayerConductance",
    "LayerGradientShap",
    "LayerGradientXActivation",
    "LayerGradientXActivationOptions",
    "LayerIntegratedGradients",
    "LayerPathOptions",
    "NeuronConductance",
    "NeuronConductanceOptions",
    "NeuronGradient",
    "NeuronGradientShap",
    "NeuronIntegratedGradients",
    "NeuronMethod",
    "NeuronOptions",
    "NeuronSelector",
    "NoiseTunnel",
    "NoiseTunnelOptions",
    "Saliency",
    "SaliencyOptions",
]
