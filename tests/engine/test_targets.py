import pytest
import torch

from limelight import Contrast, IntegratedGradients, Saliency
from limelight.errors import ForwardError, TargetError

from .models import Linear

X = torch.randn(3, 5)


def _ig(forward, **kwargs):
    return IntegratedGradients(forward).attribute(X, n_steps=4, **kwargs).attributions


def test_per_example_targets_pick_each_examples_column():
    model = Linear().eval()
    w = model.weight.detach()
    result = _ig(model, target=[0, 2, 1])
    torch.testing.assert_close(result, X * w[:, [0, 2, 1]].T)
    torch.testing.assert_close(_ig(model, target=torch.tensor([0, 2, 1])), result)


def test_tuple_index_for_outputs_with_more_dimensions():
    model = Linear(classes=6).eval()
    forward = lambda x: model(x).reshape(-1, 2, 3)  # noqa: E731
    torch.testing.assert_close(_ig(forward, target=(1, 2)), X * model.weight[:, 5].detach())
    torch.testing.assert_close(_ig(forward, target=[(0, 0), (1, 2), (0, 1)]), X * model.weight[:, [0, 5, 1]].detach().T)


def test_callable_and_contrast_targets():
    model = Linear().eval()
    w = model.weight.detach()
    torch.testing.assert_close(_ig(model, target=lambda out: out[:, 0] + out[:, 1]), X * (w[:, 0] + w[:, 1]))
    torch.testing.assert_close(_ig(model, target=Contrast(2, 0)), X * (w[:, 2] - w[:, 0]))
    torch.testing.assert_close(_ig(model, target=Contrast([2, 1, 0], 0)), X * (w[:, [2, 1, 0]].T - w[:, 0]))


def test_scalar_outputs_need_no_target():
    torch.testing.assert_close(_ig(lambda x: x.sum(1)), X)
    torch.testing.assert_close(_ig(lambda x: x.sum(1, keepdim=True)), X)


def test_mapping_outputs_use_logits_by_default_or_a_chosen_key():
    model = Linear().eval()
    as_dict = lambda x: {"hidden": x, "logits": model(x)}  # noqa: E731
    torch.testing.assert_close(_ig(as_dict, target=1), _ig(model, target=1))
    by_key = IntegratedGradients(as_dict, output="hidden").attribute(X, target=3, n_steps=4).attributions
    assert torch.all(by_key[:, 3] == X[:, 3]) and torch.all(by_key[:, :3] == 0)
    with pytest.raises(ForwardError, match="'scores'"):
        IntegratedGradients(as_dict, output="scores").attribute(X, target=0)


@pytest.mark.parametrize(
    "target, message",
    [
        (3, r"0\.\.2"),
        (-1, r"0\.\.2"),
        ([0, 1], "2 entries but there are 3 examples"),
        ((0, 1), r"not a valid output index: valid targets are the ints 0\.\.2"),
        ("positive", "unsupported target"),
        ([0, 1.5, 2], "int or a tuple"),
        (Contrast(0, 9), r"0\.\.2"),
    ],
)
def test_invalid_targets_list_what_is_valid(target, message):
    with pytest.raises(TargetError, match=message):
        Saliency(Linear().eval()).attribute(X, target=target)


def test_a_callable_target_must_return_one_value_per_row():
    with pytest.raises(TargetError, match="one value per output row"):
        Saliency(Linear().eval()).attribute(X, target=lambda out: out.sum())
