"""SmoothGrad, SmoothGrad-squared and VarGrad over any gradient method.

Each example is copied ``nt_samples`` times with Gaussian noise added *in the method's space*:
to the inputs, or to the layer's value for layer methods, so noise works for token ids through an
embedding layer. The copies are attributed together (chunked like any other rows) and reduced:
the mean (SmoothGrad, Smilkov et al. 2017), the mean of squares, or the variance (VarGrad).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from ..errors import InvalidInputError
from .base import Call, GradientMethod, Points
from .inputs import BaselineSpec, Inputs
from .result import Attribution
from .targets import TargetSpec

NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


class NoiseTunnel:
    """Wrap a gradient method: ``NoiseTunnel(IntegratedGradients(model)).attribute(x, nt_samples=20)``.

    ``stdevs`` is the noise's standard deviation in the method's space (one per input, or one for all).
    Method-specific options (``n_steps``, ``abs``, ...) pass through to the wrapped method. For
    SmoothGrad the result's ``delta`` is the mean of the samples' deltas (completeness holds on
    average); for the squared and variance reductions there is no completeness, and the
    per-sample deltas are in ``extras["sample_delta"]``.
    """

    def __init__(self, method: GradientMethod) -> None:
        if not isinstance(method, GradientMethod):
            raise InvalidInputError(f"NoiseTunnel wraps a limelight gradient method, got {type(method).__name__}")
        self.method = method

    @property
    def name(self) -> str:
        return f"noise_tunnel({self.method.name})"

    def attribute(
        self,
        inputs: Inputs,
        baselines: Any = None,
        target: TargetSpec = None,
        *,
        nt_type: str = "smoothgrad",
        nt_samples: int = 10,
        stdevs: float | tuple[float, ...] = 1.0,
        seed: int | None = None,
        layer_baselines: BaselineSpec = None,
        additional_forward_args: Any = None,
        forward_kwargs: Mapping[str, Any] | None = None,
        internal_batch_size: int | None = None,
        memory_budget: int | str | None = None,
        **method_options: Any,
    ) -> Attribution:
        """Attribute noisy copies of ``inputs`` with the wrapped method and reduce them per example."""
        if nt_type not in NT_TYPES:
            raise InvalidInputError(f"nt_type must be one of {NT_TYPES}, got {nt_type!r}")
        if isinstance(nt_samples, bool) or not isinstance(nt_samples, int) or nt_samples < 1:
            raise InvalidInputError(f"nt_samples must be a positive int, got {nt_samples!r}")
        options = _method_options(self.method, method_options)
        noise = {"nt_type": nt_type, "samples": nt_samples, "stdevs": stdevs, "seed": seed}

        def transform(method: GradientMethod, call: Call, x: Points, b: Any, opts: dict[str, Any]) -> Attribution:
            return _smooth(method, call, x, b, opts, noise)

        result = self.method._run(
            inputs, baselines, target, options, layer_baselines=layer_baselines,
            additional_forward_args=additional_forward_args, forward_kwargs=forward_kwargs,
            internal_batch_size=internal_batch_size, memory_budget=memory_budget, transform=transform,
        )
        return Attribution(**{**result.__dict__, "method": f"{nt_type}({self.method.name})"})


def _method_options(method: GradientMethod, given: dict[str, Any]) -> dict[str, Any]:
    """The wrapped method's options: its ``attribute`` defaults, overridden by ``given``."""
    accepted = list(inspect.signature(method._options).parameters)
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise InvalidInputError(f"{type(method).__name__} does not take {unknown}; its options are {accepted}")
    defaults = inspect.signature(method.attribute).parameters
    return method._options(**{name: given.get(name, defaults[name].default) for name in accepted})


def _smooth(method: GradientMethod, call: Call, x: Points, b: Any, options: dict[str, Any], noise: dict[str, Any]) -> Attribution:
    samples = noise["samples"]
    stdevs = noise["stdevs"] if isinstance(noise["stdevs"], tuple) else (noise["stdevs"],) * len(x)
    if len(stdevs) != len(x):
        raise InvalidInputError(f"stdevs has {len(stdevs)} entries but the method's space has {len(x)} tensors")
    generator = torch.Generator().manual_seed(noise["seed"]) if noise["seed"] is not None else None
    noisy = tuple(
        p.repeat_interleave(samples, dim=0) + s * torch.randn((p.shape[0] * samples, *p.shape[1:]), generator=generator, dtype=p.dtype).to(p.device)
        for p, s in zip(x, stdevs)
    )
    per_sample = type(method)._attribute_points(method, call.expand(samples), noisy, method._expand_baselines(b, samples), options)
    grouped = tuple(a.reshape(call.n_examples, samples, *a.shape[1:]) for a in per_sample.attributions)
    reduce = {"smoothgrad": lambda a: a.mean(1), "smoothgrad_sq": lambda a: (a * a).mean(1), "vargrad": lambda a: a.var(1, unbiased=False)}
    attributions = tuple(reduce[noise["nt_type"]](a) for a in grouped)
    mean = lambda t: None if t is None else t.reshape(call.n_examples, samples).to(torch.float64).mean(1)  # noqa: E731
    extras = {"sample_delta": _per_example(per_sample.delta, call.n_examples, samples)}
    return Attribution(
        attributions,
        method=method.name,
        delta=mean(per_sample.delta) if noise["nt_type"] == "smoothgrad" else None,
        n_steps=None if per_sample.n_steps is None else per_sample.n_steps.reshape(call.n_examples, samples).max(1).values,
        input_values=mean(per_sample.input_values),
        baseline_values=mean(per_sample.baseline_values),
        converged=None if per_sample.converged is None else per_sample.converged.reshape(call.n_examples, samples).all(1),
        tolerance=per_sample.tolerance,
        rule=per_sample.rule,
        extras=extras,
    )


def _per_example(values: Tensor | None, count: int, samples: int) -> Tensor | None:
    return None if values is None else values.reshape(count, samples)
