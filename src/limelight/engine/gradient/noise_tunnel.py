"""SmoothGrad, SmoothGrad-squared and VarGrad over any gradient method.

Each example is copied ``nt_samples`` times with Gaussian noise added *in the method's space*:
to the inputs, or to the layer's value for layer methods, so noise works for token ids through an
embedding layer. The copies are attributed together (chunked like any other rows) and reduced:
the mean (SmoothGrad, Smilkov et al. 2017), the mean of squares, or the variance (VarGrad).
The tunnel composes with a gradient method only through
:class:`~limelight.engine.gradient.method.Composable`. Any other method (perturbation methods,
neuron methods) is wrapped from outside: the noisy copies are its inputs, with the baselines,
target, extra forward arguments and per-example feature masks repeated alongside, and its
results are reduced the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, cast

import torch
from torch import Tensor

from ...errors import InvalidInputError
from ..evidence import Evidence
from ..inputs import BaselineSpec, Inputs, as_tuple, make_forward_args, resolve_baselines, restore_structure
from ..options import CommonKwargs, MethodOptions, SampledOptions
from ..result import Attribution, NoiseTunnelExtras
from ..targets import TargetSpec, resolve_target
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
    """Wrap a method: ``NoiseTunnel(IntegratedGradients(model)).attribute(x, nt_samples=20)``.

    ``stdevs`` is the noise's standard deviation in the method's space (one per input, or one for all);
    for perturbation and neuron methods (``NoiseTunnel(FeatureAblation(model))``) that is the inputs.
    Method-specific options (``n_steps``, ``abs``, ...) pass through to the wrapped method. The
    result's ``method`` is ``"noise_tunnel"``; its ``settings`` (:class:`NoiseTunnelOptions`) name
    the reduction and the wrapped method. For SmoothGrad the result's ``delta`` is the mean of
    the samples' deltas (completeness holds on average); for the squared and variance reductions
    there is no completeness, and the per-sample deltas are in ``extras.sample_delta``.
    """

    name = "noise_tunnel"

    def __init__(self, method: Any) -> None:
        if not isinstance(method, Composable) and not (
            isinstance(getattr(method, "name", None), str) and callable(getattr(method, "attribute", None))
        ):
            raise InvalidInputError(
                f"NoiseTunnel wraps a limelight attribution method (a gradient method, a perturbation or neuron method), "
                f"got {type(method).__name__}"
            )
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
        if not isinstance(self.method, Composable):
            tunnel = NoiseTunnelOptions(nt_type=nt_type, nt_samples=nt_samples, stdevs=stdevs, seed=seed, method=self.method.name)
            given = options if layer_baselines is None else {**options, "layer_baselines": layer_baselines}
            return _smooth_outside(self.method, inputs, baselines, target, tunnel, given)
        common = cast(CommonKwargs, {k: v for k, v in options.items() if k in CommonKwargs.__annotations__})
        inner = self.method.make_options(**{k: v for k, v in options.items() if k not in CommonKwargs.__annotations__})
        tunnel = NoiseTunnelOptions(nt_type=nt_type, nt_samples=nt_samples, stdevs=stdevs, seed=seed, method=self.method.name, inner=inner)

        def transform(call: Call, x: Points, b: Any, opts: Any) -> Attribution:
            return _smooth(self.method, call, x, b, tunnel)

        result = self.method.run(inputs, baselines, target, inner, common, layer_baselines=layer_baselines, transform=transform)
        return replace(result, method=self.name)


def _smooth(method: Composable, call: Call, x: Points, b: Any, options: NoiseTunnelOptions) -> Attribution:
    samples, count = options.nt_samples, call.n_examples
    per_tensor(options.stdevs, len(x), "tensors in the method's space")
    noisy = _noisy(x, samples, options.stdevs, seeded_generator(options.seed), "tensors in the method's space")
    per_sample = method.attribute_points(call.expand(samples), noisy, method.expand_baselines(b, samples), options.inner)
    return _reduce(_tensors_of(per_sample.attributions), per_sample.evidence, count, options)


def _tensors_of(attributions: Inputs) -> tuple[Tensor, ...]:
    return attributions if isinstance(attributions, tuple) else (attributions,)


def _noisy(points: Points, samples: int, stdevs: float | tuple[float, ...], generator: torch.Generator, what: str) -> Points:
    """Each row repeated ``samples`` times in a row, plus Gaussian noise of ``stdevs`` (one per tensor, or one for all)."""
    return tuple(
        p.repeat_interleave(samples, dim=0)
        + s * torch.randn((p.shape[0] * samples, *p.shape[1:]), generator=generator, dtype=p.dtype).to(p.device)
        for p, s in zip(points, per_tensor(stdevs, len(points), what))
    )


def _smooth_outside(
    method: Any, inputs: Inputs, baselines: Any, target: TargetSpec, options: NoiseTunnelOptions, given: dict[str, Any]
) -> Attribution:
    """The tunnel around a method that is not :class:`Composable`: noisy inputs, everything per example repeated."""
    points = as_tuple(inputs)
    integer = [i for i, x in enumerate(points) if not x.dtype.is_floating_point]
    if integer:
        raise InvalidInputError(f"input {integer[0]} has dtype {points[integer[0]].dtype}: noise needs floating-point inputs")
    count, samples = points[0].shape[0], options.nt_samples
    noisy = _noisy(points, samples, options.stdevs, seeded_generator(options.seed), "inputs")
    args = make_forward_args(given.pop("additional_forward_args", None), given.pop("forward_kwargs", None), count).expand(samples)
    kwargs: dict[str, Any] = {**given, "additional_forward_args": args.args, "forward_kwargs": args.kwargs}
    if baselines is not None:
        kwargs["baselines"] = tuple(b.repeat_interleave(samples, dim=0) for b in resolve_baselines(baselines, points))
    if target is not None:
        kwargs["target"] = resolve_target(target, count).expand(samples).spec
    if isinstance(given.get("feature_mask"), (Tensor, tuple)):  # a mask with the inputs' rank is per example
        masks = given["feature_mask"] if isinstance(given["feature_mask"], tuple) else (given["feature_mask"],)
        kwargs["feature_mask"] = tuple(
            m.repeat_interleave(samples, 0) if m.dim() == x.dim() and m.shape[0] == count > 1 else m for m, x in zip(masks, points)
        )
    for name in ("layer_mask", "layer_baselines"):  # at a layer: a tensor with one row per example is per example
        if isinstance(given.get(name), (Tensor, tuple)):
            values = given[name] if isinstance(given[name], tuple) else (given[name],)
            kwargs[name] = tuple(_repeat_per_example(v, count, samples) for v in values)
    result = method.attribute(noisy if isinstance(inputs, tuple) else noisy[0], **kwargs)
    reduced = _reduce(_tensors_of(result.attributions), result.evidence, count, replace(options, inner=result.settings))
    return replace(reduced, attributions=restore_structure(_tensors_of(reduced.attributions), inputs))


def _repeat_per_example(value: Any, count: int, samples: int) -> Any:
    """A tensor with one row per example (and more than one example) repeated ``samples`` times per row; anything else as is."""
    if isinstance(value, Tensor) and value.dim() > 1 and value.shape[0] == count > 1:
        return value.repeat_interleave(samples, dim=0)
    return value


def _reduce(per_sample: tuple[Tensor, ...], e: Evidence, count: int, options: NoiseTunnelOptions) -> Attribution:
    """Attributions and evidence of ``count`` examples x ``nt_samples`` noisy copies, reduced per example."""
    samples = options.nt_samples
    grouped = tuple(a.reshape(count, samples, *a.shape[1:]) for a in per_sample)
    reduce = {"smoothgrad": lambda a: a.mean(1), "smoothgrad_sq": lambda a: (a * a).mean(1), "vargrad": lambda a: a.var(1, unbiased=False)}
    attributions = tuple(reduce[options.nt_type](a) for a in grouped)
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
