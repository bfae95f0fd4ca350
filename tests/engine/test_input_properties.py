"""Every public method on odd inputs: a result equal to attributing each example alone, or a LimelightError.

Hypothesis draws inputs of every dtype (float, integer, boolean), with one, several or no elements
per example, single tensors or tuples mixing them, 0-d tensors, and baselines of every form
(numbers, 0-d tensors, one example's shape, a batch of one, a full batch). A raw ``IndexError``,
``RuntimeError`` or ``TypeError`` fails the test, and so does a result whose rows differ from
the same method run on each example alone, or whose ``baseline_value`` is not the forward at
the baselines exactly as given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

import limelight as ll
from limelight.errors import LimelightError

DTYPES = [torch.float32, torch.float64, torch.float32, torch.int64, torch.int32, torch.uint8, torch.bool]  # floats twice as often
EXAMPLE_SHAPES = [(), (0,), (3,), (2, 2), (1, 0)]


def flat(inputs: tuple[Tensor, ...]) -> Tensor:
    """Every input as float64 numbers, ``(N, elements)``."""
    return torch.cat([x.double().reshape(x.shape[0], math.prod(x.shape[1:])) for x in inputs], 1)


class Numeric(nn.Module):
    """A nonlinear forward that reads inputs of any dtype as numbers; ``layer`` sees them as floats."""

    def __init__(self, linear: bool = False) -> None:
        super().__init__()
        self.layer = nn.Identity()
        self.linear = linear

    def forward(self, *inputs: Tensor) -> Tensor:
        z = self.layer(flat(inputs))
        score = z @ torch.sin(torch.arange(z.shape[1], dtype=torch.float64) + 1)
        first = score if self.linear else torch.tanh(score) + 0.1 * score**2
        return torch.stack([first, z.sum(1)], 1)


@dataclass(frozen=True)
class Method:
    """How to run one public method: ``run(inputs, baselines)``; ``exact``: every row matches its example alone."""

    name: str
    run: Callable[[Any, Any], Any]
    exact: bool = True


def _methods() -> list[Method]:
    model, linear = Numeric(), Numeric(linear=True)
    return [
        Method("ig", lambda x, b: ll.IntegratedGradients(model).attribute(x, b, target=0, n_steps=4, tolerance=None)),
        Method(
            "layer_ig", lambda x, b: ll.LayerIntegratedGradients(model, model.layer).attribute(x, b, target=0, n_steps=4, tolerance=None)
        ),
        Method("saliency", lambda x, b: ll.Saliency(model).attribute(x, target=0)),
        Method("input_x_gradient", lambda x, b: ll.InputXGradient(model).attribute(x, target=0)),
        # a linear forward and baselines of one value: the random draws do not change the result
        Method("gradient_shap", lambda x, b: ll.GradientShap(linear).attribute(x, b, target=0, n_samples=3, seed=0)),
        Method("noise_tunnel", lambda x, b: ll.NoiseTunnel(ll.Saliency(model)).attribute(x, target=0, nt_samples=2, stdevs=0.0, seed=0)),
        Method("feature_ablation", lambda x, b: ll.FeatureAblation(model).attribute(x, b, target=0)),
        Method("occlusion", lambda x, b: ll.Occlusion(model).attribute(x, b, target=0)),
        Method("shapley_values", lambda x, b: ll.ShapleyValues(model).attribute(x, b, target=0)),
        # sampled methods draw example by example: the first example alone gets the same draws
        Method(
            "shapley_value_sampling",
            lambda x, b: ll.ShapleyValueSampling(model).attribute(x, b, target=0, n_samples=3, seed=0),
            exact=False,
        ),
        Method("kernel_shap", lambda x, b: ll.KernelShap(model).attribute(x, b, target=0, n_samples=5, seed=0), exact=False),
        Method("lime", lambda x, b: ll.Lime(model).attribute(x, b, target=0, n_samples=6, seed=0), exact=False),
    ]


METHODS = _methods()


@st.composite
def tensors(draw: st.DrawFn, n: int) -> Tensor:
    """One input: a dtype, a shape per example (or, rarely, a 0-d tensor), small values."""
    dtype = draw(st.sampled_from(DTYPES))
    if draw(st.sampled_from([False] * 7 + [True])):  # now and then a 0-d tensor, which is not batch first
        return torch.tensor(1, dtype=dtype)
    shape = (n, *draw(st.sampled_from(EXAMPLE_SHAPES)))
    values = torch.arange(math.prod(shape)).reshape(shape) * 7 % 5
    return (values > 1) if dtype == torch.bool else values.to(dtype) - (0.5 if dtype.is_floating_point else 0)


@st.composite
def baselines(draw: st.DrawFn, x: Tensor) -> Any:
    """A baseline for ``x`` in one of the forms users pass."""
    kind = draw(st.sampled_from(["int", "float", "0d", "example", "batch_of_one", "full"]))
    value = draw(st.sampled_from([0, 1, 0.5]))
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    dtype = draw(st.sampled_from([torch.float32, x.dtype]))
    shape = {"0d": (), "example": x.shape[1:], "batch_of_one": (1, *x.shape[1:]), "full": x.shape}[kind] if x.dim() else ()
    return torch.full(shape, value, dtype=torch.float64).to(dtype)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, Any]:
    """Inputs (a tensor or a tuple) and their baselines (``None``, or one per input)."""
    n = draw(st.sampled_from([1, 2, 3, 0]))  # 0: no examples, refused
    inputs = tuple(draw(tensors(n)) for _ in range(draw(st.integers(1, 2))))
    given_baselines = None if draw(st.booleans()) else tuple(draw(baselines(x)) for x in inputs)
    if len(inputs) == 1 and draw(st.booleans()):
        return inputs[0], None if given_baselines is None else given_baselines[0]
    return inputs, given_baselines


def _example(inputs: Any, baselines: Any, i: int) -> tuple[Any, Any]:
    """Example ``i`` alone: its rows of the inputs, and of the baselines given per example (others as they are)."""
    points = _tuple(inputs)
    rows = tuple(x[i : i + 1] for x in points)
    own = tuple(
        b[i : i + 1] if isinstance(b, Tensor) and b.dim() and b.shape == x.shape else b for b, x in zip(_each(baselines, points), points)
    )
    if not isinstance(inputs, tuple):
        return rows[0], None if baselines is None else own[0]
    return rows, None if baselines is None else own


def _as_given(baselines: Any, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """The baselines as float64 numbers shaped like the inputs (as the forward must see them)."""
    return tuple(
        torch.zeros_like(x, dtype=torch.float64) + (0 if b is None else torch.as_tensor(b, dtype=torch.float64))
        for b, x in zip(_each(baselines, inputs), inputs)
    )


def _check_against_examples(method: Method, inputs: Any, given_baselines: Any, result: Any) -> None:
    n = _tuple(inputs)[0].shape[0]
    for i in range(n if method.exact else 1):
        alone = method.run(*_example(inputs, given_baselines, i))
        for batched, single in zip(_tuple(result.attributions), _tuple(alone.attributions)):
            torch.testing.assert_close(batched[i : i + 1], single)
        for field in ("delta", "input_value", "baseline_value"):
            if getattr(result, field) is not None:
                torch.testing.assert_close(getattr(result, field)[i : i + 1], getattr(alone, field))


def _tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def _each(baselines: Any, inputs: tuple[Tensor, ...]) -> tuple[Any, ...]:
    """One baseline per input (``None`` for zeros)."""
    return (None,) * len(inputs) if baselines is None else _tuple(baselines)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(cases())
def test_every_method_gives_each_examples_own_result_or_a_limelight_error(method, case):
    inputs, given_baselines = case
    try:
        result = method.run(inputs, given_baselines)
    except LimelightError:
        return
    _check_against_examples(method, inputs, given_baselines, result)
    if result.baseline_value is not None and method.name != "gradient_shap":
        expected = Numeric()(*_as_given(given_baselines, _tuple(inputs)))[:, 0]
        torch.testing.assert_close(result.baseline_value, expected)
