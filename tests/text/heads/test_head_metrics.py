"""compare and the faithfulness metrics for token, answer and similarity explanations, against hand computations.

Each oracle re-tokenizes the text with the tokenizer itself, deletes (or pads) the tokens of the
top-ranked words, runs the tiny model directly and reads the quantity: the token's label logit,
the answer's start + end logit at the same (shifted) tokens, the cosine of two mean-pooled texts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import limelight
from limelight.errors import InvalidInputError
from limelight.evaluation import faithfulness
from limelight.evaluation.curves import aopc
from limelight.evaluation.head_erasure import HeadEraser
from limelight.text.similarity import explain_similarity
from tests.text.heads.helpers import STEPS
from tests.text.heads.test_similarity import encoder
from tests.text.heads.tiny_heads import tiny_head
from tests.text.tiny_models import one_thread  # noqa: F401

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")]

FRACTIONS = faithfulness.ERASER_FRACTIONS
TEXTS = ["john lives in paris with his old friend", "mary works in rome"]
QUESTIONS = ["where does john live", "who works in rome"]
CONTEXTS = ["john lives in paris with his old friend", "mary works in rome today"]


def top(scores: list[float], count: int) -> list[int]:
    """The ``count`` highest signed scores' positions (ties: the earlier word first, as a stable sort)."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])[:count]


def counts(n: int) -> list[int]:
    return [max(1, math.ceil(q * n)) for q in FRACTIONS]


def run_deleted(model, tokenizer, text, pair, gone: set[int]) -> tuple[object, list[int]]:
    """The model's output on the tokenized text with the tokens ``gone`` deleted, and each kept token's old index."""
    encoded = tokenizer(text, pair)
    kept = [i for i in range(len(encoded["input_ids"])) if i not in gone]
    with torch.no_grad():
        return model(**{name: torch.tensor([[values[i] for i in kept]]) for name, values in encoded.items()}), kept


def test_token_classification_comprehensiveness_is_the_label_logit_lost_with_the_top_words():
    model, tokenizer = tiny_head("bert", "token_classification")
    explained = [limelight.explain(model, tokenizer, text, token=1, method="saliency") for text in TEXTS]
    eraser = HeadEraser(model, tokenizer)
    measured = faithfulness.comprehensiveness(eraser, explained)
    for row, explanation in zip(measured, explained):
        words = [w for w in explanation.word_spans if 1 not in w.token_indices]  # the explained token's word stays
        label = model.config.label2id[explanation.target_label]
        full, _ = run_deleted(model, tokenizer, explanation.text, None, set())
        expected = []
        for k in counts(len(words)):
            gone = {t for i in top([w.score for w in words], k) for t in words[i].token_indices}
            out, kept = run_deleted(model, tokenizer, explanation.text, None, gone)
            expected.append(float(full.logits[0, 1, label] - out.logits[0, kept.index(1), label]))
        np.testing.assert_allclose(row, expected, atol=1e-5)


def answer_positions(tokenizer, question, context, mark) -> list[int]:
    encoded = tokenizer(question, context, return_offsets_mapping=True)
    return [
        i
        for i, (segment, (a, b)) in enumerate(zip(encoded.sequence_ids(), encoded["offset_mapping"]))
        if segment == 1 and a < mark[2] and b > mark[1]
    ]


def test_question_answering_sufficiency_re_scores_the_same_span_with_only_the_top_words_kept():
    model, tokenizer = tiny_head("bert", "question_answering")
    explained = [e for e in limelight.explain(model, tokenizer, QUESTIONS, CONTEXTS, method="saliency") if e.target_label == "span"]
    measured = faithfulness.sufficiency(HeadEraser(model, tokenizer), explained)
    for row, explanation in zip(measured, explained):
        answer = answer_positions(tokenizer, explanation.text, explanation.text_pair, explanation.marks[0])
        first, last = answer[0], answer[-1]
        words = [w for w in explanation.word_spans if not set(w.token_indices) & set(range(first, last + 1))]
        full, _ = run_deleted(model, tokenizer, explanation.text, explanation.text_pair, set())
        f_x = float(full.start_logits[0, first] + full.end_logits[0, last])
        assert f_x == pytest.approx(explanation.input_value if explanation.input_value is not None else f_x, abs=1e-5)
        expected = []
        for k in counts(len(words)):
            kept_words = set(top([w.score for w in words], k))
            gone = {t for i, w in enumerate(words) if i not in kept_words for t in w.token_indices}
            out, kept = run_deleted(model, tokenizer, explanation.text, explanation.text_pair, gone)
            expected.append(f_x - float(out.start_logits[0, kept.index(first)] + out.end_logits[0, kept.index(last)]))
        np.testing.assert_allclose(row, expected, atol=1e-5)


def pooled(model, tokenizer, text, padded: set[int]) -> torch.Tensor:
    """The mean-pooled encoding of ``text`` with the tokens ``padded`` replaced by the pad token (and out of attention)."""
    ids = tokenizer(text)["input_ids"]
    mask = [0 if i in padded else 1 for i in range(len(ids))]
    ids = [tokenizer.pad_token_id if i in padded else v for i, v in enumerate(ids)]
    with torch.no_grad():
        states = model(input_ids=torch.tensor([ids]), attention_mask=torch.tensor([mask])).last_hidden_state[0]
    weight = torch.tensor(mask, dtype=states.dtype).unsqueeze(-1)
    return (states * weight).sum(0) / weight.sum()


def test_similarity_comprehensiveness_erases_words_of_either_text_and_re_measures_the_cosine():
    model, tokenizer = encoder("bert")
    a, b = "the film was good", "a quiet triumph of a film"
    explanation = explain_similarity(model, tokenizer, a, b, n_steps=STEPS)
    eraser = HeadEraser(model, tokenizer, fill="pad")
    assert eraser.full(eraser.prepare([explanation]))[0] == pytest.approx(explanation.input_value, abs=1e-5)
    words = explanation.word_spans
    split = len(tokenizer(a)["input_ids"])
    full = float(torch.nn.functional.cosine_similarity(pooled(model, tokenizer, a, set()), pooled(model, tokenizer, b, set()), dim=0))
    expected = []
    for k in counts(len(words)):
        chosen = [words[i] for i in top([w.score for w in words], k)]
        first = {t for w in chosen if w.segment == 0 for t in w.token_indices}
        second = {t - split for w in chosen if w.segment == 1 for t in w.token_indices}
        cosine = torch.nn.functional.cosine_similarity(pooled(model, tokenizer, a, first), pooled(model, tokenizer, b, second), dim=0)
        expected.append(full - float(cosine))
    np.testing.assert_allclose(faithfulness.comprehensiveness(eraser, [explanation])[0], expected, atol=1e-5)


def test_compare_rates_token_answer_and_similarity_methods_with_the_head_metrics():
    token_model, token_tokenizer = tiny_head("bert", "token_classification")
    compared = limelight.compare(token_model, token_tokenizer, TEXTS, ["saliency", "input_x_gradient"], token=[1, 2], n_bootstrap=50)
    assert compared.metrics == ("comprehensiveness", "sufficiency", "deletion_auc", "insertion_auc", "loo_tau", "infidelity_dropout")
    for result in compared.results.values():
        again = aopc(faithfulness.comprehensiveness(HeadEraser(token_model, token_tokenizer), list(result.explanations)))
        np.testing.assert_allclose(result.values["comprehensiveness"], again, atol=1e-6)  # batches differ: float32
    offsets = [token_tokenizer(t, return_offsets_mapping=True)["offset_mapping"][i] for t, i in zip(TEXTS, [1, 2])]
    assert [e.marks[0][1:] for e in compared.results["saliency"].explanations] == [tuple(o) for o in offsets]
    qa_model, qa_tokenizer = tiny_head("bert", "question_answering")
    answered = limelight.compare(qa_model, qa_tokenizer, QUESTIONS, ["saliency"], text_pairs=CONTEXTS, part="end", n_bootstrap=50)
    assert {e.target_label for e in answered.results["saliency"].explanations} == {"end"}
    bi_encoder, bi_tokenizer = encoder("bert")
    similar = limelight.compare(bi_encoder, bi_tokenizer, ["the film was good"], ["saliency"], text_pairs=["a fine film"], n_bootstrap=50)
    assert similar.results["saliency"].explanations[0].head == "sentence_similarity"
    assert np.isfinite(similar.results["saliency"].values["sufficiency"]).all()


def test_head_comparisons_refuse_what_they_cannot_measure():
    token_model, token_tokenizer = tiny_head("bert", "token_classification")
    with pytest.raises(InvalidInputError, match="one token per text"):
        limelight.compare(token_model, token_tokenizer, TEXTS, ["saliency"], n_bootstrap=10)
    with pytest.raises(InvalidInputError, match="entries for 2 texts"):
        limelight.compare(token_model, token_tokenizer, TEXTS, ["saliency"], token=[1, 2, 3], n_bootstrap=10)
    qa_model, qa_tokenizer = tiny_head("bert", "question_answering")
    with pytest.raises(InvalidInputError, match="one explained value"):
        limelight.compare(qa_model, qa_tokenizer, QUESTIONS, ["saliency"], text_pairs=CONTEXTS, metric_quantity="probability")
    with pytest.raises(InvalidInputError, match="text_pairs"):
        limelight.compare(qa_model, qa_tokenizer, QUESTIONS, ["saliency"])
    with pytest.raises(InvalidInputError, match="unknown metrics"):
        limelight.compare(qa_model, qa_tokenizer, QUESTIONS, ["saliency"], text_pairs=CONTEXTS, metrics=["max_sensitivity"])


def test_an_explanation_read_in_one_window_of_a_long_text_is_refused():
    model, tokenizer = tiny_head("bert", "token_classification", max_length=8)
    explanation = limelight.explain(model, tokenizer, "john lives in paris with his old friend and more", token=1, method="saliency")
    assert explanation.read_window is not None
    with pytest.raises(InvalidInputError, match="one window"):
        HeadEraser(model, tokenizer).prepare([explanation])
