"""Propagation methods: the forward as it is, a backward pass changed by rules.

:mod:`.rules` holds the one mechanism (:func:`~.rules.modified_backward`) that every
propagation method uses; guided backpropagation, deconvolution and guided GradCAM are built on it.
"""

from .guided import Deconvolution, GuidedBackprop
from .guided_grad_cam import GuidedGradCam, GuidedGradCamOptions
from .rules import modified_backward

__all__ = ["Deconvolution", "GuidedBackprop", "GuidedGradCam", "GuidedGradCamOptions", "modified_backward"]
