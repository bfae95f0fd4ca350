"""Perturbation attribution: feature ablation, occlusion, Shapley values, KernelSHAP and LIME.

Every method evaluates the model on *coalitions* of features (see :mod:`.evaluator`); a
:class:`Perturber` turns a coalition into model inputs (by default :class:`MaskedBaseline`).
"""

from .ablation import FeatureAblation
from .features import Features, resolve_features
from .kernel_shap import KernelShap
from .lime import Lime
from .method import PerturbationMethod
from .occlusion import Occlusion
from .perturbers import MaskedBaseline, Perturber
from .shapley import ShapleyValues
from .shapley_sampling import ShapleyValueSampling

__all__ = [
    "FeatureAblation",
    "Features",
    "KernelShap",
    "Lime",
    "MaskedBaseline",
    "Occlusion",
    "PerturbationMethod",
    "Perturber",
    "ShapleyValueSampling",
    "ShapleyValues",
    "resolve_features",
]
