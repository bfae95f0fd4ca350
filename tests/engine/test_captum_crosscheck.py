"""Cross-check against Captum (a test-only dependency) on a tiny random BERT classifier."""

import pytest
import torch

captum_attr = pytest.importorskip("captum.attr")
transformers = pytest.importorskip("transformers")

from limelight import InputXGradient, LayerIntegratedGradients, Saliency  # noqa: E402


@pytest.fixture(scope="module")
def bert():
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=32,
        num_labels=3,
        pad_token_id=3,
    )
    model = transformers.BertForSequenceClassification(config).eval()
    ids = torch.tensor([[1, 10, 11, 12, 13, 2], [1, 20, 21, 2, 3, 3]])
    mask = (ids != 3).long()
    baseline = torch.where((ids == 1) | (ids == 2), ids, torch.full_like(ids, 3))
    return model, ids, mask, baseline


def test_layer_integrated_gradients_on_word_embeddings_matches_captum(bert):
    model, ids, mask, baseline = bert
    forward = lambda i, m: model(input_ids=i, attention_mask=m).logits  # noqa: E731
    layer = model.get_input_embeddings()
    theirs = captum_attr.LayerIntegratedGradients(forward, layer).attribute(
        ids, baselines=baseline, target=1, additional_forward_args=(mask,), n_steps=50
    )
    ours = LayerIntegratedGradients(model, layer).attribute(ids, baseline, target=1, forward_kwargs={"attention_mask": mask}, n_steps=50)
    torch.testing.assert_close(ours.attributions, theirs, rtol=1e-5, atol=1e-5)


def test_saliency_and_input_x_gradient_on_embeddings_match_captum(bert):
    model, ids, mask, _ = bert
    embeddings = model.get_input_embeddings()(ids).detach()
    forward = lambda e, m: model(inputs_embeds=e, attention_mask=m).logits  # noqa: E731
    for ours_cls, theirs_cls, kwargs in ((Saliency, captum_attr.Saliency, {"abs": True}), (InputXGradient, captum_attr.InputXGradient, {})):
        theirs = theirs_cls(forward).attribute(embeddings, target=2, additional_forward_args=(mask,), **kwargs)
        ours = ours_cls(forward).attribute(embeddings, target=2, additional_forward_args=(mask,), **kwargs)
        torch.testing.assert_close(ours.attributions, theirs, rtol=1e-5, atol=1e-5)
