"""``attribute_generated=True``: earlier generated tokens as features (a lower-triangular block), completeness over both, views, JSON."""

from __future__ import annotations

import pytest
import torch

from limelight.engine import IntegratedGradients
from limelight.generation import GenerationExplanation, explain_generation
from limelight.viz import render_generation_html, save_generation_image

from .models import llama, tokenizer

PROMPT = "the capital of france is"
TARGET = "paris . the city"


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


@pytest.fixture(scope="module")
def model():
    return llama(3)


@pytest.fixture(scope="module")
def explanation(model, tok):
    return explain_generation(model, tok, PROMPT, TARGET, baseline="eos", features="tokens", n_steps=8, attribute_generated=True)


def test_rows_equal_ig_over_prompt_and_earlier_generated_tokens(model, tok, explanation):
    """Per token ``t``, the engine's IG on all input embeddings (prompt + target), from EOS everywhere."""
    ids, target = tok.encode(PROMPT), tok.encode(TARGET)
    with torch.no_grad():
        embeds = model.get_input_embeddings()(torch.tensor([ids + target]))
        eos = model.get_input_embeddings()(torch.tensor([tok.eos_token_id]))[0]
    n = len(ids)
    for t in range(len(target)):

        def forward(z, t=t):
            return model(inputs_embeds=z).logits[:, n - 1 + t].log_softmax(-1)[:, target[t]]

        ig = IntegratedGradients(forward, check_forward=False)
        result = ig.attribute(embeds, eos.expand_as(embeds), n_steps=8, tolerance=None)
        scores = result.attributions.sum(-1)[0].double()
        torch.testing.assert_close(explanation.matrix[t], scores[:n], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(explanation.generated_matrix[t, :t], scores[n : n + t], atol=1e-5, rtol=1e-4)
        change = result.evidence.input_value - result.evidence.baseline_value
        torch.testing.assert_close(
            explanation.evidence.input_value[t] - explanation.evidence.baseline_value[t], change[0], atol=1e-5, rtol=0
        )
    total = explanation.matrix.sum(1) + explanation.generated_matrix.sum(1)  # completeness covers both blocks
    change = explanation.evidence.input_value - explanation.evidence.baseline_value
    torch.testing.assert_close(explanation.delta, total - change, atol=1e-6, rtol=0)


def test_block_is_strictly_lower_triangular(explanation):
    g = explanation.generated_matrix
    assert g.shape == (4, 4) and torch.equal(g.triu(), torch.zeros_like(g))
    assert bool((g.tril(-1) != 0).any())


def test_views_show_generated_columns_masked_above_the_diagonal(explanation, tmp_path):
    page = render_generation_html(explanation)
    steps = len(explanation.generated)
    assert page.count('class="ll-masked"') == steps * (steps + 1) // 2  # on and above the diagonal of the token rows
    assert page.count("generated token #") == steps
    assert save_generation_image(tmp_path / "g.png", explanation).stat().st_size > 1000


def test_json_round_trip_keeps_the_generated_block(explanation):
    back = GenerationExplanation.from_json(explanation.to_json())
    assert torch.equal(back.generated_matrix, explanation.generated_matrix) and back.settings["attribute_generated"] is True
    assert (
        GenerationExplanation.from_json(
            explanation.__class__(**{**explanation.__dict__, "generated_matrix": None}).to_json()
        ).generated_matrix
        is None
    )


@pytest.mark.parametrize("method", ["saliency", "noise_tunnel"])
def test_other_gradient_methods_take_it_too(method, model, tok):
    options = {"seed": 0, "stdevs": 0.05, "nt_samples": 2} if method == "noise_tunnel" else {}
    e = explain_generation(model, tok, PROMPT, TARGET, method=method, attribute_generated=True, **options)
    assert e.generated_matrix.shape == (4, 4) and torch.equal(e.generated_matrix.triu(), torch.zeros(4, 4, dtype=torch.float64))
