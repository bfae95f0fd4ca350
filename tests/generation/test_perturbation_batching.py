"""Perturbation methods batch across prompts: shared forwards, the numbers of single-prompt calls, Captum's."""

from __future__ import annotations

import pytest
import torch

from limelight.engine.chunking import CPU_FORWARD_ROWS
from limelight.generation import GenerationExplainer

from .models import gpt2, llama, tokenizer

captum_attr = pytest.importorskip("captum.attr")

PROMPTS = [
    "the capital of france is",
    "tell me about the big red river in lyon please",
    [{"role": "user", "content": "where is paris ?"}],
    "sun",
]
TARGETS = ["paris . the", "it was a small city and", "in france", "is big"]


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


def counted(model) -> tuple[list[int], list[int]]:
    """Rows of every scoring forward the model runs from now on, and the lengths of the prefix forwards (one row each)."""
    rows: list[int] = []
    prefixes: list[int] = []
    forward = model.forward

    def spy(*args, **kwargs):
        ids = kwargs.get("input_ids")
        if ids is not None:  # not the one-row measurement of activations (embeddings in)
            (prefixes if kwargs.get("logits_to_keep") == 1 else rows).append(int(ids.shape[1 if kwargs.get("logits_to_keep") == 1 else 0]))
        return forward(*args, **kwargs)

    model.forward = spy
    return rows, prefixes


@pytest.mark.parametrize(
    "method,options,build,cache",
    [
        ("feature_ablation", {}, gpt2, True),
        ("feature_ablation", {"erasure": "pad"}, llama, False),
        ("shapley_value_sampling", {"seed": 5, "n_samples": 4}, gpt2, True),
        ("kernel_shap", {"seed": 6, "n_samples": 20}, llama, True),
        ("lime", {"seed": 7, "n_samples": 20, "erasure": "unk"}, gpt2, False),
    ],
)
def test_prompts_share_forwards_and_equal_single_calls(method, options, build, cache, tok):
    model = build()
    explainer = GenerationExplainer(model, tok, method=method, prefix_cache=cache, **options)
    single, _ = counted(model)
    alone = [explainer.explain(p, t) for p, t in zip(PROMPTS, TARGETS)]
    forwards_alone = len(single)
    rows, prefixes = counted(model)
    together = explainer.explain(PROMPTS, TARGETS)
    total = sum(e.settings["evaluations"] for e in alone)
    assert sum(rows) == total and max(rows) <= CPU_FORWARD_ROWS and len(rows) < forwards_alone  # prompts share forwards
    assert len(prefixes) <= (3 if cache else 0)  # "sun" has no prefix worth caching; the planner may run the others plain
    for a, b in zip(alone, together):
        assert a.features == b.features and a.generated == b.generated and a.settings == b.settings
        torch.testing.assert_close(b.matrix, a.matrix, atol=1e-5, rtol=0)
        torch.testing.assert_close(b.values, a.values, atol=1e-5, rtol=0)


def test_chunk_size_does_not_change_the_numbers(tok):
    model = llama(2)
    big = GenerationExplainer(model, tok, method="feature_ablation")
    small = GenerationExplainer(model, tok, method="feature_ablation", memory_budget="64KB")
    rows, _ = counted(model)
    tiny = small.explain(PROMPTS, TARGETS)
    assert max(rows) < 4 < len(rows)
    for a, b in zip(big.explain(PROMPTS, TARGETS), tiny):
        torch.testing.assert_close(b.matrix, a.matrix, atol=1e-5, rtol=0)


@pytest.mark.parametrize("build", [gpt2, llama])
def test_batched_cached_feature_ablation_equals_captum_per_prompt(build, tok):
    """Captum's one-forward LLMAttribution, one prompt at a time, against one cached call for all prompts."""
    model = build()
    prompts, targets = PROMPTS[:2], TARGETS[:2]
    ours = GenerationExplainer(model, tok, method="feature_ablation", features="tokens", erasure="pad").explain(prompts, targets)
    llm = captum_attr.LLMAttribution(captum_attr.FeatureAblation(model), tok)
    for prompt, target, e in zip(prompts, targets, ours):
        inp = captum_attr.TextTokenInput(prompt, tok, baselines=tok.pad_token_id)
        theirs = llm.attribute(inp, target=target, forward_in_tokens=False)
        torch.testing.assert_close(e.matrix, theirs.token_attr.double(), atol=1e-5, rtol=0)
        torch.testing.assert_close(e.sequence_scores, theirs.seq_attr.double(), atol=1e-5, rtol=0)
