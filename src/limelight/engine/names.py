"""The one registry of method names and their aliases, for every layer.

A method's ``name`` (the class attribute) is its key here, the ``method`` of its results, and the
name front ends use for it. Aliases are older or other spellings that resolve to a name with
:func:`canonical_name`; no layer keeps its own mapping.

Captum-compatible spellings, kept where Captum users expect them:

- the integration rule of :class:`~limelight.engine.gradient.IntegratedGradients` and
  :class:`~limelight.engine.gradient.LayerIntegratedGradients` is ``rule=``; Captum's keyword
  ``method=`` (:data:`RULE_KEYWORD_ALIAS`) is accepted for it in ``attribute``. The rule names
  are Captum's: ``"gausslegendre"``, ``"riemann_left"``, ``"riemann_right"``,
  ``"riemann_middle"``, ``"riemann_trapezoid"`` (plus limelight's ``"adaptive_trapezoid"``, the
  rule of ``n_steps="auto"``);
- the noise tunnel's ``nt_type``, ``nt_samples`` and ``stdevs`` are Captum's, as are
  ``internal_batch_size``, ``additional_forward_args``, ``sliding_window_shapes`` and ``strides``.
"""

from __future__ import annotations

from ..errors import InvalidInputError

METHODS: dict[str, str] = {
    "integrated_gradients": "Integrated Gradients at the inputs (IntegratedGradients)",
    "layer_integrated_gradients": "Integrated Gradients at a layer (LayerIntegratedGradients)",
    "saliency": "the gradient at the input (Saliency)",
    "input_x_gradient": "input times gradient (InputXGradient)",
    "gradient_shap": "expected gradients over a baseline distribution (GradientShap)",
    "noise_tunnel": "SmoothGrad, SmoothGrad-squared or VarGrad over a gradient method (NoiseTunnel)",
    "feature_ablation": "leave one feature out (FeatureAblation)",
    "occlusion": "sliding-window occlusion (Occlusion)",
    "shapley_values": "exact Shapley values (ShapleyValues)",
    "shapley_value_sampling": "Shapley values from sampled permutations (ShapleyValueSampling)",
    "kernel_shap": "Shapley values by kernel regression (KernelShap)",
    "lime": "a local linear surrogate (Lime)",
    "layer_grad_cam": "a layer's channels weighted by their mean gradient (LayerGradCam)",
    "guided_backprop": "the gradient through rectifiers that pass only positive signal back (GuidedBackprop)",
    "deconvolution": "the gradient through rectifiers that pass back the incoming gradient's positive part (Deconvolution)",
    "guided_grad_cam": "guided backpropagation times the upsampled GradCAM map (GuidedGradCam)",
    "deeplift": "DeepLift's Rescale multipliers against a baseline, in one backward pass (DeepLift)",
    "deeplift_shap": "DeepLift averaged over a distribution of baselines (DeepLiftShap)",
    "layer_deeplift": "DeepLift at a layer (LayerDeepLift)",
    "lrp": "layer-wise relevance propagation with a composite of rules (LRP)",
    "layer_lrp": "layer-wise relevance propagation to a layer (LayerLRP)",
    "neuron_deeplift": "DeepLift of one neuron (NeuronDeepLift)",
    "neuron_deeplift_shap": "DeepLiftShap of one neuron (NeuronDeepLiftShap)",
    "neuron_lrp": "layer-wise relevance propagation of one neuron (NeuronLRP)",
    "layer_activation": "a layer's value itself (LayerActivation)",
    "layer_gradient_x_activation": "a layer's gradient times its value (LayerGradientXActivation)",
    "internal_influence": "a layer's gradient averaged along the input path (InternalInfluence)",
    "layer_conductance": "the part of the input path integral that flows through each neuron of a layer (LayerConductance)",
    "layer_gradient_shap": "expected gradients at a layer over a baseline distribution (LayerGradientShap)",
    "layer_feature_ablation": "leave one group of a layer's neurons out (LayerFeatureAblation)",
    "neuron_gradient": "the gradient of one neuron at the inputs (NeuronGradient)",
    "neuron_integrated_gradients": "Integrated Gradients of one neuron (NeuronIntegratedGradients)",
    "neuron_gradient_shap": "GradientSHAP of one neuron (NeuronGradientShap)",
    "neuron_conductance": "the part of each input's integrated gradient that flows through one neuron (NeuronConductance)",
    "neuron_feature_ablation": "leave one feature out, for one neuron (NeuronFeatureAblation)",
    "feature_permutation": "permutation importance: each feature shuffled across the batch (FeaturePermutation)",
}
"""Every method's name, with what it is and its class."""

ALIASES: dict[str, str] = {
    "shapley": "shapley_values",
    "shapley_sampling": "shapley_value_sampling",
    "smoothgrad": "noise_tunnel",
}
"""Other spellings of a name (the text front end's former names) -> the name."""

RULE_KEYWORD_ALIAS = "method"
"""Captum's keyword for the integration rule of integrated gradients; limelight calls it ``rule``."""


def canonical_name(name: str) -> str:
    """The method name that ``name`` is or is an alias of; the error lists the names."""
    if name in METHODS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    raise InvalidInputError(f"unknown method {name!r}; choose one of {sorted(METHODS)}")
