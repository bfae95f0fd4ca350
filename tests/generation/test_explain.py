"""explain_generation on tiny random models: completeness, batching, chat templates, quantities, generation, errors."""

from __future__ import annotations

import pytest
import torch

from limelight.errors import InvalidInputError, LimelightError
from limelight.generation import GenerationExplainer, GenerationExplanation, explain_generation

from .models import gpt2, llama, tokenizer

PROMPT = "the capital of france is"
TARGET = "paris . the"


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


@pytest.fixture(scope="module")
def model():
    return gpt2()


def log_probs(model, ids: list[int], target: list[int]) -> torch.Tensor:
    """The target tokens' log-probabilities after ``ids``, from one plain forward."""
    with torch.no_grad():
        logits = model(torch.tensor([ids + target])).logits[0, len(ids) - 1 : len(ids) - 1 + len(target)]
    return logits.log_softmax(-1)[torch.arange(len(target)), torch.tensor(target)].double()


def test_integrated_gradients_rows_add_up_to_each_tokens_change(model, tok):
    e = explain_generation(model, tok, PROMPT, TARGET, baseline="eos", n_steps=64)
    ids, target = tok.encode(PROMPT), tok.encode(TARGET)
    at_prompt = log_probs(model, ids, target)
    at_baseline = log_probs(model, [tok.eos_token_id] * len(ids), target)
    torch.testing.assert_close(e.values, at_prompt, atol=1e-5, rtol=0)
    torch.testing.assert_close(e.matrix.sum(1), at_prompt - at_baseline, atol=2e-3, rtol=0)
    torch.testing.assert_close(e.delta, e.matrix.sum(1) - (at_prompt - at_baseline), atol=1e-5, rtol=0)
    assert bool(e.evidence.converged.all())


@pytest.mark.parametrize(
    "method,options",
    [("integrated_gradients", {"n_steps": 8}), ("saliency", {}), ("feature_ablation", {}), ("kernel_shap", {"seed": 3, "n_samples": 40})],
)
def test_many_prompts_equal_single_ones(method, options, tok):
    model = llama()
    prompts = [
        "the capital of france is",
        "tell me about the big red river in lyon please",
        [{"role": "user", "content": "where is paris ?"}],
    ]
    targets = ["paris .", "it was a small city and", "in france"]
    explainer = GenerationExplainer(model, tok, method=method, **options)
    together = explainer.explain(prompts, targets)
    for prompt, target, batched in zip(prompts, targets, together):
        alone = explainer.explain(prompt, target)
        assert alone.features == batched.features and alone.generated == batched.generated
        torch.testing.assert_close(batched.matrix, alone.matrix, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(batched.values, alone.values, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("method", ["integrated_gradients", "feature_ablation"])
def test_chat_template_tokens_are_never_attributed(method, tok, model):
    messages = [{"role": "system", "content": "answer please"}, {"role": "user", "content": "what is the capital of france ?"}]
    e = explain_generation(model, tok, messages, "paris", method=method, features="tokens")
    content = [tok.decode([i]) for i in tok.encode("answer please") + tok.encode("what is the capital of france ?")]
    assert [text for text, _ in e.features] == content
    assert all(e.prompt[s:t] == text for text, (s, t) in e.features)
    assert e.roles == ["system", "user"]
    assert "<|assistant|>" in e.prompt and not any("<|" in text for text, _ in e.features)
    if method == "integrated_gradients":  # template embeddings stay put: the rows still add up
        assert float(e.delta.abs().max()) < 1e-2
    messages_view = explain_generation(model, tok, messages, "paris", method=method, features="messages")
    assert [text for text, _ in messages_view.features] == ["answer please", "what is the capital of france ?"]


def test_target_none_explains_the_greedy_continuation(model, tok):
    e = explain_generation(model, tok, PROMPT, method="feature_ablation", max_new_tokens=4)
    ids = torch.tensor([tok.encode(PROMPT)])
    greedy = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=4, do_sample=False, pad_token_id=0)[0, ids.shape[1] :]
    assert e.generated_ids == greedy.tolist() and len(e.generated) == 4
    assert e.matrix.shape == (4, 5)


def test_contrast_explains_the_difference_of_two_tokens(model, tok):
    e = explain_generation(model, tok, PROMPT, " paris", method="feature_ablation", contrast=" london")
    ids = tok.encode(PROMPT)
    paris, london = log_probs(model, ids, tok.encode("paris")), log_probs(model, ids, tok.encode("london"))
    torch.testing.assert_close(e.values, paris - london, atol=1e-5, rtol=0)
    assert e.contrast == " london" and e.matrix.shape == (1, 5)
    with pytest.raises(InvalidInputError, match="contrast"):
        explain_generation(model, tok, PROMPT, "paris", contrast="london or lyon")


@pytest.mark.parametrize("quantity", ["probability", "logit"])
def test_quantities(quantity, model, tok):
    e = explain_generation(model, tok, PROMPT, TARGET, method="feature_ablation", quantity=quantity)
    ids, target = tok.encode(PROMPT), tok.encode(TARGET)
    if quantity == "probability":
        torch.testing.assert_close(e.values, log_probs(model, ids, target).exp(), atol=1e-6, rtol=0)
    else:
        with torch.no_grad():
            logits = model(torch.tensor([ids + target])).logits[0, len(ids) - 1 : -1]
        torch.testing.assert_close(e.values, logits[torch.arange(3), torch.tensor(target)].double(), atol=1e-5, rtol=0)


def test_deletion_removes_the_features_tokens(model, tok):
    e = explain_generation(model, tok, PROMPT, TARGET, method="feature_ablation", features="words")
    ids, target = tok.encode(PROMPT), tok.encode(TARGET)
    without_france = log_probs(model, [i for k, i in enumerate(ids) if k != 3], target)
    torch.testing.assert_close(e.matrix[:, 3], log_probs(model, ids, target) - without_france, atol=1e-5, rtol=0)
    torch.testing.assert_close(e.sequence_scores, e.matrix.sum(0))


def test_words_sentences_and_spans(tok, model):
    prompt = "where is paris ? it was big , and red ."
    words = explain_generation(model, tok, prompt, "the", method="feature_ablation", features="sentences")
    assert [text for text, _ in words.features] == ["where is paris ?", "it was big , and red ."]
    spans = explain_generation(model, tok, prompt, "the", method="saliency", features=[(0, 8), (17, 23)])
    assert [text for text, _ in spans.features] == ["where is", "it was"]
    with pytest.raises(InvalidInputError, match="span"):
        explain_generation(model, tok, prompt, "the", features=[(5, 2)])


def test_json_round_trip_and_dataframe(model, tok):
    e = explain_generation(model, tok, PROMPT, TARGET, n_steps=8)
    back = GenerationExplanation.from_json(e.to_json())
    assert back.features == e.features and back.generated == e.generated and back.settings == e.settings
    assert (
        torch.equal(back.matrix, e.matrix) and torch.equal(back.delta, e.delta) and torch.equal(back.evidence.n_steps, e.evidence.n_steps)
    )
    frame = e.to_dataframe()
    assert len(frame) == 3 * 5 and set(frame["generated"]) == set(e.generated)
    assert frame["score"].sum() == pytest.approx(float(e.matrix.sum()))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"method": "occlusion"}, "not available"),
        ({"features": "paragraphs"}, "kind of feature"),
        ({"erasure": "mask"}, "erasure"),
        ({"baseline": "mask"}, "baseline"),
        ({"quantity": "entropy"}, "quantity"),
        ({"n_steps": "auto", "rule": "riemann_left"}, "auto"),
        ({"method": "noise_tunnel", "inner": "feature_ablation"}, "wraps"),
        ({"baseline": ["pad", "eos"]}, "distribution"),
        ({"method": "feature_ablation", "attribute_generated": True}, "gradient methods"),
        ({"method": "saliency", "n_steps": 5}, "does not take"),
    ],
)
def test_bad_arguments_are_limelight_errors(kwargs, match, model, tok):
    with pytest.raises(LimelightError, match=match):
        explain_generation(model, tok, PROMPT, TARGET, **kwargs)


def test_bad_prompts_are_limelight_errors(model, tok):
    with pytest.raises(InvalidInputError, match="empty"):
        explain_generation(model, tok, "", TARGET)
    with pytest.raises(InvalidInputError, match="role"):
        explain_generation(model, tok, [{"role": "user"}], TARGET)
    with pytest.raises(InvalidInputError, match="targets"):
        explain_generation(model, tok, [PROMPT, PROMPT], [TARGET])


@pytest.mark.slow
def test_a_2000_token_prompt_within_a_memory_budget(tok):
    model = llama()
    words = "the big red river and the small blue city".split()
    prompt = " ".join(words[i % len(words)] for i in range(2000))
    explainer = GenerationExplainer(model, tok, method="integrated_gradients", features="sentences", n_steps=8, memory_budget="64MB")
    e = explainer.explain(prompt, "paris . the")
    assert len(tok.encode(prompt)) == 2000 and e.matrix.shape == (3, 1)
    assert float(e.delta.abs().max()) < 0.05
    rows = explainer.runner.chunk_rows(2000, 3, grad=True)
    assert 1 <= rows < 8  # the 8 path points did not all go in one chunk
    assert 2 * rows * explainer.runner._row_bytes[(2000, 3, True)] <= 64 * 1024**2


def test_the_users_model_is_left_as_it_was_with_weights_frozen_during_the_passes(tok):
    model = gpt2().train()
    frozen = next(model.parameters())
    frozen.requires_grad_(False)  # the user's own choice, kept
    before = [p.requires_grad for p in model.parameters()]
    seen: list[bool] = []
    forward = model.forward

    def spy(*args, **kwargs):
        seen.append(any(p.requires_grad for p in model.parameters()) or model.training)
        return forward(*args, **kwargs)

    model.forward = spy
    e = explain_generation(model, tok, PROMPT, TARGET, n_steps=4)
    assert seen and not any(seen)  # every pass: eval mode, no parameter asking for a gradient
    assert [p.requires_grad for p in model.parameters()] == before and model.training
    assert all(p.grad is None for p in model.parameters()) and bool(torch.isfinite(e.matrix).all())

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    model.forward = broken
    with pytest.raises(RuntimeError, match="out of memory"):
        explain_generation(model, tok, PROMPT, TARGET, method="saliency")
    assert [p.requires_grad for p in model.parameters()] == before and model.training


@pytest.mark.parametrize(("method", "options"), [("feature_ablation", {}), ("integrated_gradients", {"n_steps": 4})])
def test_the_output_layer_reads_one_contiguous_block_and_the_hook_is_removed(tok, method, options):
    """Frozen weights make ``matmul`` skip folding a strided input into one product (a batched one, much slower)."""
    model = llama()
    head = model.get_output_embeddings()
    seen: list[bool] = []
    spy = head.register_forward_hook(lambda m, args, out: seen.append(args[0].is_contiguous()))
    e = explain_generation(model, tok, PROMPT, TARGET, method=method, **options)
    spy.remove()
    assert seen and all(seen) and bool(torch.isfinite(e.matrix).all())
    assert not head._forward_pre_hooks  # ours is gone after the call
