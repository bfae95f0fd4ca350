"""Layer and neuron methods on a tiny random BERT, cross-checked against Captum within 1e-5.

The sampled methods (layer and neuron GradientSHAP) cannot share Captum's random draws; they are
cross-checked on models where the draws do not matter (test_layer_methods, test_neuron_methods).
"""

from __future__ import annotations

import warnings

import pytest
import torch

import limelight as ll

captum_attr = pytest.importorskip("captum.attr")
transformers = pytest.importorskip("transformers")

pytestmark = pytest.mark.slow  # building even a tiny BERT takes seconds


@pytest.fixture(scope="module")
def bert():
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=24,
        max_position_embeddings=16,
        num_labels=3,
        pad_token_id=3,
    )
    model = transformers.BertForSequenceClassification(config).eval()
    ids = torch.tensor([[1, 10, 11, 12, 2], [1, 20, 21, 2, 3]])
    mask = (ids != 3).long()
    embeddings = model.get_input_embeddings()(ids).detach()
    forward = lambda e, m: model(inputs_embeds=e, attention_mask=m).logits  # noqa: E731
    return model, forward, embeddings, mask, ids


def close(ours, theirs):
    if isinstance(theirs, (list, tuple)):
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    else:
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_layer_methods_match_captum_on_bert(bert):
    model, forward, embeddings, mask, _ = bert
    layer, inner = model.bert.encoder.layer[0], model.bert.encoder.layer[1].intermediate
    common = {"target": 1, "additional_forward_args": (mask,)}
    close(
        ll.LayerConductance(forward, layer).attribute(embeddings, n_steps=6, tolerance=None, **common).attributions,
        captum_attr.LayerConductance(forward, layer).attribute(embeddings, n_steps=6, **common),
    )
    close(
        ll.InternalInfluence(forward, inner).attribute(embeddings, n_steps=6, **common).attributions,
        captum_attr.InternalInfluence(forward, inner).attribute(embeddings, n_steps=6, **common),
    )
    close(
        ll.LayerGradientXActivation(forward, [layer, inner]).attribute(embeddings, **common).attributions,
        captum_attr.LayerGradientXActivation(forward, [layer, inner]).attribute(embeddings, **common),
    )
    close(
        ll.LayerActivation(forward, [layer, inner]).attribute(embeddings, additional_forward_args=(mask,)).attributions,
        captum_attr.LayerActivation(forward, [layer, inner]).attribute(embeddings, additional_forward_args=(mask,)),
    )
    tokens = torch.arange(5).reshape(1, 5, 1)  # one feature per token position of the layer's output
    close(
        ll.LayerFeatureAblation(forward, layer).attribute(embeddings, layer_mask=tokens, **common).attributions,
        captum_attr.LayerFeatureAblation(forward, layer).attribute(embeddings, layer_mask=tokens, **common),
    )


def test_layer_integrated_gradients_over_two_embedding_layers_on_token_ids_matches_captum(bert):
    model, _, _, mask, ids = bert
    forward = lambda i, m: model(input_ids=i, attention_mask=m).logits  # noqa: E731
    layers = [model.bert.embeddings.word_embeddings, model.bert.embeddings.token_type_embeddings]
    baseline = torch.where((ids == 1) | (ids == 2), ids, torch.full_like(ids, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = captum_attr.LayerIntegratedGradients(forward, layers).attribute(
            ids, baselines=baseline, target=2, additional_forward_args=(mask,), n_steps=8
        )
    ours = ll.LayerIntegratedGradients(forward, layers).attribute(ids, baseline, target=2, additional_forward_args=(mask,), n_steps=8)
    close(ours.attributions, theirs)
    assert len(ours.attributions) == 2 and ours.delta is not None


def test_neuron_methods_match_captum_on_bert(bert):
    model, forward, embeddings, mask, _ = bert
    layer = model.bert.encoder.layer[0].intermediate
    args = {"additional_forward_args": (mask,)}
    neuron = (2, 5)
    close(
        ll.NeuronGradient(forward, layer).attribute(embeddings, neuron, **args).attributions,
        captum_attr.NeuronGradient(forward, layer).attribute(embeddings, neuron, **args),
    )
    close(
        ll.NeuronIntegratedGradients(forward, layer).attribute(embeddings, neuron, n_steps=6, **args).attributions,
        captum_attr.NeuronIntegratedGradients(forward, layer).attribute(embeddings, neuron, n_steps=6, **args),
    )
    close(
        ll.NeuronConductance(forward, layer).attribute(embeddings, neuron, target=0, n_steps=6, **args).attributions,
        captum_attr.NeuronConductance(forward, layer).attribute(embeddings, neuron, target=0, n_steps=6, method="gausslegendre", **args),
    )
    tokens = torch.arange(5).reshape(1, 5, 1)
    close(
        ll.NeuronFeatureAblation(forward, layer).attribute(embeddings, neuron, feature_mask=tokens, **args).attributions,
        captum_attr.NeuronFeatureAblation(forward, layer).attribute(embeddings, neuron, feature_mask=tokens, **args),
    )
