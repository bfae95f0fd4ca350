"""Head importance and layer contribution: a knocked-out head scores 0, integrals are complete, oracles agree."""

from __future__ import annotations

import copy

import pytest
import torch

from limelight.errors import InvalidInputError, LayerError, TargetError
from limelight.text import head_importance
from limelight.text.heads import attention_sites
from tests.internals.conftest import KNOCKED, TEXTS, knock_out
from tests.text.tiny_models import tiny_classifier


@pytest.fixture(scope="module")
def result(knocked_bert):
    model, tokenizer = knocked_bert
    return head_importance(model, tokenizer, list(TEXTS), n_steps=24, batch_size=2)


def _logits(model, tokenizer, text):
    with torch.no_grad():
        return model(**tokenizer(text, return_tensors="pt")).logits[0].double()


def test_knocked_out_head_has_zero_importance_and_zero_ablation(result) -> None:
    layer, head = KNOCKED
    assert result.scores.shape == (len(TEXTS), 2, 2)
    assert result.scores[:, layer, head].abs().max() < 1e-12
    assert result.ablation[:, layer, head].abs().max() < 1e-6
    others = result.scores.clone()
    others[:, layer, head] = float("nan")
    assert others.nan_to_num(1.0).abs().min() > 1e-4  # every live head matters a little


def test_head_integrals_are_complete(result) -> None:
    e = result.evidence
    gap = e.input_value - e.baseline_value
    assert torch.allclose(result.scores.sum((1, 2)), gap, atol=1e-5)
    assert e.delta.abs().max() < 1e-5 and bool(e.converged.all())
    assert gap.abs().min() > 1e-3  # the check is not vacuous


def test_all_gates_open_is_the_model_and_ablation_matches_weight_surgery(knocked_bert, result) -> None:
    model, tokenizer = knocked_bert
    for i, text in enumerate(TEXTS):
        target = int(_logits(model, tokenizer, text).argmax())
        assert result.target_labels[i] == model.config.id2label[target]
        assert float(result.evidence.input_value[i]) == pytest.approx(float(_logits(model, tokenizer, text)[target]), abs=1e-5)
        surgery = copy.deepcopy(model)
        knock_out(surgery, 1, 0)
        closed = float(_logits(model, tokenizer, text)[target] - _logits(surgery, tokenizer, text)[target])
        assert float(result.ablation[i, 1, 0]) == pytest.approx(closed, abs=1e-5)


def test_layer_contributions_are_complete(result) -> None:
    e = result.layer_evidence
    assert result.layer_scores.shape == (len(TEXTS), 2)
    assert torch.allclose(result.layer_scores.sum(1), e.input_value - e.baseline_value, atol=1e-5)
    assert torch.allclose(e.input_value, result.evidence.input_value, rtol=1e-5, atol=1e-5)


def test_results_do_not_depend_on_batching(knocked_bert, result) -> None:
    model, tokenizer = knocked_bert
    alone = head_importance(model, tokenizer, list(TEXTS), n_steps=24, batch_size=1, internal_batch_size=5, layers=False)
    assert torch.allclose(alone.scores, result.scores, atol=1e-6)
    assert torch.allclose(alone.ablation, result.ablation, atol=1e-6)
    assert alone.layer_scores is None


def test_a_named_target_and_distilbert_projections() -> None:
    model, tokenizer = tiny_classifier("distilbert", seed=1)
    sites = attention_sites(model)
    assert sites.n_layers == 2 and sites.n_heads == 2 and sites.block_names[0].endswith("layer.0")
    out = head_importance(model, tokenizer, "a fine film", target="positive", n_steps="auto", ablation=False, layers=False)
    assert out.target_labels == ("positive",)
    assert bool(out.evidence.converged.all()) and int(out.evidence.n_steps[0]) > 5


def test_refusals(knocked_bert) -> None:
    model, tokenizer = knocked_bert
    with pytest.raises(InvalidInputError, match="empty"):
        head_importance(model, tokenizer, [])
    with pytest.raises(TargetError):
        head_importance(model, tokenizer, "x", target=7)
    with pytest.raises(TargetError, match="entries"):
        head_importance(model, tokenizer, ["x", "y"], target=[0])
    with pytest.raises(InvalidInputError, match="tokens"):
        head_importance(model, tokenizer, "word " * 200)
    with pytest.raises(LayerError, match="no attention output projection"):
        attention_sites(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    with pytest.raises(InvalidInputError, match="not"):
        attention_sites(model, projections=[torch.nn.Linear(2, 2)])


def test_projections_given_explicitly(knocked_bert) -> None:
    model, _ = knocked_bert
    found = attention_sites(model)
    given = attention_sites(model, n_heads=2, projections=[block.attention.output.dense for block in model.bert.encoder.layer])
    assert given == found


@pytest.mark.parametrize("architecture", ["gpt2", "llama"])
def test_gates_on_decoder_architectures(architecture: str) -> None:
    from transformers import GPT2Config, GPT2ForSequenceClassification, LlamaConfig, LlamaForSequenceClassification

    from limelight.text.heads import gated_forward

    torch.manual_seed(0)
    if architecture == "gpt2":
        model = GPT2ForSequenceClassification(
            GPT2Config(n_embd=16, n_layer=2, n_head=4, vocab_size=50, pad_token_id=0, bos_token_id=1, eos_token_id=1)
        )
    else:
        config = LlamaConfig(
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=32,
            vocab_size=50,
            pad_token_id=0,
        )
        model = LlamaForSequenceClassification(config)
    model.eval()
    sites = attention_sites(model)
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        plain = model(input_ids=ids).logits
        for unit, shape in (("head", (1, 2, 4)), ("layer", (1, 2))):
            forward = gated_forward(model, sites, unit)
            assert torch.allclose(forward(torch.ones(shape), input_ids=ids).logits, plain)
            assert not torch.allclose(forward(torch.zeros(shape), input_ids=ids).logits, plain)


def test_head_integrals_match_captum(knocked_bert, result) -> None:
    captum = pytest.importorskip("captum.attr")
    from limelight.text.heads import gated_forward

    model, tokenizer = knocked_bert
    forward = gated_forward(model, attention_sites(model), "head")
    for i, text in enumerate(TEXTS[:2]):
        inputs = tokenizer(text, return_tensors="pt")
        target = model.config.label2id[result.target_labels[i]]

        def logits(gates, ids, mask, types):
            return forward(gates, input_ids=ids, attention_mask=mask, token_type_ids=types).logits

        theirs = captum.IntegratedGradients(logits).attribute(
            torch.ones(1, 2, 2),
            baselines=torch.zeros(1, 2, 2),
            target=target,
            additional_forward_args=(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]),
            method="gausslegendre",
            n_steps=24,
        )
        assert torch.allclose(result.scores[i], theirs[0].double(), atol=1e-5)


def test_json_round_trip(result) -> None:
    from limelight.text import HeadImportance

    back = HeadImportance.from_json(result.to_json())
    assert back.texts == result.texts and back.layer_names == result.layer_names and back.n_steps == result.n_steps
    assert torch.equal(back.scores, result.scores) and torch.equal(back.ablation, result.ablation)
    assert torch.equal(back.evidence.delta, result.evidence.delta) and torch.equal(back.evidence.converged, result.evidence.converged)
    assert back.evidence.tolerance == result.evidence.tolerance
    with pytest.raises(InvalidInputError, match="not a head-importance result"):
        HeadImportance.from_dict({"scores": []})
