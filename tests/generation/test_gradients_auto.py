"""``n_steps="auto"`` for generation: every generated token's row meets the completeness tolerance, steps reported per token."""

from __future__ import annotations

import pytest
import torch

from limelight.errors import ConvergenceWarning
from limelight.generation import GenerationExplainer, explain_generation

from .models import gpt2, tokenizer

PROMPT = "the capital of france is"
TARGET = "paris . the"


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


@pytest.fixture(scope="module")
def model():
    return gpt2()


def log_probs(model, ids: list[int], target: list[int]) -> torch.Tensor:
    with torch.no_grad():
        logits = model(torch.tensor([ids + target])).logits[0, len(ids) - 1 : len(ids) - 1 + len(target)]
    return logits.log_softmax(-1)[torch.arange(len(target)), torch.tensor(target)].double()


def test_auto_refines_until_every_row_adds_up(model, tok):
    tolerance = 1e-3
    e = explain_generation(model, tok, PROMPT, TARGET, baseline="eos", n_steps="auto", tolerance=tolerance, features="tokens")
    ids, target = tok.encode(PROMPT), tok.encode(TARGET)
    change = log_probs(model, ids, target) - log_probs(model, [tok.eos_token_id] * len(ids), target)
    torch.testing.assert_close(e.delta, e.matrix.sum(1) - change, atol=1e-5, rtol=0)  # the delta is against the true change
    assert bool((e.delta.abs() <= tolerance * change.abs() + 1e-4).all()) and bool(e.evidence.converged.all())
    steps = e.evidence.n_steps
    assert steps.shape == (3,) and 5 < int(steps.min()) and int(steps.max()) <= 257  # refined past its first 5 nodes
    assert e.settings["n_steps"] == "auto" and e.settings["rule"] == "adaptive_trapezoid"
    with pytest.warns(ConvergenceWarning):  # its first 5 nodes alone are not enough
        start = explain_generation(model, tok, PROMPT, TARGET, baseline="eos", n_steps=5, rule="riemann_trapezoid", tolerance=tolerance)
    assert not bool(start.evidence.converged.all())


def test_auto_reports_tokens_that_hit_max_steps(model, tok):
    with pytest.warns(ConvergenceWarning, match="generated tokens did not converge"):
        e = explain_generation(model, tok, PROMPT, TARGET, baseline="eos", n_steps="auto", tolerance=1e-6, max_steps=6)
    assert int(e.evidence.n_steps.max()) == 6 and not bool(e.evidence.converged.all())


def test_auto_batched_prompts_equal_single_ones(model, tok):
    explainer = GenerationExplainer(model, tok, baseline="pad", n_steps="auto", tolerance=1e-2, max_steps=9)
    prompts, targets = ["the capital of france is", "tell me about the big red river"], ["paris .", "it was a small"]
    for prompt, target, batched in zip(prompts, targets, explainer.explain(prompts, targets)):
        alone = explainer.explain(prompt, target)
        torch.testing.assert_close(batched.matrix, alone.matrix, atol=1e-5, rtol=1e-5)
        assert torch.equal(batched.evidence.n_steps, alone.evidence.n_steps)
