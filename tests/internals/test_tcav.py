"""TCAV on a model whose layer encodes a known direction: near 1 and significant for it, near 0.5 and not for random."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from limelight import TCAV, Concept, TCAVResult
from limelight.errors import InvalidInputError, LayerError, TargetError
from limelight.text import text_concept, text_inputs, token_mean
from tests.text.tiny_models import tiny_classifier

D = 16


class Encoded(nn.Module):
    """``hidden = x``; the positive logit is ``3 <u, hidden> + |hidden|^2 / 2``, so its gradient is ``3 u + hidden``.

    Along ``u`` the derivative is ``3 + <u, x>``: positive for nearly every example. Along a random
    unit ``v`` it is ``3 <u, v> + <v, x>``, positive for about half of them.
    """

    def __init__(self, direction: torch.Tensor) -> None:
        super().__init__()
        self.hidden = nn.Linear(D, D)
        self.after = nn.Identity()
        self.direction = direction
        with torch.no_grad():
            self.hidden.weight.copy_(torch.eye(D))
            self.hidden.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.after(self.hidden(x))
        f = 3 * h @ self.direction + 0.5 * h.pow(2).sum(-1)
        return torch.stack([-f, f], 1)


@pytest.fixture(scope="module")
def setting():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(D, generator=g)
    u /= u.norm()
    model = Encoded(u)
    concept = Concept("along_u", torch.randn(24, D, generator=g) + 4 * u)
    unrelated = Concept("unrelated", torch.randn(24, D, generator=g))  # drawn like the random pool
    pool = Concept("random", torch.randn(96, D, generator=g))
    x = torch.randn(80, D, generator=g)
    return model, concept, unrelated, pool, x


@pytest.fixture(scope="module")
def result(setting):
    model, concept, unrelated, pool, x = setting
    return TCAV(model, ["hidden", model.after]).interpret(x, [concept, unrelated], pool, target=1, n_runs=8, seed=0)


def test_known_direction_scores_one_and_random_half(result) -> None:
    assert result.layers == ("hidden", "after") and result.concepts == ("along_u", "unrelated")
    for layer in result.layers:
        assert result.score("along_u", layer) > 0.95
        assert result.p_value("along_u", layer) < 0.05
        assert 0.3 < result.score("unrelated", layer) < 0.7
        assert result.p_value("unrelated", layer) > 0.05
    assert 0.3 < float(result.random_mean.mean()) < 0.7
    assert result.accuracy[0].mean() > 0.9  # the concept is linearly separable from random
    assert result.significant[0].all() and not result.significant[1].any()


def test_bonferroni_over_every_test(result) -> None:
    assert torch.allclose(result.p_adjusted, (result.p_values * 4).clamp(max=1.0))


def test_json_round_trip(result) -> None:
    back = TCAVResult.from_json(result.to_json())
    assert back.concepts == result.concepts and back.seed == result.seed and back.target == 1
    for name in ("scores", "random_scores", "p_values", "p_adjusted"):
        assert torch.equal(getattr(back, name), getattr(result, name))
    assert torch.allclose(back.accuracy, result.accuracy, equal_nan=True)
    assert back.rows() == result.rows()


def test_seeded_and_batch_size_invariant(setting) -> None:
    model, concept, unrelated, pool, x = setting
    runs = [TCAV(model, "hidden", batch_size=size).interpret(x, concept, pool, target=1, n_runs=3, seed=5) for size in (7, 64)]
    assert torch.equal(runs[0].scores, runs[1].scores) and torch.equal(runs[0].random_scores, runs[1].random_scores)


def test_activations_are_cached(setting) -> None:
    model, concept, *_ = setting
    tcav = TCAV(model, "hidden")
    first = tcav.activations(concept)["hidden"]
    assert tcav.activations(concept)["hidden"] is first
    assert torch.allclose(first, concept.examples)
    with pytest.raises(InvalidInputError, match="two different concepts"):
        tcav.activations(Concept("along_u", concept.examples.clone()))


def test_text_concepts_pool_over_real_tokens() -> None:
    model, tokenizer = tiny_classifier("bert", seed=2)
    layer = model.bert.encoder.layer[1]
    tcav = TCAV(model, {"layer1": layer}, pool=token_mean)
    together = tcav.activations(text_concept("mixed", tokenizer, ["short", "a much longer phrase than that"]))["layer1"]
    alone = TCAV(model, {"layer1": layer}, pool=token_mean).activations(text_concept("short", tokenizer, ["short"]))["layer1"]
    assert torch.allclose(together[0], alone[0], atol=1e-5)
    grads = tcav.gradients(text_inputs(tokenizer, ["fine", "not fine at all"]), target=2)["layer1"]
    assert grads.shape == (2, 32)


def test_refusals(setting) -> None:
    model, concept, unrelated, pool, x = setting
    with pytest.raises(InvalidInputError, match="no submodule named"):
        TCAV(model, "hiden")
    with pytest.raises(InvalidInputError, match="not a submodule"):
        TCAV(model, nn.Linear(2, 2))
    with pytest.raises(InvalidInputError, match="empty"):
        TCAV(model, [])
    with pytest.raises(InvalidInputError, match="torch.nn.Module"):
        TCAV(lambda v: v, "hidden")
    tcav = TCAV(model, "hidden")
    with pytest.raises(InvalidInputError, match="at least 48"):
        tcav.interpret(x, concept, Concept("small", pool.examples[:30]), target=1)
    with pytest.raises(InvalidInputError, match="Concept objects"):
        tcav.interpret(x, [x], pool, target=1)
    with pytest.raises(InvalidInputError, match="distinct names"):
        tcav.interpret(x, [concept, concept], pool, target=1)
    with pytest.raises(InvalidInputError, match="n_runs"):
        tcav.interpret(x, concept, pool, target=1, n_runs=1)
    with pytest.raises(InvalidInputError, match="does not index"):
        tcav.interpret(x, concept, pool, target=5)
    with pytest.raises(TargetError):
        tcav.interpret(x, concept, pool, target=-1)
    with pytest.raises(InvalidInputError, match="one row per example"):
        Concept("ragged", (torch.zeros(3, D), torch.zeros(4, D)))
    with pytest.raises(InvalidInputError, match="non-empty name"):
        Concept("", torch.zeros(3, D))
    model.spare = nn.Linear(D, D)  # a submodule the forward never calls
    try:
        with pytest.raises(LayerError, match="never ran"):
            TCAV(model, "spare").activations(concept)
    finally:
        del model.spare
