"""Bi-encoder similarity: the cosine of two texts' pooled embeddings over the words of both, with completeness."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModel

from limelight.errors import InvalidInputError
from limelight.text.similarity import PairSimilarity, explain_similarities, explain_similarity
from tests.text.heads.helpers import STEPS, assert_close, pad_baseline, scores
from tests.text.heads.tiny_heads import HEAD_ARCHITECTURES
from tests.text.tiny_models import one_thread, tiny_classifier  # noqa: F401

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")]

A, B = "the film was good", "a quiet triumph of a film"


def encoder(architecture: str):
    classifier, tokenizer = tiny_classifier(architecture)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        model = AutoModel.from_config(classifier.config)
    return model.eval(), tokenizer


def cosine(model, tokenizer, a: str, b: str) -> float:
    vectors = []
    with torch.no_grad():
        for text in (a, b):
            batch = tokenizer(text, return_tensors="pt")
            states = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state[0]
            vectors.append(states.mean(0))
    return float(torch.nn.functional.cosine_similarity(vectors[0], vectors[1], dim=0))


@pytest.mark.parametrize("architecture", HEAD_ARCHITECTURES)
def test_the_explained_value_is_the_cosine_and_scores_add_up_to_it(architecture):
    model, tokenizer = encoder(architecture)
    result = explain_similarity(model, tokenizer, A, B)
    assert result.input_value == pytest.approx(cosine(model, tokenizer, A, B), abs=1e-5)
    assert result.converged and abs(result.delta) <= result.delta_bound
    assert {s.segment for s in result.word_spans} == {0, 1} and result.head == "sentence_similarity"
    assert sum(scores(result.word_spans)) == pytest.approx(result.input_value - result.baseline_value, abs=result.delta_bound)


def test_swapping_the_texts_swaps_the_scores():
    model, tokenizer = encoder("bert")
    forward, backward = explain_similarity(model, tokenizer, A, B, n_steps=STEPS), explain_similarity(model, tokenizer, B, A, n_steps=STEPS)
    assert forward.input_value == pytest.approx(backward.input_value, abs=1e-6)
    first = [s.score for s in forward.word_spans if s.segment == 0]
    assert_close([s.score for s in backward.word_spans if s.segment == 1], first)


def test_scores_equal_captum_on_the_pair_wrapper():
    captum = pytest.importorskip("captum.attr", reason="the Captum cross-check needs captum (a test-only dependency)")
    model, tokenizer = encoder("bert")
    result = explain_similarity(model, tokenizer, A, B, n_steps=STEPS)
    first, second = tokenizer(A)["input_ids"], tokenizer(B)["input_ids"]
    wrapper = PairSimilarity(model, model.get_input_embeddings(), len(first), "mean")
    ids = torch.tensor([first + second])
    baseline = torch.tensor([pad_baseline(tokenizer, first) + pad_baseline(tokenizer, second)])
    reference = captum.LayerIntegratedGradients(wrapper, model.get_input_embeddings()).attribute(
        ids, baseline, additional_forward_args=(torch.ones_like(ids),), n_steps=STEPS, method="gausslegendre"
    )
    assert_close(scores(result.token_spans), reference.sum(-1)[0].double().numpy())


def test_several_pairs_equal_one_by_one_and_bad_requests_are_refused():
    model, tokenizer = encoder("bert")
    many = explain_similarities(model, tokenizer, [(A, B), (B, "x")], method="saliency")
    assert_close(scores(many[1].word_spans), scores(explain_similarity(model, tokenizer, B, "x", method="saliency").word_spans))
    with pytest.raises(InvalidInputError, match="does not fit"):
        explain_similarity(model, tokenizer, A, B, method="feature_ablation", baseline="delete")
    with pytest.raises(InvalidInputError, match="pooling"):
        explain_similarity(model, tokenizer, A, B, pooling="max")
    classifier, _ = tiny_classifier("bert")
    with pytest.raises(InvalidInputError, match="bare encoder"):
        explain_similarity(classifier, tokenizer, A, B)
