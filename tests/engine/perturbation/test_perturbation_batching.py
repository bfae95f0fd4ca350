"""Chunking changes nothing, a batch equals per-example runs, repeats cost nothing, and progress shows on demand."""

import pytest
import torch

from limelight import FeatureAblation, KernelShap, Lime, Occlusion, ShapleyValues, ShapleyValueSampling

from ..models import MLP, TokenModel

torch.manual_seed(0)
X = torch.randn(3, 6)
B = torch.randn(3, 6) * 0.1
MASK = torch.tensor([0, 0, 1, 2, 3, 3])
IDS = torch.tensor([[1, 4, 7, 9, 2], [1, 3, 3, 2, 0], [1, 8, 2, 0, 0]])
ATTENTION = (IDS != 0).long()
WORDS = torch.tensor([[-1, 0, 1, 1, -1], [-1, 0, 1, -1, -1], [-1, 0, -1, -1, -1]])

METHODS = [
    (FeatureAblation, {"feature_mask": MASK}),
    (Occlusion, {"sliding_window_shapes": (2,)}),
    (ShapleyValues, {"feature_mask": MASK}),
    (ShapleyValueSampling, {"feature_mask": MASK, "n_samples": 6, "seed": 0}),
    (KernelShap, {"n_samples": 20, "seed": 0}),
    (Lime, {"n_samples": 20, "seed": 0}),
]


@pytest.mark.parametrize("method, options", METHODS, ids=[m.__name__ for m, _ in METHODS])
@pytest.mark.parametrize("limit", [{"internal_batch_size": 1}, {"internal_batch_size": 3}, {"memory_budget": "4KB"}, {}])
def test_results_do_not_depend_on_chunking(method, options, limit):
    model = MLP().eval()
    reference = method(model).attribute(X, B, target=1, internal_batch_size=100_000, **options)
    chunked = method(model).attribute(X, B, target=1, **limit, **options)
    torch.testing.assert_close(chunked.attributions, reference.attributions, rtol=1e-6, atol=1e-7)
    assert chunked.extras.evaluations == reference.extras.evaluations


@pytest.mark.parametrize("method", [FeatureAblation, ShapleyValues])
def test_a_batch_of_texts_equals_each_text_alone(method):
    model = TokenModel().eval()
    batch = method(model).attribute(IDS, 0, target=1, feature_mask=WORDS, additional_forward_args=(ATTENTION,), internal_batch_size=4)
    assert batch.extras.n_features.tolist() == [2, 2, 1]
    for i in range(IDS.shape[0]):
        alone = method(model).attribute(
            IDS[i : i + 1], 0, target=1, feature_mask=WORDS[i : i + 1], additional_forward_args=(ATTENTION[i : i + 1],)
        )
        torch.testing.assert_close(batch.attributions[i : i + 1], alone.attributions, rtol=1e-6, atol=1e-7)
        width = int(alone.extras.n_features[0])
        torch.testing.assert_close(batch.extras.feature_scores[i, :width], alone.extras.feature_scores[0])
        assert (batch.extras.feature_scores[i, width:] == 0).all()


def test_repeated_coalitions_are_evaluated_once():
    result = ShapleyValueSampling(MLP().eval()).attribute(X, target=0, feature_mask=torch.tensor([0, 0, 1, 1, 2, 2]), n_samples=50, seed=0)
    assert result.extras.evaluations <= 3 * 2**3
    exact = ShapleyValues(MLP().eval()).attribute(X, target=0, feature_mask=torch.tensor([0, 0, 1, 1, 2, 2]))
    torch.testing.assert_close(result.attributions, exact.attributions, rtol=0, atol=0.05)


def test_progress_bar_only_when_asked(capsys):
    model = MLP().eval()
    FeatureAblation(model).attribute(X, target=0, internal_batch_size=1)
    assert capsys.readouterr().err == ""
    shown = FeatureAblation(model).attribute(X, target=0, internal_batch_size=1, show_progress=True)
    assert "feature_ablation" in capsys.readouterr().err
    torch.testing.assert_close(shown.attributions, FeatureAblation(model).attribute(X, target=0).attributions)


def test_sampled_methods_handle_examples_with_different_feature_counts():
    model = TokenModel().eval()
    common = {"target": 1, "feature_mask": WORDS, "additional_forward_args": (ATTENTION,), "seed": 0}
    exact = ShapleyValues(model).attribute(IDS, 0, target=1, feature_mask=WORDS, additional_forward_args=(ATTENTION,))
    sampled = ShapleyValueSampling(model).attribute(IDS, 0, n_samples=2, **common)  # one antithetic pair: every order of <= 2 features
    kernel = KernelShap(model).attribute(IDS, 0, n_samples=10, **common)  # at least 2^F - 2 coalitions: enumerated
    lime = Lime(model).attribute(IDS, 0, n_samples=16, **common)
    torch.testing.assert_close(sampled.attributions, exact.attributions, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(kernel.attributions, exact.attributions, rtol=1e-5, atol=1e-6)
    for result in (sampled, kernel, lime):
        assert result.extras.feature_scores.shape == (3, 2) and result.extras.feature_scores[2, 1] == 0
    assert (lime.attributions[WORDS == -1] == 0).all()
