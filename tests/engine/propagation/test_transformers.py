"""DeepLift and LRP on Hugging Face transformers as they are: BERT, RoBERTa, DistilBERT, GPT-2, Llama."""

from __future__ import annotations

import pytest
import torch
import transformers as hf

import limelight
from limelight.engine.propagation import LayerDeepLift, LayerLRP
from tests.text.tiny_models import tiny_classifier

SIZE = {"vocab_size": 40, "num_labels": 2, "pad_token_id": 0}


def family(name: str) -> hf.PreTrainedModel:
    torch.manual_seed(0)
    if name == "bert":
        return hf.BertForSequenceClassification(
            hf.BertConfig(
                hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, max_position_embeddings=16, **SIZE
            )
        )
    if name == "roberta":
        config = hf.RobertaConfig(
            hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, max_position_embeddings=20, **SIZE
        )
        return hf.RobertaForSequenceClassification(config)
    if name == "distilbert":
        config = hf.DistilBertConfig(dim=16, n_layers=2, n_heads=2, hidden_dim=32, max_position_embeddings=16, **SIZE)
        return hf.DistilBertForSequenceClassification(config)
    if name == "gpt2":
        config = hf.GPT2Config(n_embd=16, n_layer=2, n_head=2, n_positions=16, bos_token_id=1, eos_token_id=2, **SIZE)
        return hf.GPT2ForSequenceClassification(config)
    config = hf.LlamaConfig(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=32,
        max_position_embeddings=16,
        **SIZE,
    )
    return hf.LlamaForSequenceClassification(config)


def check(name: str, attention: str) -> None:
    model = family(name).eval()
    model.config._attn_implementation = attention
    ids = torch.randint(3, 40, (3, 6), generator=torch.Generator().manual_seed(1))
    kwargs = {"forward_kwargs": {"attention_mask": torch.ones_like(ids)}}
    embeddings = model.get_input_embeddings()
    plain = model(ids).logits[:, 1].detach().double()
    deeplift = LayerDeepLift(model, embeddings).attribute(ids, torch.zeros_like(ids), target=1, **kwargs)
    torch.testing.assert_close(deeplift.input_value, plain, rtol=1e-5, atol=1e-6)  # the hooked forward is the plain one
    change = (deeplift.input_value - deeplift.baseline_value).abs()
    assert (deeplift.delta.abs() <= 1e-4 * change + 1e-6).all(), (deeplift.delta, change)
    lrp = LayerLRP(model, embeddings).attribute(ids, target=1, **kwargs)
    torch.testing.assert_close(lrp.input_value, plain, rtol=1e-5, atol=1e-6)
    assert torch.isfinite(lrp.attributions).all() and lrp.attributions.abs().sum() > 0
    if name == "llama":  # no biases anywhere: the transformer rules conserve relevance exactly
        assert (lrp.delta.abs() <= 1e-4 * plain.abs() + 1e-5).all(), lrp.delta


def test_bert_is_complete_with_deeplift_and_explained_by_lrp() -> None:
    check("bert", "eager")


@pytest.mark.slow
@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("name", ["bert", "roberta", "distilbert", "gpt2", "llama"])
def test_every_family_and_attention_implementation(name: str, attention: str) -> None:
    check(name, attention)


@pytest.mark.parametrize("method", ["deeplift", "lrp"])
def test_text_explain_runs_the_propagation_methods(method: str) -> None:
    model, tokenizer = tiny_classifier("bert")
    explanation = limelight.explain(model, tokenizer, "a fine and good movie", method=method)
    assert explanation.method == method and explanation.method_settings["engine_method"] == f"layer_{method}"
    scores = [w.score for w in explanation.word_spans]
    assert len(scores) == 5 and any(s != 0 for s in scores)
    evidence = explanation.evidence
    assert evidence.delta is not None and evidence.input_value is not None and evidence.baseline_value is not None
    total = sum(t.score for t in explanation.token_spans)
    assert abs(total - (evidence.input_value - evidence.baseline_value) - evidence.delta) < 1e-4
    if method == "deeplift":
        assert abs(evidence.delta) < 1e-3 * max(1.0, abs(evidence.input_value - evidence.baseline_value))


def test_text_lrp_takes_a_composite() -> None:
    model, tokenizer = tiny_classifier("bert")
    explanation = limelight.explain(model, tokenizer, "a fine movie", method="lrp", composite="transformer_gamma")
    assert explanation.method_settings["composite"] == "transformer_gamma"


def test_reveal_cancel_on_bert_and_through_text_explain() -> None:
    model = family("bert").eval()
    ids = torch.randint(3, 40, (3, 6), generator=torch.Generator().manual_seed(1))
    kwargs = {"forward_kwargs": {"attention_mask": torch.ones_like(ids)}}
    embeddings = model.get_input_embeddings()
    rescale = LayerDeepLift(model, embeddings).attribute(ids, torch.zeros_like(ids), target=1, **kwargs)
    reveal = LayerDeepLift(model, embeddings, rule="reveal_cancel").attribute(ids, torch.zeros_like(ids), target=1, **kwargs)
    change = (reveal.input_value - reveal.baseline_value).abs()
    assert (reveal.delta.abs() <= 1e-4 * change + 1e-6).all(), (reveal.delta, change)
    assert not torch.allclose(reveal.attributions, rescale.attributions, rtol=0, atol=1e-7)
    text_model, tokenizer = tiny_classifier("bert")
    explanation = limelight.explain(text_model, tokenizer, "a fine and good movie", method="deeplift", rule="reveal_cancel")
    assert explanation.method_settings["rule"] == "reveal_cancel"
    evidence = explanation.evidence
    assert abs(evidence.delta) < 1e-3 * max(1.0, abs(evidence.input_value - evidence.baseline_value))
