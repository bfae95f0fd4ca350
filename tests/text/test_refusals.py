"""Bad input to the text front end ends in a clear error (or warning) that names the cause, never a wrong result.

Model folders missing their tokenizer or config, damaged files, tokenizers that do not fit the
model, texts that are not strings, misspelled settings, impossible step counts and memory
budgets, and one-output models asked for a probability.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from limelight import TextExplainer, explain
from limelight.errors import InvalidInputError, TargetError, TokenizerWarning
from tests.text.tiny_models import one_thread, save_tiny_classifier, tiny_classifier  # noqa: F401
from tests.text.tiny_tokenizers import wordpiece_tokenizer

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")]

TEXT = "the film was a triumph"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return save_tiny_classifier(tmp_path_factory.mktemp("model"))


def _copy(saved, tmp_path, drop=()):
    folder = tmp_path / "copy"
    shutil.copytree(saved, folder)
    for name in drop:
        os.remove(folder / name)
    return folder


def test_a_complete_folder_loads(saved):
    assert TextExplainer(saved, n_steps=4).explain(TEXT).words


def test_a_folder_without_tokenizer_files_is_refused(saved, tmp_path):
    folder = _copy(saved, tmp_path, drop=("tokenizer.json", "tokenizer_config.json"))
    with pytest.raises(InvalidInputError, match="no tokenizer files"):
        TextExplainer(folder)


def test_an_empty_folder_names_the_missing_config(tmp_path):
    with pytest.raises(InvalidInputError, match="no config.json"):
        TextExplainer(tmp_path)


@pytest.mark.parametrize("content", ["[1, 2]", "not json {", '"a string"'])
def test_a_config_that_is_not_an_object_is_refused_naming_the_file(saved, tmp_path, content):
    folder = _copy(saved, tmp_path)
    (folder / "config.json").write_text(content)
    with pytest.raises(InvalidInputError, match="config.json"):
        TextExplainer(folder)


def test_a_truncated_safetensors_file_is_refused_naming_the_file(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(InvalidInputError, match="model.safetensors.*truncated"):
        TextExplainer(folder)


def test_a_folder_without_weights_is_refused(saved, tmp_path):
    with pytest.raises(InvalidInputError, match="no weights"):
        TextExplainer(_copy(saved, tmp_path, drop=("model.safetensors",)))


def test_a_tokenizer_larger_than_the_embedding_table_is_refused():
    model, tokenizer = tiny_classifier()
    tokenizer.add_tokens(["zzzextra1", "zzzextra2"])
    with pytest.raises(InvalidInputError, match="out of range"):
        TextExplainer(model, tokenizer)


def test_a_tokenizer_much_smaller_than_the_embedding_table_is_refused():
    model, _ = tiny_classifier()
    model.resize_token_embeddings(10 * model.get_input_embeddings().weight.shape[0])
    with pytest.raises(InvalidInputError, match="not the model's tokenizer"):
        TextExplainer(model, wordpiece_tokenizer())


def test_a_text_the_tokenizer_cannot_read_warns():
    model, tokenizer = tiny_classifier()
    with pytest.warns(TokenizerWarning, match="unknown token"):
        explain(model, tokenizer, "ξξξ ωωω ψψψ φφφ", n_steps=4)


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (None, "got NoneType"),
        (5, "got int"),
        (b"bytes", "decode"),
        ([TEXT, b"x"], r"texts\[1\].*decode"),
        (["ok \udcff"], "lone surrogate"),
    ],
)
def test_texts_that_are_not_strings_are_refused(texts, message):
    model, tokenizer = tiny_classifier()
    with pytest.raises(InvalidInputError, match=message):
        explain(model, tokenizer, texts, n_steps=4)


@pytest.mark.parametrize("target", [1.0, object()])
def test_a_target_that_is_not_a_label_is_refused(target):
    model, tokenizer = tiny_classifier()
    with pytest.raises(TargetError, match="label name"):
        explain(model, tokenizer, TEXT, target=target, n_steps=4)


def test_a_misspelled_setting_names_the_close_match():
    model, tokenizer = tiny_classifier()
    with pytest.raises(InvalidInputError, match="n_step.*did you mean 'n_steps'"):
        TextExplainer(model, tokenizer, n_step=8)
    with pytest.raises(InvalidInputError, match="nt_sample.*'nt_samples'"):
        TextExplainer(model, tokenizer, method="smoothgrad", nt_sample=3)


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "smoothgrad", "feature_ablation", "shapley_sampling", "lime"])
def test_every_methods_own_defaults_are_accepted(method):
    model, tokenizer = tiny_classifier()
    TextExplainer(model, tokenizer, method=method)


def test_impossible_step_counts_are_refused_at_once():
    model, tokenizer = tiny_classifier()
    with pytest.raises(InvalidInputError, match="n_steps=10000000"):
        explain(model, tokenizer, TEXT, n_steps=10**7)


@pytest.mark.parametrize("budget", ["0B", "0.0001KB"])
def test_a_memory_budget_under_a_byte_is_refused(budget):
    model, tokenizer = tiny_classifier()
    with pytest.raises(InvalidInputError, match="less than one byte"):
        explain(model, tokenizer, TEXT, n_steps=4, memory_budget=budget)


def test_a_huge_memory_budget_is_a_budget():
    model, tokenizer = tiny_classifier()
    small = explain(model, tokenizer, TEXT, n_steps=4)
    assert explain(model, tokenizer, TEXT, n_steps=4, memory_budget="99999999TB").words == small.words


def _one_output():
    model, tokenizer = tiny_classifier()
    model.config.num_labels, model.config.id2label = 1, {0: "score"}
    model.classifier = torch.nn.Linear(model.classifier.in_features, 1)
    return model, tokenizer


@pytest.mark.parametrize("quantity", ["probability", "log_probability"])
def test_a_one_output_model_refuses_a_probability(quantity):
    model, tokenizer = _one_output()
    with pytest.raises(InvalidInputError, match="one output"):
        TextExplainer(model, tokenizer, quantity=quantity)


def test_a_one_output_model_shows_no_probability():
    model, tokenizer = _one_output()
    result = explain(model, tokenizer, TEXT, n_steps=4)
    assert result.probabilities == {} and result.predicted_probability is None and result.predicted_label == "score"
    assert json.loads(result.to_json())["probabilities"] == {}


@pytest.mark.parametrize("texts", [{"text": TEXT}, {TEXT}])
def test_unordered_texts_are_refused(texts):
    model, tokenizer = tiny_classifier()
    with pytest.raises(InvalidInputError, match="in order"):
        explain(model, tokenizer, texts, n_steps=4)


@pytest.mark.parametrize(("setting", "value"), [("window_overlap", -1), ("max_length", 0)])
def test_window_settings_are_checked_even_for_short_texts(setting, value):
    model, tokenizer = tiny_classifier()
    with pytest.raises(InvalidInputError, match=setting):
        TextExplainer(model, tokenizer, **{setting: value})
