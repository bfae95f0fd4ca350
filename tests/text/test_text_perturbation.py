"""Perturbation methods on words: special tokens untouched, masks followed, exact games on words."""

import pytest
import torch
import transformers

from limelight import TextExplainer
from limelight.errors import ContrastWarning, InvalidInputError
from limelight.text.methods import spread_over_tokens
from limelight.text.presence import token_presence

from .tiny_tokenizers import wordpiece_tokenizer

PERTURBATION_METHODS = ["feature_ablation", "occlusion", "shapley", "shapley_sampling", "kernel_shap", "lime"]


def test_token_presence_keeps_special_tokens_and_follows_words():
    word_index = torch.tensor([[-1, 0, 0, 1, 2, -1]])
    presence = torch.tensor([[1.0, 0.0, 1.0]])
    assert token_presence(presence, word_index).tolist() == [[True, True, True, False, True, True]]


def test_word_scores_are_shared_by_their_tokens_and_sum_back():
    word_index = torch.tensor([[-1, 0, 0, 1, -1, -1]])
    tokens = spread_over_tokens(torch.tensor([[3.0, -1.0]], dtype=torch.float64), word_index)
    assert tokens.tolist() == [[0.0, 1.5, 1.5, -1.0, 0.0, 0.0]]


class OneWordModel(torch.nn.Module):
    """Logit 1 is 4.0 when the token ``trigger`` (the word "was") is present and attended, else 0; records every input it sees."""

    def __init__(self, bert, trigger):
        super().__init__()
        self.bert, self.trigger, self.seen = bert, trigger, []
        self.config = bert.config

    def get_input_embeddings(self):
        return self.bert.get_input_embeddings()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        self.seen.append((input_ids.clone(), attention_mask.clone()))
        hit = ((input_ids == self.trigger) & attention_mask.bool()).any(1).float()
        logits = torch.stack([torch.zeros_like(hit), 4.0 * hit], 1)
        return transformers.modeling_outputs.SequenceClassifierOutput(logits=logits + 0 * self.bert.get_input_embeddings().weight.sum())


@pytest.fixture(scope="module")
def tokenizer():
    return wordpiece_tokenizer()


@pytest.fixture
def one_word(tokenizer):
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8, num_labels=2
    )
    trigger = tokenizer.convert_tokens_to_ids("was")
    return OneWordModel(transformers.BertForSequenceClassification(config).eval(), trigger)


@pytest.mark.parametrize("method", PERTURBATION_METHODS)
@pytest.mark.parametrize("baseline", ["pad", "mask", "delete"])
def test_only_the_word_the_model_reads_gets_credit_and_specials_are_never_touched(one_word, tokenizer, method, baseline):
    options = {"n_samples": 64} if method in ("shapley_sampling", "kernel_shap") else {}
    if method == "occlusion":
        options = {"sliding_window_shapes": (1,)}
    if method == "lime":
        options = {"n_samples": 300, "alpha": 1e-6}
    explanation = TextExplainer(one_word, tokenizer, method=method, baseline=baseline, **options).explain(
        "the movie was great fun", target=1
    )
    scores = dict(explanation.words)
    assert scores["was"] == pytest.approx(4.0, abs=1e-3 if method != "lime" else 0.2)
    assert all(abs(v) < (1e-6 if method != "lime" else 0.2) for w, v in scores.items() if w != "was")
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    for ids, attention in one_word.seen:
        assert torch.all(ids[:, 0] == cls_id)
        last = attention.sum(1) - 1 if baseline == "delete" else torch.full((ids.shape[0],), ids.shape[1] - 1)
        assert torch.all(ids[torch.arange(ids.shape[0]), last] == sep_id)
        if baseline == "pad":
            assert torch.all(attention[ids == tokenizer.pad_token_id] == 0)


def test_exact_shapley_on_words_is_efficient(one_word, tokenizer):
    explanation = TextExplainer(one_word, tokenizer, method="shapley").explain("was the movie , was fun", target=1)
    total = sum(score for _, score in explanation.words)
    assert total == pytest.approx(explanation.input_value - explanation.baseline_value, abs=1e-9)
    assert abs(explanation.delta) < 1e-9
    # Two copies of the trigger: each is needed only when the other is absent, so they split the credit.
    scores = [s for w, s in explanation.words if w == "was"]
    assert scores == pytest.approx([2.0, 2.0])


def test_baselines_that_do_not_fit_the_method_are_refused(one_word, tokenizer):
    with pytest.raises(InvalidInputError, match="embedding-space"):
        TextExplainer(one_word, tokenizer, method="shapley", baseline="zero")
    with pytest.raises(InvalidInputError, match="only perturbation methods"):
        TextExplainer(one_word, tokenizer, method="integrated_gradients", baseline="delete")


def test_a_contrast_equal_to_the_target_warns_and_scores_zero(one_word, tokenizer):
    with pytest.warns(ContrastWarning, match="also the target"):
        explanation = TextExplainer(one_word, tokenizer, method="feature_ablation").explain("the movie was fun", target=1, contrast=1)
    assert all(score == 0 for _, score in explanation.words)


@pytest.mark.parametrize(
    ("method", "engine_method"), [("shapley_sampling", "kernel_shap"), ("shapley", "shapley_values"), ("lime", "lime")]
)
def test_explanations_record_the_engine_method_that_ran(one_word, tokenizer, method, engine_method):
    explanation = TextExplainer(one_word, tokenizer, method=method).explain("the movie was great fun", target=1)
    assert explanation.method_settings["engine_method"] == engine_method


@pytest.fixture
def random_bert(tokenizer):
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, num_labels=2
    )
    return transformers.BertForSequenceClassification(config).eval()


def test_occlusion_of_texts_of_different_lengths_equals_one_at_a_time(random_bert, tokenizer):
    # windows slide over each text's own words: a batch's longer text must not add windows past a shorter one's end
    texts = ["the movie was great fun", "the movie was fun", "was great"]
    explainer = TextExplainer(random_bert, tokenizer, method="occlusion")
    together = explainer.explain(texts, target=1)
    for text, joint in zip(texts, together):
        alone = explainer.explain(text, target=1)
        assert [w for w, _ in joint.words] == [w for w, _ in alone.words]
        assert [s for _, s in joint.words] == pytest.approx([s for _, s in alone.words], abs=1e-6)


def test_occlusion_of_a_text_shorter_than_its_window_occludes_the_whole_text(random_bert, tokenizer):
    explanation = TextExplainer(random_bert, tokenizer, method="occlusion", baseline="pad").explain("was great", target=1)
    every_word = TextExplainer(random_bert, tokenizer, method="occlusion", baseline="pad", sliding_window_shapes=(2,))
    assert [s for _, s in explanation.words] == pytest.approx([s for _, s in every_word.explain("was great", target=1).words])
    assert explanation.words[0][1] == pytest.approx(explanation.words[1][1])
