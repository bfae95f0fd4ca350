"""The shared core of every method: evidence, typed options and settings, seeds, names, the wrapper protocol."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch

import limelight.engine as engine
from limelight.engine import (
    Attribution,
    Evidence,
    FeatureAblation,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    LayerIntegratedGradients,
    Lime,
    NoiseTunnel,
    Occlusion,
    Saliency,
    ShapleyValues,
    ShapleyValueSampling,
)
from limelight.engine.gradient import Composable
from limelight.engine.names import ALIASES, METHODS, canonical_name
from limelight.engine.options import CommonKwargs, MethodOptions
from limelight.errors import InvalidInputError

from .models import Linear, TokenModel

X = torch.randn(3, 5, generator=torch.Generator().manual_seed(0))
GRADIENT = [IntegratedGradients, Saliency, InputXGradient]
PERTURBATION = [FeatureAblation, Occlusion, ShapleyValues, ShapleyValueSampling, KernelShap, Lime]
SAMPLED = [
    (lambda m: GradientShap(m), {"baselines": torch.zeros(4, 5)}),
    (lambda m: NoiseTunnel(Saliency(m)), {"stdevs": 0.1}),
    (lambda m: ShapleyValueSampling(m), {"n_samples": 4}),
    (lambda m: KernelShap(m), {"n_samples": 8}),
    (lambda m: Lime(m), {"n_samples": 8}),
]


def test_evidence_row_gives_one_examples_scalars():
    batch = Evidence(
        delta=torch.tensor([0.5, -1.0]),
        input_value=torch.tensor([2.0, 3.0]),
        baseline_value=torch.tensor([1.0, 0.0]),
        n_steps=torch.tensor([7, 9]),
        converged=torch.tensor([True, False]),
        tolerance=1e-2,
    )
    assert batch.row(1) == Evidence(delta=-1.0, input_value=3.0, baseline_value=0.0, n_steps=9, converged=False, tolerance=1e-2)
    assert type(batch.row(0).n_steps) is int and type(batch.row(0).converged) is bool
    assert Evidence().row(0) == Evidence()


def test_attribution_reads_its_evidence_by_the_same_names():
    result = IntegratedGradients(Linear()).attribute(X, target=0, n_steps=4)
    for name in ("delta", "input_value", "baseline_value", "n_steps", "converged", "tolerance"):
        assert getattr(result, name) is getattr(result.evidence, name)
    assert result.tolerance == 1e-2 and result.settings.rule == "gausslegendre" and result.seed is None


@pytest.mark.parametrize("method", GRADIENT + PERTURBATION)
def test_every_result_is_named_by_its_method_and_carries_its_typed_settings(method):
    instance = method(Linear())
    result = instance.attribute(X, target=1)
    assert result.method == instance.name and instance.name in METHODS
    assert isinstance(result.settings, instance.options_type) and dataclasses.is_dataclass(result.settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.settings.seed = 1  # type: ignore[misc]  # frozen on purpose


def test_every_exported_method_has_a_registered_name_and_every_name_a_method():
    classes = [getattr(engine, name) for name in engine.__all__ if isinstance(getattr(engine, name), type)]
    names = {cls.name for cls in classes if hasattr(cls, "name") and hasattr(cls, "attribute")}
    assert names == set(METHODS)
    assert NoiseTunnel.name == "noise_tunnel" and LayerIntegratedGradients.name == "layer_integrated_gradients"


def test_aliases_resolve_to_names_and_unknown_names_list_the_choices():
    assert canonical_name("shapley") == "shapley_values" and canonical_name("shapley_sampling") == "shapley_value_sampling"
    assert all(canonical_name(name) == name for name in METHODS)
    assert set(ALIASES.values()) <= set(METHODS)
    with pytest.raises(InvalidInputError, match="unknown method 'astrology'.*integrated_gradients"):
        canonical_name("astrology")


@pytest.mark.parametrize("build, kwargs", SAMPLED)
def test_every_sampled_method_records_the_seed_it_drew_and_replays_with_it(build, kwargs):
    model = Linear()
    torch.manual_seed(5)
    drawn = build(model).attribute(X, target=0, **kwargs)
    assert isinstance(drawn.seed, int)
    replay = build(model).attribute(X, target=0, seed=drawn.seed, **kwargs)
    assert replay.seed == drawn.seed
    torch.testing.assert_close(replay.attributions, drawn.attributions, rtol=0, atol=0)


@pytest.mark.parametrize("method", GRADIENT + PERTURBATION + [NoiseTunnel])
def test_every_attribute_takes_the_common_keyword_arguments(method):
    signature = inspect.signature(method.attribute)
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    instance = method(Saliency(Linear())) if method is NoiseTunnel else method(Linear())
    result = instance.attribute(X, target=0, internal_batch_size=2, memory_budget="1MB", show_progress=False, forward_kwargs={})
    assert isinstance(result, Attribution)


@pytest.mark.parametrize("method", GRADIENT + PERTURBATION)
def test_misspelt_keywords_are_an_error_naming_the_method(method):
    with pytest.raises(InvalidInputError, match=f"{method.__name__}.*internal_batch_sise"):
        method(Linear()).attribute(X, target=0, internal_batch_sise=2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"show_progress": "yes"}, "show_progress"),
        ({"internal_batch_size": True}, "internal_batch_size"),
        ({"memory_budget": -1}, "memory_budget"),
    ],
)
def test_common_options_are_validated_for_every_family(kwargs, message):
    for method in (Saliency(Linear()), FeatureAblation(Linear())):
        with pytest.raises(InvalidInputError, match=message):
            method.attribute(X, target=0, **kwargs)


def test_common_kwargs_are_what_the_options_dataclass_holds():
    from limelight.engine.options import CommonOptions

    assert set(CommonKwargs.__annotations__) == {f.name for f in dataclasses.fields(CommonOptions)}


@pytest.mark.parametrize("method", GRADIENT + [GradientShap] + PERTURBATION)
def test_attribute_defaults_are_the_options_defaults(method):
    parameters = inspect.signature(method.attribute).parameters
    for option in dataclasses.fields(method.options_type):
        if option.name in parameters:
            default = parameters[option.name].default
            assert default == option.default or (option.name == "rule" and default is None), (method.__name__, option.name)


def test_noise_tunnel_records_its_reduction_and_the_wrapped_methods_settings():
    model = TokenModel().eval()
    ids = torch.tensor([[1, 4, 7, 2], [1, 5, 2, 2]])
    result = NoiseTunnel(LayerIntegratedGradients(model, model.embedding)).attribute(
        ids, target=1, nt_type="vargrad", nt_samples=3, stdevs=0.01, seed=2, n_steps=4, rule="riemann_middle"
    )
    settings = result.settings
    assert (result.method, settings.nt_type, settings.nt_samples, settings.seed) == ("noise_tunnel", "vargrad", 3, 2)
    assert settings.method == "layer_integrated_gradients" and settings.inner.rule == "riemann_middle" and settings.inner.n_steps == 4
    assert result.delta is None and result.extras.sample_delta.shape == (2, 3)


def test_noise_tunnel_composes_through_the_protocol_alone():
    class Doubled:
        """A method that only implements the protocol: attributions are twice the input."""

        name = "doubled"

        def make_options(self, **given):
            return MethodOptions.build(given, "Doubled")

        def run(self, inputs, baselines, target, options, common, *, layer_baselines=None, transform=None):
            return Saliency(Linear()).run(inputs, baselines, target, options, common, transform=transform)

        def attribute_points(self, call, x, b, options):
            return Attribution(tuple(2 * p for p in x), method=self.name)

        def expand_baselines(self, b, repeats):
            return tuple(p.repeat_interleave(repeats, dim=0) for p in b)

    assert isinstance(Doubled(), Composable)
    result = NoiseTunnel(Doubled()).attribute(X, target=0, nt_samples=2, stdevs=0.0)
    torch.testing.assert_close(result.attributions, 2 * X)
    assert result.settings.method == "doubled"


def test_options_reject_bad_values_when_built():
    with pytest.raises(InvalidInputError, match="n_samples"):
        Lime(Linear()).make_options(n_samples=1)
    with pytest.raises(InvalidInputError, match="Saliency does not take"):
        Saliency(Linear()).make_options(n_steps=3)
    assert Saliency(Linear()).make_options() == Saliency(Linear()).make_options(abs=True)
