"""Perturbation attribution: feature ablation, occlusion, Shapley values, KernelSHAP and LIME.

Every method evaluates the model on *coalitions* of features (see :mod:`.evaluator`); a
:class:`Perturber` turns a coalition into model inputs (by default :class:`MaskedBaseline`).
"""

from .ablation import FeatureAblation
from .features import Features, resolve_features
from .kernel_shap import KernelShap, KernelShapOptions
from .layer_ablation import LayerFeatureAblation
from .lime import Lime, LimeOptions
from .method import FeatureKwargs, PerturbationKwargs, PerturbationMethod
from .neuron_ablation import NeuronFeatureAblation
from .occlusion import Occlusion, OcclusionOptions
from .permutation import FeaturePermutation
from .perturbers import MaskedBaseline, Perturber
from .shapley import ShapleyValues, ShapleyValuesOptions
from .shapley_sampling import ShapleyValueSampling, ShapleyValueSamplingOptions

__all__ = [
    "FeatureAblation",
    "FeatureKwargs",
    "FeaturePermutation",
    "Features",
    "KernelShap",
    "KernelShapOptions",
    "LayerFeatureAblation",
    "Lime",
    "LimeOptions",
    "MaskedBaseline",
    "NeuronFeatureAblation",
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
