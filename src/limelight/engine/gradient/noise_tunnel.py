"""SmoothGrad, SmoothGrad-squared and VarGrad over any gradient method.

Each example is copied ``nt_samples`` times with Gaussian noise added *in the method's space*:
to the inputs, or to the layer's value for layer methods, so noise works for token ids through an
embedding layer. The copies are attributed together (chunked like any other rows) and reduced:
the mean (SmoothGrad, Smilkov et al. 2017), the mean of squares, or the variance (VarGrad).
The tunnel composes with the wrapped method only through
:class:`~limelight.engine.gradient.method.Composable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, cast

import torch
from torch import Tensor

from ...errors import InvalidInputError
from ..evidence import Evidence
from ..inputs import BaselineSpec, Inputs
from ..options import CommonKwargs, MethodOptions, SampledOptions
from ..result import Attribution, NoiseTunnelExtras
from ..targets import TargetSpec
from ..validation import check_choice, check_count, seeded_generator
from .method import Call, Composable, Points, per_tensor

NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


@dataclass(frozen=True)
class NoiseTunnelOptions(SampledOptions):
    """The tunnel's options: the reduction ``nt_type``, ``nt_samples`` noisy copies of ``stdevs``,
    the ``seed`` used, and the wrapped method's ``method`` name and ``inner`` options."""

    nt_type: str = "smoothgrad"
    nt_samples: int = 10
    stdevs: float | tuple[float, ...] = 1.0
    method: str = ""
    inner: MethodOptions = field(default_factory=MethodOptions)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("nt_type", self.nt_type, NT_TYPES)
        check_count("nt_samples", self.nt_samples)


class NoiseTunnel:
    """Wrap a gradient method: ``NoiseTunnel(IntegratedGradients(model)).attribute(x, nt_samples=20)``.

    ``stdevs`` is the noise's standard deviation in the method's space (one per input, or one for all).
    Method-specific options (``n_steps``, ``abs``, ...) pass through to the wrapped method. The
    result's ``method`` is ``"noise_tunnel"``; its ``settings`` (:class:`NoiseTunnelOptions`) name
    the reduction and the wrapped method. For SmoothGrad the result's ``delta`` is the mean of
    the samples' deltas (completeness holds on average); for the squared and variance reductions
    there is no completeness, and the per-sample deltas are in ``extras.sample_delta``.
    """

    name = "noise_tunnel"

    def __init__(self, method: Composable) -> None:
        if not isinstance(method, Composable):
            raise InvalidInputError(f"NoiseTunnel wraps a limelight gradient method, got {type(method).__name__}")
        self.method = method

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
        **options: Any,
    ) -> Attribution:
        """Attribute noisy copies of ``inputs`` with the wrapped method and reduce them per example.

        ``options`` are the common keyword arguments (:class:`~limelight.engine.options.CommonKwargs`)
        and the wrapped method's own options.
        """
        common = cast(CommonKwargs, {k: v for k, v in options.items() if k in CommonKwargs.__annotations__})
        inner = self.method.make_options(**{k: v for k, v in options.items() if k not in CommonKwargs.__annotations__})
        tunnel = NoiseTunnelOptions(nt_type=nt_type, nt_samples=nt_samples, stdevs=stdevs, seed=seed, method=self.method.name, inner=inner)

        def transform(call: Call, x: Points, b: Any, opts: Any) -> Attribution:
            return _smooth(self.method, call, x, b, tunnel)

        result = self.method.run(inputs, baselines, target, inner, common, layer_baselines=layer_baselines, transform=transform)
        return replace(result, method=self.name)


def _smooth(method: Composable, call: Call, x: Points, b: Any, options: NoiseTunnelOptions) -> Attribution:
    samples, count = options.nt_samples, call.n_examples
    stdevs = per_tensor(options.stdevs, len(x), "tensors in the method's space")
    generator = seeded_generator(options.seed)
    noisy = tuple(
        p.repeat_interleave(samples, dim=0)
        + s * torch.randn((p.shape[0] * samples, *p.shape[1:]), generator=generator, dtype=p.dtype).to(p.device)
        for p, s in zip(x, stdevs)
    )
    per_sample = method.attribute_points(call.expand(samples), noisy, method.expand_baselines(b, samples), options.inner)
    grouped = tuple(a.reshape(count, samples, *a.shape[1:]) for a in per_sample.attributions)
    reduce = {"smoothgrad": lambda a: a.mean(1), "smoothgrad_sq": lambda a: (a * a).mean(1), "vargrad": lambda a: a.var(1, unbiased=False)}
    attributions = tuple(reduce[options.nt_type](a) for a in grouped)
    e = per_sample.evidence
    evidence = Evidence(
        delta=_mean(e.delta, count, samples) if options.nt_type == "smoothgrad" else None,
        input_value=_mean(e.input_value, count, samples),
        baseline_value=_mean(e.baseline_value, count, samples),
        n_steps=None if e.n_steps is None else e.n_steps.reshape(count, samples).max(1).values,
        converged=None if e.converged is None else e.converged.reshape(count, samples).all(1),
        tolerance=e.tolerance,
    )
    sample_delta = None if e.delta is None else e.delta.reshape(count, samples)
    return Attribution(attributions, method=NoiseTunnel.name, evidence=evidence, settings=options, extras=NoiseTunnelExtras(sample_delta))


def _mean(values: Tensor | None, count: int, samples: int) -> Tensor | None:
    """The mean over each example's samples, in float64."""
    return None if values is None else values.reshape(count, samples).to(torch.float64).mean(1)
