"""The attribution engine: gradient and perturbation methods, paths, targets and batching over any PyTorch forward."""

from .evidence import BatchEvidence, Evidence, ExampleEvidence
from .gradient import GradientShap, InputXGradient, IntegratedGradients, LayerIntegratedGradients, NoiseTunnel, Saliency
from .gradient.grad_cam import LayerGradCam
from .names import canonical_name
from .perturbation import FeatureAblation, KernelShap, Lime, MaskedBaseline, Occlusion, Perturber, ShapleyValues, ShapleyValueSampling
from .propagation import Deconvolution, GuidedBackprop, GuidedGradCam
from .result import AdaptiveExtras, Attribution, NoiseTunnelExtras, PerturbationExtras, SurrogateFit
from .targets import Contrast

__all__ = [
    "AdaptiveExtras",
    "Attribution",
    "BatchEvidence",
    "Contrast",
    "Deconvolution",
    "Evidence",
    "ExampleEvidence",
    "FeatureAblation",
    "GradientShap",
    "GuidedBackprop",
    "GuidedGradCam",
    "InputXGradient",
    "IntegratedGradients",
    "KernelShap",
    "LayerGradCam",
    "LayerIntegratedGradients",
    "Lime",
    "MaskedBaseline",
    "NoiseTunnel",
    "NoiseTunnelExtras",
    "Occlusion",
    "PerturbationExtras",
    "Perturber",
    "Saliency",
    "ShapleyValueSampling",
    "ShapleyValues",
    "SurrogateFit",
    "canonical_name",
]
