"""Cross-checks against Captum's LLM classes on tiny random models (Captum is used in tests only).

Captum's perturbation wrapper is run with ``forward_in_tokens=False`` (prompt + target in one
forward, as limelight does). Its default token-by-token forward with the key/value cache differs
by up to 7e-3 on the tiny GPT-2 with transformers 5 (without the cache it agrees to 5e-7).
"""

from __future__ import annotations

import pytest
import torch

from limelight.generation import explain_generation

from .models import gpt2, llama, tokenizer

captum_attr = pytest.importorskip("captum.attr")

PROMPT = "the capital of france is"
TARGET = "paris . the"


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


@pytest.mark.parametrize("build", [gpt2, llama])
def test_layer_integrated_gradients_rows_equal_captum(build, tok):
    model = build()
    ours = explain_generation(model, tok, PROMPT, TARGET, method="layer_integrated_gradients", features="tokens", baseline="pad")
    lig = captum_attr.LayerIntegratedGradients(model, model.get_input_embeddings())
    theirs = captum_attr.LLMGradientAttribution(lig, tok).attribute(captum_attr.TextTokenInput(PROMPT, tok), target=TARGET, n_steps=50)
    torch.testing.assert_close(ours.matrix, theirs.token_attr.double(), atol=1e-4, rtol=0)
    torch.testing.assert_close(ours.sequence_scores, theirs.seq_attr.double(), atol=1e-4, rtol=0)


@pytest.mark.parametrize("method", ["feature_ablation", "shapley_values"])
@pytest.mark.parametrize("build", [gpt2, llama])
def test_perturbation_rows_equal_captum_with_replacement(method, build, tok):
    model = build()
    prompt = PROMPT if method == "feature_ablation" else "capital of france"  # Captum enumerates all F! orders
    ours = explain_generation(model, tok, prompt, TARGET, method=method, features="tokens", erasure="pad")
    engine = {"feature_ablation": captum_attr.FeatureAblation, "shapley_values": captum_attr.ShapleyValues}[method](model)
    inp = captum_attr.TextTokenInput(prompt, tok, baselines=tok.pad_token_id)
    theirs = captum_attr.LLMAttribution(engine, tok).attribute(inp, target=TARGET, forward_in_tokens=False)
    torch.testing.assert_close(ours.matrix, theirs.token_attr.double(), atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.sequence_scores, theirs.seq_attr.double(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", ["feature_ablation"])
def test_deletion_equals_captum_template_with_empty_baselines(method, tok):
    """Deleting a word's tokens is Captum's template input with the word replaced by the empty string.

    Only leave-one-out: Shapley values delete every word in the empty coalition, which Captum's
    wrapper cannot run (an empty prompt); limelight's empty prompt is the BOS/EOS token alone.
    """
    model = llama(1)
    words = PROMPT.split()
    ours = explain_generation(model, tok, PROMPT, TARGET, method=method, features="words")
    engine = {"feature_ablation": captum_attr.FeatureAblation, "shapley_values": captum_attr.ShapleyValues}[method](model)
    inp = captum_attr.TextTemplateInput(" ".join(["{}"] * len(words)), words, baselines=[""] * len(words))
    theirs = captum_attr.LLMAttribution(engine, tok).attribute(inp, target=TARGET, forward_in_tokens=False)
    torch.testing.assert_close(ours.matrix, theirs.token_attr.double(), atol=1e-5, rtol=0)


def test_shapley_sampling_with_two_features_is_exact(tok):
    """Antithetic permutations of two features are both orders: the estimate is Captum's exact Shapley value."""
    model = gpt2(2)
    prompt = "capital france"
    ours = explain_generation(model, tok, prompt, TARGET, method="shapley_value_sampling", features="tokens", erasure="unk", n_samples=2)
    inp = captum_attr.TextTokenInput(prompt, tok, baselines=tok.unk_token_id)
    theirs = captum_attr.LLMAttribution(captum_attr.ShapleyValues(model), tok).attribute(inp, target=TARGET, forward_in_tokens=False)
    torch.testing.assert_close(ours.matrix, theirs.token_attr.double(), atol=1e-5, rtol=0)
