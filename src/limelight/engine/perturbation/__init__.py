"""Perturbation attribution: feature ablation, occlusion, Shapley values, KernelSHAP and LIME.

Every method evaluates the model on *coalitions* of features (see :mod:`.evaluator`); a
:class:`Perturber` turns a coalition into model inputs (by default :class:`MaskedBaseline`).
"""

from .ablation import FeatureAblation
from .features import Features, resolve_features
from .kernel_shap import KernelShap, KernelShapOptions
from .lime import Lime, LimeOptions
from .method import FeatureKwargs, PerturbationKwargs, PerturbationMethod
from .occlusion import Occlusion, OcclusionOptions
from .perturbers import MaskedBaseline, Perturber
from .shapley import ShapleyValues, ShapleyValuesOptions
from .shapley_sampling import ShapleyValueSampling, ShapleyValueSamplingOptions

__all__ = [
    "FeatureAblation",
    "FeatureKwargs",
    "Features",
    "KernelShap",
    "KernelShapOptions",
    "Lime",
    "LimeOptions",
    "MaskedBaseline",
    "Occlusion",
    "OcclusionOptions",
    "PerturbationKwargs",
    "PerturbationMethod",
    "Perturber",
    "ShapleyValueSampling",
    "ShapleyValueSamplingOptions",
    "ShapleyValues",
    "ShapleyValuesOptions",
    "resolve_features",
]
