"""The key/value cache of the unchanged prompt prefix: cached scores equal the plain teacher-forced forward."""

from __future__ import annotations

import pytest
import torch
from transformers import MistralConfig, MistralForCausalLM

from limelight.generation import GenerationExplainer, prefix_cache
from limelight.generation.prefix_cache import Row, cache_keyword, chunk_cost, plan_batch, plan_chunks, plan_cuts
from limelight.generation.quantity import Quantity
from limelight.generation.runner import GenerationRunner

from .models import gpt2, llama, tokenizer

PROMPT = "tell me about the big red river in lyon please"
TARGET = "it was a small city"


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


@pytest.fixture
def free_forwards(monkeypatch):
    """No fixed cost per forward: the planner then caches even these short test prompts (it would run them plain)."""
    monkeypatch.setattr(prefix_cache, "CHUNK_OVERHEAD", 0.0)


def one_row(model, prompt: tuple[int, ...], target: tuple[int, ...]) -> torch.Tensor:
    """The target's log-probabilities from one plain forward of one unpadded row (the oracle)."""
    with torch.no_grad():
        logits = model(torch.tensor([prompt + target])).logits[0, len(prompt) - 1 : len(prompt) - 1 + len(target)]
    return logits.double().log_softmax(-1)[torch.arange(len(target)), torch.tensor(target)]


@pytest.mark.parametrize("build", [gpt2, llama])
def test_rows_from_the_cache_equal_one_plain_forward_each(build, tok, free_forwards):
    """Rows of two prompts, late and early changes, deletions and replacements, share chunks and a padded cache."""
    model = build()
    runner = GenerationRunner(model, tok, 2**30)
    first, second = tuple(tok.encode(PROMPT)), tuple(tok.encode("the capital of france is"))
    target, other = tuple(tok.encode(TARGET)), tuple(tok.encode("paris ."))
    rows = [
        Row(first, target, reference=first),
        Row(first[:-1], target, reference=first),  # last token deleted: everything before it cached
        Row(first[:6] + first[8:], target, reference=first),
        Row(first[:3] + (0,) * 2 + first[5:], target, reference=first),  # two tokens replaced by PAD
        Row(first[1:], target, reference=first),  # the first token changes: nothing to reuse
        Row(second[:2] + second[3:], other, reference=second),
        Row(second, other, reference=second),
        Row(second[:1], other),  # no reference
    ]
    got = runner.score_rows(rows, Quantity())
    assert runner.scorer.keyword is not None and runner.scorer.reused_tokens == 9 + 8 + 6 + 3 + 0 + 2 + 4
    for row, values in zip(rows, got):
        torch.testing.assert_close(values, one_row(model, row.prompt, row.target), atol=1e-5, rtol=0)


def test_cuts_keep_one_prompt_token_and_fall_back_where_the_cache_does_not_pay_off():
    ref = (1, 2, 3, 4, 5)
    assert plan_cuts([Row(ref, (9,), reference=ref), Row(ref[:4], (9,), reference=ref)], True) == [4, 3]
    assert plan_cuts([Row(ref, (9,), reference=ref), Row(ref[:4], (9,), reference=ref)], False) == [0, 0]
    # only the unperturbed prompt itself would use the prefix: computing it costs as much as it saves
    assert plan_cuts([Row(ref, (9,), reference=ref), Row((7, *ref[1:]), (9,), reference=ref)], True) == [0, 0]


def test_rows_are_grouped_by_cut_point_so_one_token_features_pay_off():
    """One row per cut (a token replaced at each position): one sorted run of chunks would pad every row to ~its longest suffix."""
    ref = tuple(range(1, 41))
    rows = [Row(ref, tuple(range(10)), reference=ref)] + [
        Row(ref[:k] + (0,) + ref[k + 1 :], tuple(range(10)), reference=ref) for k in range(40)
    ]
    cuts = plan_cuts(rows, True)
    plan = plan_batch(rows, cuts, 32, 32)
    plain = plan_chunks(rows, [0] * len(rows), 32)
    assert sorted(i for chunk in plan.chunks for i in chunk) == list(range(len(rows))) and max(map(len, plan.chunks)) <= 32
    assert all(plan.cuts[i] == cut for i, cut in enumerate(cuts) if cut >= 10) and plan.cost < 0.8 * plain.cost
    one_run = sum(chunk_cost(len(c), max(len(ref) - cuts[i] for i in c) + 10, max(cuts[i] for i in c)) for c in [range(32), range(32, 41)])
    assert plan.cost < one_run


def test_the_plan_falls_back_to_plain_forwards_where_the_cache_would_cost():
    ref = tuple(range(1, 41))
    early = [Row(ref, (9,), reference=ref)] + [Row(ref[:1] + (0,) + ref[2:], (9,), reference=ref), Row(ref[1:], (9,), reference=ref)]
    cuts = plan_cuts(early, True)
    assert any(cuts) and plan_batch(early, cuts, 32, 32).cuts == [0, 0, 0]  # 1 token saved per row: not worth a prefix forward
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):  # whatever the rows, the plan is never estimated dearer than running them all whole
        rows = []
        for _ in range(int(torch.randint(1, 30, (1,), generator=generator))):
            cut = int(torch.randint(0, 40, (1,), generator=generator))
            tail = int(torch.randint(0, 40 - cut, (1,), generator=generator))
            rows.append(Row(ref[:cut] + (0,) * (tail + 1), (9,) * int(torch.randint(1, 4, (1,), generator=generator)), reference=ref))
        plan = plan_batch(rows, plan_cuts(rows, True), 8, 16)
        assert plan.cost <= plan_chunks(rows, [0] * len(rows), 16).cost
        assert sorted(i for chunk in plan.chunks for i in chunk) == list(range(len(rows)))


@pytest.mark.parametrize(
    "method,options,build,erasure",
    [
        ("feature_ablation", {}, gpt2, "delete"),
        ("feature_ablation", {}, llama, "pad"),
        ("shapley_value_sampling", {"seed": 1, "n_samples": 4}, llama, "delete"),
        ("kernel_shap", {"seed": 2, "n_samples": 24}, gpt2, "pad"),
        ("lime", {"seed": 3, "n_samples": 24}, llama, "delete"),
    ],
)
def test_cached_explanations_equal_uncached_ones(method, options, build, erasure, tok, free_forwards):
    model = build()
    on = GenerationExplainer(model, tok, method=method, features="words", erasure=erasure, **options)
    off = GenerationExplainer(model, tok, method=method, features="words", erasure=erasure, prefix_cache=False, **options)
    cached, plain = on.explain(PROMPT, TARGET), off.explain(PROMPT, TARGET)
    assert on.runner.scorer.reused_tokens > 0 and off.runner.scorer.reused_tokens == 0
    torch.testing.assert_close(cached.matrix, plain.matrix, atol=1e-5, rtol=0)
    torch.testing.assert_close(cached.values, plain.values, atol=1e-5, rtol=0)
    assert cached.settings["evaluations"] == plain.settings["evaluations"]


def test_a_2000_token_prompt_with_late_sentences_ablated_within_a_memory_budget(tok):
    model = llama(4)
    sentences = [" ".join([w] * 198) + " ." for w in "the capital of france is paris london lyon city river".split()]
    prompt = " ".join(sentences) + " a" * 10  # 10 sentences of 199 tokens, 10 more
    start = len(" ".join(sentences[:8])) + 1
    late = [(start, start + len(sentences[8])), (len(prompt) - 20 - len(sentences[9]), len(prompt) - 20), (len(prompt) - 19, len(prompt))]
    budget = 3 * 1024**2  # a few rows of 2,000 tokens per chunk
    on = GenerationExplainer(model, tok, method="feature_ablation", features=late, memory_budget=budget)
    off = GenerationExplainer(model, tok, method="feature_ablation", features=late, memory_budget=budget, prefix_cache=False)
    assert len(tok.encode(prompt)) == 2000
    held: list[int] = []
    forward = model.forward

    def spy(*args, **kwargs):
        out = forward(*args, **kwargs)
        if kwargs.get("input_ids") is None:  # the one-row measurement of activations
            return out
        cache, rows = kwargs.get("cache"), kwargs["input_ids"].shape[0]
        cached = 0 if cache is None else sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
        held.append(2 * (cached + rows * on.runner.row_bytes(2000, 2, grad=False)))
        return out

    model.forward = spy
    cached = on.explain(prompt, "paris .")
    model.forward = forward
    plain = off.explain(prompt, "paris .")
    assert [len(text.split()) for text, _ in cached.features] == [199, 199, 10]
    torch.testing.assert_close(cached.matrix, plain.matrix, atol=1e-5, rtol=0)
    # a sentence removed: the tokens before it are reused; the tail or nothing removed: all but the last prompt token
    assert on.runner.scorer.reused_tokens == 199 * 8 + 199 * 9 + 1989 + 1999
    assert len(held) > 2 and max(held) <= budget


def test_sliding_window_models_run_without_the_cache(tok):
    config = MistralConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        sliding_window=4, max_position_embeddings=512, bos_token_id=None, eos_token_id=1, pad_token_id=0,
    )  # fmt: skip
    torch.manual_seed(0)
    model = MistralForCausalLM(config).eval()
    assert cache_keyword(model) is None and cache_keyword(gpt2()) in ("cache", "past_key_values")
    e = GenerationExplainer(model, tok, method="feature_ablation", features="words")
    result = e.explain(PROMPT, TARGET)
    assert e.runner.scorer.reused_tokens == 0 and bool(torch.isfinite(result.matrix).all())
