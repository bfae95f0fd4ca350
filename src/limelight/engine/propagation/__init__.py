"""Propagation methods: the forward as it is, a backward pass changed by rules.

:mod:`.context` holds the one mechanism: a :class:`~.context.Propagation` that intercepts torch
function calls and hooks modules while a ``with`` block runs, and removes everything when it ends.
Rules are small objects: function rules (:mod:`.functions` for DeepLift and LRP,
:mod:`.rectifiers` for guided backpropagation and deconvolution) and LRP layer rules
(:mod:`.layers`) grouped into composites (:mod:`.composites`), applied to a model whose BatchNorms
a canonizer merged into the layers before them (:mod:`.canonizers`); DeepLift's RevealCancel rule splits
layer outputs into positive and negative changes (:mod:`.reveal_cancel`). Methods: DeepLift, DeepLiftShap,
LayerDeepLift (:mod:`.deeplift`), LRP, LayerLRP (:mod:`.lrp`), GuidedBackprop, Deconvolution
(:mod:`.guided`), GuidedGradCam; NeuronDeepLift, NeuronDeepLiftShap, NeuronLRP (:mod:`.neurons`).
"""

from .canonizers import BatchNormCanonizer, Canonization
from .composites import COMPOSITES, Composite, epsilon_gamma_box
from .context import Propagation, modified_backward
from .deeplift import DeepLift, DeepLiftOptions, DeepLiftShap, LayerDeepLift
from .guided import Deconvolution, GuidedBackprop
from .guided_grad_cam import GuidedGradCam, GuidedGradCamOptions
from .layers import AlphaBeta, Epsilon, Flat, Gamma, LayerRule, WSquare, ZBox, ZPlus
from .lrp import LRP, LayerLRP, LRPOptions
from .neurons import NeuronDeepLift, NeuronDeepLiftShap, NeuronLRP

__all__ = [
    "COMPOSITES",
    "LRP",
    "AlphaBeta",
    "BatchNormCanonizer",
    "Canonization",
    "Composite",
    "Deconvolution",
    "DeepLift",
    "DeepLiftOptions",
    "DeepLiftShap",
    "Epsilon",
    "Flat",
    "Gamma",
    "GuidedBackprop",
    "GuidedGradCam",
    "GuidedGradCamOptions",
    "LRPOptions",
    "LayerDeepLift",
    "LayerLRP",
    "LayerRule",
    "NeuronDeepLift",
    "NeuronDeepLiftShap",
    "NeuronLRP",
    "Propagation",
    "WSquare",
    "ZBox",
    "ZPlus",
    "epsilon_gamma_box",
    "modified_backward",
]
