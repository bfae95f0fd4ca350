"""Perturbed rows drop the trailing padding of their chunk: fewer token positions, results equal to one text at a time."""

import pytest
import torch

from limelight import TextExplainer
from limelight.text.presence import attended_width

from .tiny_models import one_thread, tiny_classifier  # noqa: F401  # one_thread is a fixture

TEXTS = [
    "a long and winding review of a film that never quite finds its footing",
    "the plot is thin but the acting is great and warm",
    "the plot is thin but the acting is great",
    "i liked it a lot more than i expected",
    "dull and flat",
]
"""Four texts of similar length share a padded batch (padding at most 25% of a row); the last one is alone."""


def test_attended_width_is_the_last_attended_column():
    assert attended_width(torch.tensor([[1, 1, 0, 0], [1, 0, 1, 0]])) == 3
    assert attended_width(torch.tensor([[1, 1, 1]])) == 3
    assert attended_width(torch.zeros(2, 4, dtype=torch.long)) == 1


@pytest.mark.parametrize("baseline", ["pad", "mask", "unk"])
def test_many_texts_equal_one_at_a_time_and_no_chunk_keeps_unattended_columns(one_thread, baseline):  # noqa: F811
    model, tokenizer = tiny_classifier()
    seen: list[torch.Tensor] = []
    hook = model.register_forward_pre_hook(lambda _, args, kwargs: seen.append(kwargs["attention_mask"]), with_kwargs=True)
    options = {"internal_batch_size": 8}
    explainer = TextExplainer(model, tokenizer, method="feature_ablation", baseline=baseline, **options)
    try:
        together = explainer.explain(TEXTS, target=1)
        perturbed = list(seen)
        alone = [explainer.explain(text, target=1) for text in TEXTS]
    finally:
        hook.remove()
    for batched, single in zip(together, alone):
        expected = [score for _, score in single.words]
        assert [score for _, score in batched.words] == pytest.approx(expected, abs=1e-5 * max(map(abs, expected)))
    assert all(bool(mask[:, -1].any()) for mask in perturbed)
    longest = max(mask.shape[1] for mask in perturbed)
    assert any(mask.shape[1] < longest for mask in perturbed)  # chunks of short texts' rows are narrower
