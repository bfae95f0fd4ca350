"""GradientSHAP, SmoothGrad, Saliency and Input x Gradient for generation: each row is the engine method on that token alone.

The reference runs the engine's own method (same seed, so the same draws) on a forward that
returns one generated token's log-probability from the prompt's embeddings; Input x Gradient is
also checked against Captum's ``LLMGradientAttribution(LayerGradientXActivation)``.
"""

from __future__ import annotations

import pytest
import torch

from limelight.engine import GradientShap, InputXGradient, IntegratedGradients, NoiseTunnel, Saliency
from limelight.generation import GenerationExplainer, explain_generation
from limelight.generation.explainer import SMOOTHGRAD_NOISE

from .models import gpt2, llama, tokenizer

PROMPT = "the capital of france is"
TARGET = "paris . the"


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


def token_forward(model, ids: list[int], target: list[int], t: int):
    """``z (rows, P, D) -> log p(target[t] | prompt embeddings z, target[:t])`` and the prompt's embeddings ``(1, P, D)``."""
    full = torch.tensor([ids + target])
    with torch.no_grad():
        embeds = model.get_input_embeddings()(full)
    n = len(ids)

    def forward(z: torch.Tensor) -> torch.Tensor:
        rows = torch.cat([z, embeds[:, n:].expand(z.shape[0], -1, -1)], 1)
        logits = model(inputs_embeds=rows).logits[:, n - 1 + t]
        return logits.log_softmax(-1)[:, target[t]]

    return forward, embeds[:, :n]


def reference(model, tok, build, call):
    """Per generated token, the engine method built by ``build(forward)`` and run by ``call(method, x)``, summed over the embedding."""
    ids, target = tok.encode(PROMPT), tok.encode(TARGET)
    rows = []
    for t in range(len(target)):
        forward, x = token_forward(model, ids, target, t)
        rows.append(call(build(forward), x).attributions[0].sum(-1).double())
    return torch.stack(rows)


@pytest.mark.parametrize("build_model", [gpt2, llama])
def test_gradient_shap_rows_equal_the_engine_per_token(build_model, tok):
    model = build_model()
    ours = explain_generation(
        model, tok, PROMPT, TARGET, method="gradient_shap", features="tokens", baseline=["zero", "pad"], n_samples=6, stdevs=0.05, seed=4
    )
    pad = model.get_input_embeddings()(torch.tensor([tok.pad_token_id]))[0].detach()

    def call(method, x):
        baselines = torch.stack([torch.zeros_like(x[0]), pad.expand_as(x[0])])
        return method.attribute(x, baselines, n_samples=6, stdevs=0.05, seed=4)

    torch.testing.assert_close(
        ours.matrix, reference(model, tok, lambda f: GradientShap(f, check_forward=False), call), atol=1e-5, rtol=1e-4
    )
    assert ours.settings["seed"] == 4 and ours.settings["n_samples"] == 6
    assert ours.delta is not None and ours.evidence.baseline_value is not None


@pytest.mark.parametrize(
    "inner,nt_type,options",
    [("saliency", "smoothgrad", {}), ("input_x_gradient", "smoothgrad_sq", {}), ("integrated_gradients", "smoothgrad", {"n_steps": 6})],
)
def test_smoothgrad_rows_equal_the_engine_noise_tunnel_per_token(inner, nt_type, options, tok):
    model = llama(2)
    ours = explain_generation(
        model,
        tok,
        PROMPT,
        TARGET,
        method="smoothgrad",
        features="tokens",
        inner=inner,
        nt_type=nt_type,
        nt_samples=4,
        stdevs=0.02,
        seed=7,
        **options,
    )
    engine = {"saliency": Saliency, "input_x_gradient": InputXGradient, "integrated_gradients": IntegratedGradients}[inner]

    def call(method, x):
        return method.attribute(x, nt_type=nt_type, nt_samples=4, stdevs=0.02, seed=7, **options)

    expected = reference(model, tok, lambda f: NoiseTunnel(engine(f, check_forward=False)), call)
    torch.testing.assert_close(ours.matrix, expected, atol=1e-5, rtol=1e-4)
    assert ours.method == "noise_tunnel" and ours.settings["method"] == inner and ours.settings["nt_type"] == nt_type
    if inner == "integrated_gradients":  # SmoothGrad's delta: the mean of the noisy copies' deltas
        assert ours.delta is not None and ours.evidence.n_steps.tolist() == [6, 6, 6]
    log_p = explain_generation(model, tok, PROMPT, TARGET, method="feature_ablation").values
    torch.testing.assert_close(ours.values, log_p, atol=1e-5, rtol=0)  # the values are the prompt's own, not the noisy copies'


def test_saliency_equals_the_engine_per_token(tok):
    model = gpt2(1)
    ours = explain_generation(model, tok, PROMPT, TARGET, method="saliency", features="tokens")
    expected = reference(model, tok, lambda f: Saliency(f, check_forward=False), lambda m, x: m.attribute(x))
    torch.testing.assert_close(ours.matrix, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("build_model", [gpt2, llama])
def test_input_x_gradient_rows_equal_captum(build_model, tok):
    captum_attr = pytest.importorskip("captum.attr")
    model = build_model()
    ours = explain_generation(model, tok, PROMPT, TARGET, method="input_x_gradient", features="tokens")
    gxa = captum_attr.LayerGradientXActivation(model, model.get_input_embeddings())
    theirs = captum_attr.LLMGradientAttribution(gxa, tok).attribute(captum_attr.TextTokenInput(PROMPT, tok), target=TARGET)
    torch.testing.assert_close(ours.matrix, theirs.token_attr.double(), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "method,options",
    [
        ("gradient_shap", {"n_samples": 5, "stdevs": 0.05, "seed": 1}),
        ("noise_tunnel", {"inner": "integrated_gradients", "nt_type": "vargrad", "nt_samples": 3, "n_steps": 4, "seed": 2}),
    ],
)
def test_batched_prompts_equal_single_ones(method, options, tok):
    model = llama()
    prompts = [
        "the capital of france is",
        "tell me about the big red river in lyon please",
        [{"role": "user", "content": "where is paris ?"}],
    ]
    targets = ["paris .", "it was a small city and", "in france"]
    explainer = GenerationExplainer(model, tok, method=method, **options)
    for prompt, target, batched in zip(prompts, targets, explainer.explain(prompts, targets)):
        alone = explainer.explain(prompt, target)
        torch.testing.assert_close(batched.matrix, alone.matrix, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(batched.values, alone.values, atol=1e-5, rtol=1e-5)


def test_mean_embedding_baseline_is_the_vocabulary_mean(tok):
    model = gpt2()
    ours = explain_generation(model, tok, PROMPT, TARGET, baseline="mean", features="tokens", n_steps=8, tolerance=None)
    mean = model.get_input_embeddings().weight.detach().double().mean(0).float()
    ig = IntegratedGradients(token_forward(model, tok.encode(PROMPT), tok.encode(TARGET), 0)[0], check_forward=False)
    x = token_forward(model, tok.encode(PROMPT), tok.encode(TARGET), 0)[1]
    expected = ig.attribute(x, mean.expand_as(x), n_steps=8, tolerance=None).attributions.sum(-1)[0].double()
    torch.testing.assert_close(ours.matrix[0], expected, atol=1e-5, rtol=1e-4)
    assert ours.settings["baseline"] == "mean"


def test_smoothgrad_noise_defaults_to_a_multiple_of_the_embedding_scale(tok):
    model = gpt2()
    scale = float(model.get_input_embeddings().weight.std())
    default = explain_generation(model, tok, PROMPT, TARGET, method="smoothgrad", nt_samples=3, seed=1)
    given = explain_generation(model, tok, PROMPT, TARGET, method="smoothgrad", nt_samples=3, seed=1, stdevs=SMOOTHGRAD_NOISE * scale)
    assert default.settings["stdevs"] == pytest.approx(SMOOTHGRAD_NOISE * scale) and 0 < scale < 1
    torch.testing.assert_close(default.matrix, given.matrix, atol=0, rtol=0)
