"""Feature masks, tuple and integer inputs, the perturber seam, the forward probe, and bad arguments."""

import pytest
import torch
from torch import nn

from limelight import FeatureAblation, Lime, ShapleyValues, ShapleyValueSampling
from limelight.engine.perturbation import resolve_features
from limelight.errors import BatchDependenceError, InvalidInputError, TargetError, TrainingModeWarning

from ..models import MLP, TokenModel

IDS = torch.tensor([[1, 4, 7, 9, 2], [1, 3, 3, 2, 0]])
ATTENTION = (IDS != 0).long()
WORDS = torch.tensor([[-1, 0, 1, 1, -1], [-1, 0, 1, -1, -1]])


def test_a_mask_without_batch_dimension_is_shared_by_all_examples():
    x = torch.randn(3, 4)
    shared = ShapleyValues(lambda v: v[:, 0] * v[:, 3] + v[:, 1]).attribute(x, feature_mask=torch.tensor([0, 1, 1, 0]))
    repeated = ShapleyValues(lambda v: v[:, 0] * v[:, 3] + v[:, 1]).attribute(x, feature_mask=torch.tensor([[0, 1, 1, 0]]).expand(3, 4))
    torch.testing.assert_close(shared.attributions, repeated.attributions)
    torch.testing.assert_close(shared.attributions[:, 0], x[:, 0] * x[:, 3])
    torch.testing.assert_close(shared.attributions[:, 1], x[:, 1])


def test_size_one_dimensions_share_ids_along_them():
    x = torch.randn(2, 3, 4)
    result = FeatureAblation(lambda v: v.sum((1, 2))).attribute(x, feature_mask=torch.tensor([[0], [1], [2]]))
    torch.testing.assert_close(result.attributions, x.sum(2, keepdim=True).expand(2, 3, 4))


def test_a_feature_can_span_tuple_inputs():
    a, b = torch.randn(2, 2), torch.randn(2, 2)
    forward = lambda p, q: p[:, 0] + 2 * p[:, 1] + 3 * q[:, 0] * q[:, 1]  # noqa: E731
    result = ShapleyValues(forward).attribute((a, b), feature_mask=(torch.tensor([0, 1]), torch.tensor([1, 0])))
    first = a[:, 0] + 1.5 * b[:, 0] * b[:, 1]
    second = 2 * a[:, 1] + 1.5 * b[:, 0] * b[:, 1]
    torch.testing.assert_close(result.attributions[0], torch.stack([first, second], 1))
    torch.testing.assert_close(result.attributions[1], torch.stack([second, first], 1))


def test_elements_outside_every_feature_are_never_perturbed():
    x = torch.ones(1, 4)
    result = ShapleyValues(lambda v: v[:, 0] * v[:, 3] + v[:, 1]).attribute(x, feature_mask=torch.tensor([0, 1, 2, -1]))
    torch.testing.assert_close(result.attributions, torch.tensor([[1.0, 1.0, 0.0, 0.0]]))
    torch.testing.assert_close(result.baseline_value, torch.tensor([0.0], dtype=torch.float64))


def _direct(model, ids, attention, target):
    return model(ids, attention)[:, target].detach().double()


def test_token_ids_with_a_pad_baseline_and_per_example_masks():
    model = TokenModel().eval()
    result = FeatureAblation(model).attribute(IDS, 0, target=1, feature_mask=WORDS, additional_forward_args=(ATTENTION,))
    assert result.attributions.dtype == torch.get_default_dtype()
    for i in range(2):
        for word in range(int(WORDS[i].max()) + 1):
            ablated = torch.where(WORDS[i] == word, 0, IDS[i])[None]
            drop = _direct(model, IDS[i : i + 1], ATTENTION[i : i + 1], 1) - _direct(model, ablated, ATTENTION[i : i + 1], 1)
            assert result.extras.feature_scores[i, word] == pytest.approx(drop.item(), abs=1e-6)
            assert torch.allclose(result.attributions[i][WORDS[i] == word].double(), drop.float().double(), atol=1e-6)


class DeleteWords:
    """A custom perturber: absent words are dropped from attention instead of replaced."""

    features = resolve_features(WORDS, (IDS,))

    def perturb(self, example_index, coalitions):
        present = self.features.present(example_index, coalitions)[0]
        return IDS[example_index], ATTENTION[example_index] * present.long()


def test_a_custom_perturber_builds_the_model_inputs():
    model = TokenModel().eval()
    result = FeatureAblation(model).attribute(IDS, target=0, feature_mask=WORDS, perturber=DeleteWords())
    for i in range(2):
        for word in range(int(WORDS[i].max()) + 1):
            kept = ATTENTION[i : i + 1] * (WORDS[i] != word).long()
            drop = _direct(model, IDS[i : i + 1], ATTENTION[i : i + 1], 0) - _direct(model, IDS[i : i + 1], kept, 0)
            assert result.extras.feature_scores[i, word] == pytest.approx(drop.item(), abs=1e-6)


def test_a_custom_perturber_excludes_baselines():
    with pytest.raises(InvalidInputError, match="perturber"):
        FeatureAblation(TokenModel().eval()).attribute(IDS, 0, target=0, feature_mask=WORDS, perturber=DeleteWords())
    with pytest.raises(InvalidInputError, match="perturb"):
        FeatureAblation(TokenModel().eval()).attribute(IDS, target=0, feature_mask=WORDS, perturber=object())


def test_indexing_the_batch_is_caught_for_float_and_integer_inputs():
    mlp, tokens = MLP().eval(), TokenModel().eval()
    with pytest.raises(BatchDependenceError):
        FeatureAblation(lambda x: mlp(x)[0]).attribute(torch.randn(2, 6))
    with pytest.raises(BatchDependenceError):
        FeatureAblation(lambda ids, mask: tokens(ids, mask) - tokens(ids, mask).mean(0)).attribute(
            IDS, 0, target=0, feature_mask=WORDS, additional_forward_args=(ATTENTION,)
        )


HIDDEN = nn.Sequential(TokenModel(), nn.Dropout(0.5)).train()


def _noisy_tokens(ids):  # reaches the model through a global: limelight cannot find it to switch modes
    return HIDDEN(ids)


def test_random_forwards_are_caught_for_integer_inputs():
    with pytest.raises(BatchDependenceError, match="random"):
        Lime(_noisy_tokens).attribute(IDS, 0, target=0, feature_mask=WORDS, n_samples=4, seed=0)


def test_training_mode_is_switched_off_and_restored():
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 2)).train()
    with pytest.warns(TrainingModeWarning):
        first = ShapleyValueSampling(model).attribute(torch.randn(2, 4), target=0, n_samples=4, seed=0)
    assert model.training and first.delta.abs().max() < 1e-5


@pytest.mark.parametrize(
    "mask, message",
    [
        (torch.tensor([0, 1, 2]), "does not broadcast"),
        (torch.tensor([[0, 1, 2, 3]] * 3), "does not broadcast"),
        (torch.tensor([0.0, 1.0, 2.0, 3.0]), "integer"),
        (torch.tensor([0, 2, 2, 3]), "not contiguous: 1 is missing"),
        (torch.tensor([0, -2, 1, 2]), "-1 for elements"),
        (torch.tensor([[0, 1, 2, 3], [-1, -1, -1, -1]]), "example 1 has no features"),
        ((torch.tensor([0, 1, 2, 3]), torch.tensor([0])), "one per input"),
        ("words", "integer tensor"),
    ],
)
def test_bad_feature_masks_are_rejected(mask, message):
    with pytest.raises(InvalidInputError, match=message):
        FeatureAblation(lambda x: x.sum(1)).attribute(torch.randn(2, 4), feature_mask=mask)


def test_bad_common_arguments_are_rejected():
    method = FeatureAblation(MLP().eval())
    with pytest.raises(TargetError):
        method.attribute(torch.randn(2, 6), target=7)
    with pytest.raises(InvalidInputError, match="show_progress"):
        method.attribute(torch.randn(2, 6), target=0, show_progress="yes")
    with pytest.raises(InvalidInputError, match="internal_batch_size"):
        method.attribute(torch.randn(2, 6), target=0, internal_batch_size=0)
    with pytest.raises(InvalidInputError, match="forward"):
        FeatureAblation("model")
