"""The one text forward pipeline: windows, right padding, eval mode, float64 logits averaged over windows."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from limelight.errors import InvalidInputError
from limelight.text.encoding import encode_batch
from limelight.text.runner import MAX_PADDING, TextRunner, mean_over_windows, model_device
from limelight.text.windows import window_encodings
from tests.text.tiny_models import tiny_classifier

TEXTS = ["a quiet triumph", "the film was a quiet triumph of a film , and then some more words", "x"]


def plain_logits(model, tokenizer, encoding) -> torch.Tensor:
    ids = torch.tensor([encoding.input_ids])
    extra = {} if encoding.token_type_ids is None else {"token_type_ids": torch.tensor([encoding.token_type_ids])}
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=torch.ones_like(ids), **extra).logits[0].double()


@pytest.mark.parametrize("architecture", ["bert", "roberta"])
def test_logits_match_a_plain_forward_of_each_text_alone(architecture):
    model, tokenizer = tiny_classifier(architecture)
    encodings = encode_batch(tokenizer, TEXTS)
    got = TextRunner(model, tokenizer, batch_size=2).logits(encodings)
    assert all(value.dtype == torch.float64 and value.device.type == "cpu" for value in got)
    for value, encoding in zip(got, encodings):
        torch.testing.assert_close(value, plain_logits(model, tokenizer, encoding), atol=1e-5, rtol=0)


def test_a_long_text_is_windowed_and_its_logits_are_the_mean_of_its_windows():
    model, tokenizer = tiny_classifier("bert")
    runner = TextRunner(model, tokenizer, max_length=8)
    encoding = encode_batch(tokenizer, TEXTS[1:2])[0]
    plan = runner.plan(encoding)
    assert plan.is_windowed
    windows = [plain_logits(model, tokenizer, window) for window in window_encodings(encoding, plan)]
    torch.testing.assert_close(runner.logits([encoding])[0], torch.stack(windows).mean(0), atol=1e-5, rtol=0)
    assert runner.rows_evaluated == len(windows)


def test_batches_are_right_padded_and_sorted_by_length():
    model, tokenizer = tiny_classifier("bert")
    tokenizer.padding_side = "left"
    batches = TextRunner(model, tokenizer, batch_size=8).batches(encode_batch(tokenizer, TEXTS))
    assert all(batch.padding_side == "right" for batch in batches)
    for batch in batches:
        assert min(batch.lengths) >= (1 - MAX_PADDING) * max(batch.lengths)


def test_the_model_runs_in_eval_mode_and_keeps_its_own():
    model, tokenizer = tiny_classifier("bert")
    encodings = encode_batch(tokenizer, TEXTS[:1])
    expected = TextRunner(model, tokenizer).logits(encodings)[0]
    model.train()
    with pytest.warns(Warning, match="training mode"):
        again = TextRunner(model, tokenizer).logits(encodings)[0]
    assert model.training
    torch.testing.assert_close(again, expected, atol=0, rtol=0)


def test_a_zero_shift_changes_nothing_and_a_full_shift_is_the_pad_embedding():
    model, tokenizer = tiny_classifier("bert")
    encoding = encode_batch(tokenizer, TEXTS[:1])[0]
    runner = TextRunner(model, tokenizer)
    plain = runner.logits([encoding])[0]
    torch.testing.assert_close(runner.logits([encoding], [(0.0,) * len(encoding)])[0], plain, atol=1e-6, rtol=0)
    to_pad = tuple(0.0 if special else 1.0 for special in encoding.special_mask)
    padded = tuple(i if special else tokenizer.pad_token_id for i, special in zip(encoding.input_ids, encoding.special_mask))
    expected = plain_logits(model, tokenizer, encoding.__class__(**{**encoding.__dict__, "input_ids": padded}))
    torch.testing.assert_close(runner.logits([encoding], [to_pad])[0], expected, atol=1e-5, rtol=0)


def test_mean_over_windows_groups_by_owner_and_model_device_handles_no_parameters():
    values = [torch.tensor([1.0]), torch.tensor([5.0]), torch.tensor([3.0])]
    assert [v.item() for v in mean_over_windows(values, [0, 1, 0], 2)] == [2.0, 5.0]
    assert model_device(nn.ReLU()) == torch.device("cpu")


def test_batch_size_is_checked():
    model, tokenizer = tiny_classifier("bert")
    with pytest.raises(InvalidInputError, match="batch_size"):
        TextRunner(model, tokenizer, batch_size=0)
