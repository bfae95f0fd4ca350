"""``explain`` / ``TextExplainer`` on tiny random classifiers of every architecture.

Oracles: an independent forward of the model (predictions, probabilities, the explained values
at the input and at the baseline), completeness (token and word level), linearity of integrated
gradients (contrast = difference of two explanations), Captum's LayerIntegratedGradients, autograd
by hand (saliency, input x gradient), and invariances (batching, padding side, windows against
explaining their text alone, loading from a directory, JSON round trips).
"""

from __future__ import annotations

import functools
import random
import re

import numpy as np
import pytest
import torch

from limelight import Explanation, Explanations, TextExplainer, explain
from limelight.errors import InvalidInputError, TargetError
from limelight.text.encoding import encode
from limelight.text.windows import plan_windows
from tests.text.tiny_models import ARCHITECTURES, LABELS, one_thread, save_tiny_classifier, tiny_classifier  # noqa: F401
from tests.text.tiny_tokenizers import CORPUS

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    # Fixed step counts are chosen for determinism, not accuracy; completeness is checked where it matters.
    pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning"),
]

STEPS = 16
"""Fixed Gauss-Legendre nodes: deterministic and the same for every row, so results can be compared exactly."""

TEXT = "The film was a quiet triumph, and the audience loved every minute of it."
SPACED = "  The  movie,was\tgreat "
PAIR = ("A dog is running in the park.", "An animal is outside.")


@functools.cache
def _cached(architecture: str):
    return tiny_classifier(architecture)


def classifier(architecture: str = "bert"):
    """A shared tiny model with a fresh tokenizer (tests may change the tokenizer's settings)."""
    model, _ = _cached(architecture)
    return model, tiny_classifier(architecture)[1]


def scores(spans) -> np.ndarray:
    return np.array([span.score for span in spans])


def assert_scores_close(actual, expected, rtol: float = 1e-5) -> None:
    """Equal up to ``rtol`` of the largest expected magnitude (float32 models, float64 sums)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-12)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


def assert_same_explanation(actual: Explanation, expected: Explanation) -> None:
    """Equal text, spans, labels and settings; scores and values equal up to float32 rounding."""
    numbers = ("probabilities", "evidence", "word_spans", "token_spans")
    rest = {k: v for k, v in actual.to_dict().items() if k not in numbers}
    assert rest == {k: v for k, v in expected.to_dict().items() if k not in numbers}
    for level in ("word_spans", "token_spans"):
        strip = [[(s.text, s.start, s.end, s.segment, s.special, s.token_indices) for s in getattr(e, level)] for e in (actual, expected)]
        assert strip[0] == strip[1]
        assert_scores_close(scores(getattr(actual, level)), scores(getattr(expected, level)))
    assert list(actual.probabilities) == list(expected.probabilities)
    np.testing.assert_allclose(list(actual.probabilities.values()), list(expected.probabilities.values()), atol=1e-6)
    for name in ("input_value", "baseline_value", "delta"):
        assert getattr(actual, name) == pytest.approx(getattr(expected, name), abs=1e-5)
    assert (actual.n_steps, actual.tolerance) == (expected.n_steps, expected.tolerance)


def model_logits(model, tokenizer, text: str, text_pair: str | None = None, word_ids=None) -> torch.Tensor:
    """Logits of one text from a plain forward.

    With ``word_ids`` (as many as the text has tokens), only the word embeddings are those of
    ``word_ids``; positions, token types and the mask stay the text's. That is what a baseline
    is (RoBERTa would derive other position ids from pad ids fed as ``input_ids``).
    """
    batch = tokenizer(text, text_pair, return_tensors="pt")
    inputs = {name: batch[name] for name in tokenizer.model_input_names}
    if word_ids is not None:
        del inputs["input_ids"]
        inputs["inputs_embeds"] = model.get_input_embeddings()(torch.as_tensor([list(word_ids)]))
    with torch.no_grad():
        return model(**inputs).logits[0].double()


def replaced_ids(tokenizer, text: str, token_id: int, text_pair: str | None = None) -> list[int]:
    """The text's ids with every content token replaced by ``token_id`` (special tokens kept)."""
    ids = tokenizer(text, text_pair)["input_ids"]
    special = tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
    return [i if s else token_id for i, s in zip(ids, special)]


# --- one text, many texts, the exact original string ------------------------------------------------


def test_one_string_gives_an_explanation_and_a_sequence_gives_explanations():
    model, tokenizer = classifier()
    one = explain(model, tokenizer, TEXT, n_steps=STEPS)
    many = explain(model, tokenizer, [TEXT, "x", SPACED], n_steps=STEPS)
    assert isinstance(one, Explanation)
    assert isinstance(many, Explanations) and [e.text for e in many] == [TEXT, "x", SPACED]
    assert_same_explanation(many[0], one)
    assert explain(model, tokenizer, [], n_steps=STEPS) == Explanations()


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_original_string_is_kept_exactly(architecture):
    model, tokenizer = classifier(architecture)
    result = explain(model, tokenizer, SPACED, n_steps=STEPS)
    assert result.text == SPACED
    for span in result.word_spans + result.token_spans:
        if not span.special:
            assert span.text == SPACED[span.start : span.end]
            assert span.text == span.text.strip()
    assert "".join("".join(word.split()) for word, _ in result.words) == "".join(SPACED.split())
    starts = [span.start for span in result.word_spans]
    assert starts == sorted(starts) and all(a.end <= b.start for a, b in zip(result.word_spans, result.word_spans[1:]))
    by_whitespace = explain(model, tokenizer, SPACED, n_steps=STEPS, words="whitespace")
    assert [w for w, _ in by_whitespace.words] == SPACED.split()


def test_empty_text_has_no_words_and_nothing_to_attribute():
    model, tokenizer = classifier()
    result = explain(model, tokenizer, "", n_steps=STEPS)
    assert result.words == []
    assert [t for t, _ in result.tokens] == ["[CLS]", "[SEP]"]
    assert result.input_value == pytest.approx(result.baseline_value, rel=1e-6)  # the same input, in batches of other sizes
    assert scores(result.token_spans).tolist() == [0.0, 0.0]


# --- prediction, explained values, completeness -------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_prediction_and_explained_values_match_a_plain_forward(architecture):
    model, tokenizer = classifier(architecture)
    result = explain(model, tokenizer, TEXT, n_steps=STEPS)
    logits = model_logits(model, tokenizer, TEXT)
    predicted = int(logits.argmax())
    assert result.predicted_label == result.target_label == LABELS[predicted]
    assert list(result.probabilities) == list(LABELS)
    np.testing.assert_allclose(list(result.probabilities.values()), torch.softmax(logits, -1).numpy(), atol=1e-6)
    assert result.input_value == pytest.approx(float(logits[predicted]), abs=1e-5)
    baseline = replaced_ids(tokenizer, TEXT, tokenizer.pad_token_id)
    assert result.baseline_value == pytest.approx(float(model_logits(model, tokenizer, TEXT, word_ids=baseline)[predicted]), abs=1e-5)
    assert (result.quantity, result.method, result.baseline, result.n_steps) == ("logit", "integrated_gradients", "pad", STEPS)
    assert result.method_settings["n_steps"] == STEPS


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_token_scores_equal_captum_layer_integrated_gradients(architecture):
    captum = pytest.importorskip("captum.attr", reason="the Captum cross-check needs captum (a test-only dependency)")
    model, tokenizer = classifier(architecture)
    result = explain(model, tokenizer, TEXT, n_steps=STEPS)
    batch = tokenizer(TEXT, return_tensors="pt")
    names = [name for name in tokenizer.model_input_names if name != "input_ids"]

    def forward(ids, *rest):
        return model(input_ids=ids, **dict(zip(names, rest))).logits

    baseline = torch.tensor([replaced_ids(tokenizer, TEXT, tokenizer.pad_token_id)])
    reference = captum.LayerIntegratedGradients(forward, model.get_input_embeddings()).attribute(
        batch["input_ids"],
        baseline,
        target=LABELS.index(result.target_label),
        additional_forward_args=tuple(batch[name] for name in names),
        n_steps=STEPS,
        method="gausslegendre",
    )
    assert_scores_close(scores(result.token_spans), reference.sum(-1)[0].double().numpy())


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("grouping", ["tokenizer", "whitespace"])
def test_completeness_holds_for_tokens_and_words(architecture, grouping):
    model, tokenizer = classifier(architecture)
    result = explain(model, tokenizer, SPACED + " " + TEXT, words=grouping)
    tokens, words = scores(result.token_spans), scores(result.word_spans)
    special = [span for span in result.token_spans if span.special]
    change = result.input_value - result.baseline_value
    assert result.method_settings["n_steps"] == "auto" and result.converged
    assert abs(result.delta) <= 1e-2 * abs(change) + 1e-4
    assert tokens.sum() - change == pytest.approx(result.delta, abs=1e-6)
    assert words.sum() + scores(special).sum() == pytest.approx(tokens.sum(), abs=1e-9)
    assert scores(special).tolist() == [0.0] * len(special)  # the pad baseline keeps special tokens
    in_words = sorted(i for span in result.word_spans for i in span.token_indices)
    assert in_words == [span.token_indices[0] for span in result.token_spans if not span.special]
    assert len(set(in_words)) == len(in_words)


# --- text pairs and model directories -----------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["bert", "roberta"])
def test_text_pairs_point_into_both_strings(architecture):
    model, tokenizer = classifier(architecture)
    result = explain(model, tokenizer, *PAIR, n_steps=STEPS)
    assert isinstance(result, Explanation) and (result.text, result.text_pair) == PAIR
    for span in result.word_spans:
        assert span.text == PAIR[span.segment][span.start : span.end]
    assert [span.text for span in result.word_spans if span.segment == 1] == ["An", "animal", "is", "outside", "."]
    logits = model_logits(model, tokenizer, *PAIR)
    assert result.input_value == pytest.approx(float(logits.max()), abs=1e-5)
    assert scores(result.token_spans).sum() - (result.input_value - result.baseline_value) == pytest.approx(result.delta, abs=1e-6)
    many = explain(model, tokenizer, [PAIR[0], "x"], [PAIR[1], "y"], n_steps=STEPS)
    assert isinstance(many, Explanations) and many[1].text_pair == "y"
    assert_same_explanation(many[0], result)


def test_a_local_directory_gives_the_same_explanation_as_the_model(tmp_path):
    directory = save_tiny_classifier(tmp_path / "tiny", "distilbert")
    model, tokenizer = tiny_classifier("distilbert")
    expected = explain(model, tokenizer, TEXT, n_steps=STEPS)
    assert_same_explanation(explain(directory, None, TEXT, n_steps=STEPS), expected)
    assert_same_explanation(TextExplainer.from_pretrained(tmp_path / "tiny", n_steps=STEPS).explain(TEXT), expected)
    with pytest.raises(InvalidInputError, match="not a local directory"):
        explain(tmp_path / "missing", None, TEXT)


def test_a_directory_without_a_trained_classifier_head_is_refused(tmp_path):
    model, tokenizer = tiny_classifier("bert")
    model.base_model.save_pretrained(tmp_path)  # the encoder alone, as a pretrained base model ships
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(InvalidInputError, match=re.escape("no trained weights for ['classifier.bias', 'classifier.weight']")):
        explain(tmp_path, None, TEXT)


# --- serialisation --------------------------------------------------------------------------------------


def test_json_round_trip_is_exact():
    model, tokenizer = classifier()
    explainer = TextExplainer(model, tokenizer, n_steps=STEPS, max_length=16)
    results = explainer.explain([TEXT, PAIR[0]], ["fine", PAIR[1]], target="positive", contrast="negative")
    assert (
        results[0].contrast_label == "negative" and results[0].windows and results[1].windows and results[1].text_pair == PAIR[1]
    )  # they survive the trip too
    for result in results:
        assert Explanation.from_json(result.to_json()) == result
    restored = Explanations.from_json(results.to_json())
    assert isinstance(restored, Explanations) and restored == results


def test_to_dataframe_has_one_row_per_word_or_token():
    model, tokenizer = classifier()
    results = explain(model, tokenizer, [TEXT, SPACED], n_steps=STEPS)
    words = results.to_dataframe()
    assert len(words) == sum(len(e.word_spans) for e in results)
    second = words[words.example == 1]
    assert second.word.tolist() == [w for w, _ in results[1].words]
    assert second.score.tolist() == scores(results[1].word_spans).tolist()
    assert (second.text == SPACED).all() and (second.target_label == results[1].target_label).all()
    tokens = results.to_dataframe("token")
    assert len(tokens) == sum(len(e.token_spans) for e in results)
    assert tokens.score.sum() == pytest.approx(sum(scores(e.token_spans).sum() for e in results))


# --- targets --------------------------------------------------------------------------------------------


def test_default_target_is_the_prediction_and_equals_naming_it():
    model, tokenizer = classifier()
    default = explain(model, tokenizer, TEXT, n_steps=STEPS)
    index = LABELS.index(default.predicted_label)
    assert explain(model, tokenizer, TEXT, target=index, n_steps=STEPS) == default
    assert explain(model, tokenizer, TEXT, target=default.predicted_label, n_steps=STEPS) == default


def test_target_by_name_or_index_explains_that_class():
    model, tokenizer = classifier()
    logits = model_logits(model, tokenizer, TEXT)
    other = int(logits.argmin())
    by_index = explain(model, tokenizer, TEXT, target=other, n_steps=STEPS)
    assert by_index == explain(model, tokenizer, TEXT, target=LABELS[other].upper(), n_steps=STEPS)
    assert by_index.target_label == LABELS[other] != by_index.predicted_label
    assert by_index.input_value == pytest.approx(float(logits[other]), abs=1e-5)


def test_unknown_labels_are_target_errors_listing_the_valid_ones():
    model, tokenizer = classifier()
    listing = r"0: 'negative', 1: 'neutral', 2: 'positive'"
    with pytest.raises(TargetError, match=f"unknown target label 'happy'.*{re.escape(listing)}"):
        explain(model, tokenizer, TEXT, target="happy")
    with pytest.raises(TargetError, match=re.escape("valid indices are 0..2")):
        explain(model, tokenizer, TEXT, target=3)
    with pytest.raises(TargetError, match="unknown contrast label 'sad'"):
        explain(model, tokenizer, TEXT, contrast="sad")
    with pytest.raises(InvalidInputError, match="2 labels for 3 texts"):
        explain(model, tokenizer, [TEXT, "x", "y"], target=["neutral", "positive"])


def test_one_target_per_text():
    model, tokenizer = classifier()
    texts, targets = [TEXT, SPACED, "x"], ["negative", None, 2]
    results = explain(model, tokenizer, texts, target=targets, n_steps=STEPS)
    assert [r.target_label for r in results] == ["negative", results[1].predicted_label, "positive"]
    for text, target, result in zip(texts, targets, results):
        assert_same_explanation(result, explain(model, tokenizer, text, target=target, n_steps=STEPS))


def test_contrast_explains_the_difference_of_two_logits():
    model, tokenizer = classifier()
    explainer = TextExplainer(model, tokenizer, n_steps=STEPS)
    contrast = explainer.explain(TEXT, target="positive", contrast="negative")
    positive = explainer.explain(TEXT, target="positive")
    negative = explainer.explain(TEXT, target="negative")
    assert (contrast.target_label, contrast.contrast_label) == ("positive", "negative")
    # Integrated gradients is linear in the explained function (same path, same nodes).
    assert_scores_close(scores(contrast.word_spans), scores(positive.word_spans) - scores(negative.word_spans))
    assert contrast.input_value == pytest.approx(positive.input_value - negative.input_value, abs=1e-5)
    assert contrast.baseline_value == pytest.approx(positive.baseline_value - negative.baseline_value, abs=1e-5)
    change = contrast.input_value - contrast.baseline_value
    assert scores(contrast.token_spans).sum() - change == pytest.approx(contrast.delta, abs=1e-6)


# --- explained quantity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["logit", "probability", "log_probability"])
def test_completeness_holds_in_the_chosen_quantity(quantity):
    model, tokenizer = classifier()
    result = explain(model, tokenizer, TEXT, quantity=quantity, target="neutral")
    transform = {
        "logit": lambda x: x,
        "probability": lambda x: torch.softmax(x, -1),
        "log_probability": lambda x: torch.log_softmax(x, -1),
    }[quantity]
    baseline = replaced_ids(tokenizer, TEXT, tokenizer.pad_token_id)
    expected_input = transform(model_logits(model, tokenizer, TEXT))[1]
    expected_baseline = transform(model_logits(model, tokenizer, TEXT, word_ids=baseline))[1]
    assert result.quantity == quantity
    assert result.input_value == pytest.approx(float(expected_input), abs=1e-5)
    assert result.baseline_value == pytest.approx(float(expected_baseline), abs=1e-5)
    change = result.input_value - result.baseline_value
    assert scores(result.token_spans).sum() - change == pytest.approx(result.delta, abs=1e-6)
    assert result.converged and abs(result.delta) <= 1e-2 * abs(change) + 1e-4
    assert Explanation.from_json(result.to_json()).quantity == quantity


def test_unknown_quantity_is_rejected():
    model, tokenizer = classifier()
    with pytest.raises(InvalidInputError, match="quantity must be one of"):
        TextExplainer(model, tokenizer, quantity="odds")


# --- baselines ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pad", "mask", "unk"])
def test_token_baselines_use_the_tokenizers_own_token(kind):
    model, tokenizer = classifier()
    assert tokenizer.pad_token_id == 4  # the tiny WordPiece vocabulary does not put [PAD] at 0
    result = explain(model, tokenizer, TEXT, baseline=kind, target="neutral", n_steps=STEPS)
    ids = replaced_ids(tokenizer, TEXT, getattr(tokenizer, f"{kind}_token_id"))
    assert result.baseline == kind
    assert result.baseline_value == pytest.approx(float(model_logits(model, tokenizer, TEXT, word_ids=ids)[1]), abs=1e-5)


def test_zero_baseline_zeroes_the_content_word_embeddings():
    model, tokenizer = classifier()
    result = explain(model, tokenizer, TEXT, baseline="zero", target="neutral", n_steps=STEPS)
    batch = tokenizer(TEXT, return_tensors="pt", return_special_tokens_mask=True)
    keep = batch.pop("special_tokens_mask").unsqueeze(-1).float()
    with torch.no_grad():
        embeddings = model.get_input_embeddings()(batch.pop("input_ids")) * keep
        expected = model(inputs_embeds=embeddings, **batch).logits[0, 1]
    assert result.baseline == "zero"
    assert result.baseline_value == pytest.approx(float(expected), abs=1e-5)
    assert scores(result.token_spans).sum() - (result.input_value - result.baseline_value) == pytest.approx(result.delta, abs=1e-6)
    # BERT initialises the [PAD] embedding row to zero, so for this model "pad" and "zero" coincide.
    assert not model.get_input_embeddings().weight[tokenizer.pad_token_id].any()
    pad = explain(model, tokenizer, TEXT, baseline="pad", target="neutral", n_steps=STEPS)
    assert_scores_close(scores(result.token_spans), scores(pad.token_spans))


def test_custom_text_and_id_baselines():
    model, tokenizer = classifier()
    text = "a quiet film"
    reference = " ".join(["the"] * (len(tokenizer(text)["input_ids"]) - 2))  # "the" is one token
    by_text = explain(model, tokenizer, text, baseline=reference, target="neutral", n_steps=STEPS)
    ids = tokenizer(reference)["input_ids"]
    by_ids = explain(model, tokenizer, text, baseline=ids, target="neutral", n_steps=STEPS)
    assert by_text.baseline == f"text {reference!r}" and by_ids.baseline == "custom ids"
    assert by_text.baseline_value == pytest.approx(float(model_logits(model, tokenizer, reference)[1]), abs=1e-5)
    assert scores(by_ids.token_spans).tolist() == scores(by_text.token_spans).tolist()
    with pytest.raises(InvalidInputError, match="the baseline text gives"):
        explain(model, tokenizer, text, baseline="too short")


def test_compare_baselines_gives_one_explanation_per_baseline():
    model, tokenizer = classifier()
    explainer = TextExplainer(model, tokenizer, n_steps=STEPS)
    results = explainer.compare_baselines(TEXT, ["pad", "mask", "zero"], target="neutral")
    assert [r.baseline for r in results] == ["pad", "mask", "zero"]
    assert explainer.baseline.kind == "pad"  # restored afterwards
    for kind, result in zip(["pad", "mask", "zero"], results):
        assert result == explain(model, tokenizer, TEXT, baseline=kind, target="neutral", n_steps=STEPS)
    assert results[0].baseline_value != results[1].baseline_value


# --- many texts: batches, padding, order ----------------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_batching_and_padding_never_change_a_result(architecture, padding_side):
    model, tokenizer = classifier(architecture)
    tokenizer.padding_side = padding_side
    texts = [CORPUS[0], "x", CORPUS[3], PAIR[0], CORPUS[7], ""]
    explainer = TextExplainer(model, tokenizer, n_steps=STEPS, batch_size=4)
    together = explainer.explain(texts)
    for text, result in zip(texts, together):
        assert_same_explanation(result, explainer.explain(text))


def test_batches_hold_texts_of_similar_length():
    model, tokenizer = classifier()
    texts = [CORPUS[0], "x", CORPUS[3], "y"]
    lengths = [len(tokenizer(t)["input_ids"]) for t in texts]
    widths: set[int] = set()
    hook = model.register_forward_pre_hook(lambda _, args, kwargs: widths.add(kwargs["attention_mask"].shape[1]), with_kwargs=True)
    try:
        explain(model, tokenizer, texts, n_steps=STEPS, batch_size=2)
    finally:
        hook.remove()
    assert widths == {max(lengths[0], lengths[2]), 3}


# --- long texts -----------------------------------------------------------------------------------------


def test_windows_agree_with_explaining_their_text_alone():
    model, tokenizer = classifier()
    whole = [w for w in "the film was a triumph and every minute of it is good".split() if tokenizer.tokenize(w) == [w]]
    text = " ".join(whole * 4)  # words that are one token each, so a window is exactly its piece of text
    explainer = TextExplainer(model, tokenizer, n_steps=STEPS, max_length=16)
    result = explainer.explain(text, target="positive")
    plan = plan_windows(encode(tokenizer, text), 16)
    assert len(plan.windows) > 2 and result.windows == [(w.char_start, w.char_end) for w in plan.windows]
    assert result.windows[0][0] == 0 and result.windows[-1][1] == len(text)
    assert all(a[1] > b[0] for a, b in zip(result.windows, result.windows[1:]))  # consecutive windows overlap
    assert [w for w, _ in result.words] == text.split()
    token_scores = scores(result.token_spans)
    for window in (plan.windows[0], plan.windows[-1]):
        piece = text[window.char_start : window.char_end]
        alone = explainer.explain(piece, target="positive")
        shift = window.content_start - 1  # index in the long text minus index in the piece ([CLS] first)
        assert [t for t, _ in alone.tokens][1:-1] == list(encode(tokenizer, text).tokens[window.content_start : window.content_end])
        owned = range(window.owned_start, window.owned_end)
        assert_scores_close(token_scores[list(owned)], scores(alone.token_spans)[[i - shift for i in owned]])
    assert result.n_steps == STEPS


@pytest.mark.parametrize("architecture", ["bert", "roberta"])
def test_a_three_thousand_word_text(architecture):
    model, tokenizer = classifier(architecture)
    tokenizer.model_max_length = int(1e30)  # "no limit", as many tokenizers say: the position table decides
    vocabulary = sorted({w for line in CORPUS for w in re.findall(r"[a-z]+", line.lower())})
    words = random.Random(0).choices(vocabulary, k=3000)
    text = " ".join(words)
    result = explain(model, tokenizer, text, n_steps=4)
    assert [w for w, _ in result.words] == words
    assert len(result.windows) > 20 and len(result.token_spans) > 3000
    assert np.isfinite(scores(result.token_spans)).all()
    assert sum(result.probabilities.values()) == pytest.approx(1.0)


def test_a_text_that_fits_has_no_windows():
    model, tokenizer = classifier()
    result = explain(model, tokenizer, TEXT, n_steps=STEPS)
    assert result.windows == [] and result.window_evidence == [] and not result.is_windowed


def test_a_windowed_texts_evidence_is_over_its_windows():
    model, tokenizer = classifier()
    whole = [w for w in "the film was a triumph and every minute of it is good".split() if tokenizer.tokenize(w) == [w]]
    text = " ".join(whole * 4)  # one token per word, so each window is exactly its piece of text
    explainer = TextExplainer(model, tokenizer, n_steps=STEPS, max_length=16)
    result = explainer.explain(text, target="positive")
    windows = result.window_evidence
    assert result.is_windowed and len(windows) == len(result.windows) > 2
    pieces = [explainer.explain(text[start:end], target="positive") for start, end in result.windows]
    for window, alone in zip(windows, pieces):  # each window's own values: its piece explained alone (same tokens)
        assert window.input_value == pytest.approx(alone.input_value, rel=1e-5)
    assert result.input_value == pytest.approx(sum(w.input_value for w in windows))
    assert result.baseline_value == pytest.approx(sum(w.baseline_value for w in windows))
    change = result.input_value - result.baseline_value
    assert result.delta == pytest.approx(scores(result.token_spans).sum() - change)
    assert result.converged == (abs(result.delta) <= result.delta_bound)
    again = Explanation.from_json(result.to_json())
    assert again.window_evidence == windows and again.delta == result.delta


# --- methods --------------------------------------------------------------------------------------------


def embedding_gradient(model, tokenizer, text: str, target: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Word embeddings of ``text`` and the gradient of the target logit with respect to them."""
    batch = tokenizer(text, return_tensors="pt")
    embeddings = model.get_input_embeddings()(batch.pop("input_ids")).detach().requires_grad_(True)
    model(inputs_embeds=embeddings, **batch).logits[0, target].backward()
    return embeddings.detach()[0].double(), embeddings.grad[0].double()


@pytest.mark.parametrize("method", ["input_x_gradient", "saliency"])
def test_gradient_methods_match_autograd_by_hand(method):
    model, tokenizer = classifier()
    result = explain(model, tokenizer, TEXT, method=method, target="neutral")
    embeddings, gradient = embedding_gradient(model, tokenizer, TEXT, 1)
    expected = (embeddings * gradient).sum(-1) if method == "input_x_gradient" else gradient.norm(dim=-1)
    assert_scores_close(scores(result.token_spans), expected.numpy())
    assert (result.method, result.baseline, result.delta, result.converged) == (method, "none", None, None)


def test_smoothgrad_is_reproducible_and_tends_to_saliency():
    model, tokenizer = classifier()
    noisy = explain(model, tokenizer, TEXT, method="smoothgrad", target="neutral")
    assert noisy == explain(model, tokenizer, TEXT, method="smoothgrad", target="neutral")
    assert noisy.method_settings == {"engine_method": "noise_tunnel", "abs": False, "nt_samples": 20, "stdevs": 0.01, "seed": 0}
    assert (scores(noisy.token_spans) >= 0).all()
    saliency = scores(explain(model, tokenizer, TEXT, method="saliency", target="neutral").token_spans)
    quiet = explain(model, tokenizer, TEXT, method="smoothgrad", target="neutral", stdevs=1e-6, nt_samples=2)
    assert_scores_close(scores(quiet.token_spans), saliency, rtol=1e-3)


def test_integrated_gradients_is_the_default_with_adaptive_steps():
    model, tokenizer = classifier()
    result = explain(model, tokenizer, TEXT)
    expected = {"engine_method": "layer_integrated_gradients", "n_steps": "auto", "tolerance": 1e-2}
    assert result.method == "integrated_gradients" and result.method_settings == expected
    assert 5 <= result.n_steps <= 257


def test_bad_settings_are_clear_errors():
    model, tokenizer = classifier()
    with pytest.raises(InvalidInputError, match="unknown method 'astrology'.*integrated_gradients"):
        TextExplainer(model, tokenizer, method="astrology")
    with pytest.raises(InvalidInputError, match="pass the model's tokenizer"):
        TextExplainer(model)
    with pytest.raises(InvalidInputError, match="batch_size must be a positive int"):
        TextExplainer(model, tokenizer, batch_size=0)
    with pytest.raises(InvalidInputError, match="words must be one of"):
        TextExplainer(model, tokenizer, words="sentences")
    with pytest.raises(InvalidInputError, match=r"texts\[1\] must be a string, got int"):
        explain(model, tokenizer, [TEXT, 3])
