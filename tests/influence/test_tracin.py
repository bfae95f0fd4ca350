"""TracInCP against hand-computed sums of gradient dot products; TracInCPFast against TracInCP on the last layer."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from limelight.errors import LimelightError
from limelight.influence import TracInCP, TracInCPFast, detection

RATES = [0.5, 0.25]


def _model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


def _data(n: int, seed: int) -> list[tuple[torch.Tensor, int]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (n,), generator=g)
    return [(x[i], int(y[i])) for i in range(n)]


MODEL = _model(0)
CHECKPOINTS = [_model(1).state_dict(), _model(2).state_dict()]
TRAIN, TEST = _data(7, 3), _data(3, 4)


def _gradient(model: nn.Module, example: tuple[torch.Tensor, int], names: list[str] | None = None) -> torch.Tensor:
    """Plain autograd on one example: the oracle."""
    x, y = example
    model.zero_grad()
    nn.functional.cross_entropy(model(x[None]), torch.tensor([y])).backward()
    return torch.cat([p.grad.reshape(-1) for n, p in model.named_parameters() if names is None or n in names])


def _by_hand(names: list[str] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    scores = torch.zeros(len(TEST), len(TRAIN), dtype=torch.float64)
    selves = torch.zeros(len(TRAIN), dtype=torch.float64)
    model = _model(0)
    for state, rate in zip(CHECKPOINTS, RATES):
        model.load_state_dict(state)
        train = [_gradient(model, z, names) for z in TRAIN]
        for i, test in enumerate(TEST):
            g = _gradient(model, test, names)
            scores[i] += rate * torch.stack([g @ t for t in train])
        selves += rate * torch.stack([t @ t for t in train])
    return scores, selves


def test_tracin_cp_equals_the_hand_computed_sum_of_gradient_dot_products() -> None:
    tracin = TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, learning_rate=RATES, batch_size=3)
    scores, selves = _by_hand()
    result = tracin.influence(TEST, k=2)
    assert torch.allclose(torch.from_numpy(result.scores), scores, rtol=1e-10, atol=1e-12)
    assert torch.allclose(torch.from_numpy(tracin.self_influence().scores), selves, rtol=1e-10, atol=1e-12)
    for row, item in zip(scores, result.examples):
        assert [p.index for p in item.proponents] == row.argsort(descending=True)[:2].tolist()
        assert [o.index for o in item.opponents] == row.argsort()[:2].tolist()
        assert item.proponents[0].score == pytest.approx(float(row.max()))
    assert torch.equal(MODEL.state_dict()["0.weight"], _model(0).state_dict()["0.weight"])  # the model's own weights are back


def test_results_do_not_depend_on_the_chunk_size_or_the_data_source() -> None:
    one = TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, learning_rate=RATES, batch_size=1).influence(TEST).scores
    x = torch.stack([x for x, _ in TRAIN])
    y = torch.tensor([y for _, y in TRAIN])
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    other = TracInCP(MODEL, loader, checkpoints=CHECKPOINTS, learning_rate=RATES).influence(TEST).scores
    assert torch.allclose(torch.from_numpy(one), torch.from_numpy(other), rtol=1e-12, atol=1e-14)


def test_checkpoint_files_and_loader_test_examples_give_the_same_scores(tmp_path) -> None:
    paths = []
    for number, state in enumerate(CHECKPOINTS):
        paths.append(tmp_path / f"checkpoint_{number}.pt")
        torch.save(state, paths[-1])
    tests = DataLoader(TensorDataset(torch.stack([x for x, _ in TEST]), torch.tensor([y for _, y in TEST])), batch_size=2)
    from_files = TracInCP(MODEL, TRAIN, checkpoints=paths, learning_rate=RATES).influence(tests, k=1)
    assert torch.allclose(torch.from_numpy(from_files.scores), _by_hand()[0], rtol=1e-10, atol=1e-12)
    assert [e.test["label"] for e in from_files.examples] == [y for _, y in TEST]


def test_restricted_layers_and_the_fast_closed_form_agree() -> None:
    names = ["2.weight", "2.bias"]
    scores, selves = _by_hand(names)
    cp = TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, learning_rate=RATES, layers=["2"])
    fast = TracInCPFast(MODEL, TRAIN, checkpoints=CHECKPOINTS, learning_rate=RATES, final_layer="2", batch_size=2)
    assert torch.allclose(torch.from_numpy(cp.influence(TEST).scores), scores, rtol=1e-10, atol=1e-12)
    assert torch.allclose(torch.from_numpy(fast.influence(TEST).scores), scores, rtol=1e-10, atol=1e-12)
    assert torch.allclose(torch.from_numpy(fast.self_influence().scores), selves, rtol=1e-10, atol=1e-12)


def test_random_projection_is_seeded_and_close_for_a_large_dimension() -> None:
    def run(seed: int, dim: int):
        return TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, learning_rate=RATES, projection_dim=dim, seed=seed).self_influence()

    first, again = run(0, 2), run(0, 2)
    assert (first.scores == again.scores).all() and first.settings["dimension"] == 4 * 2  # every parameter has more than 2 elements
    exact = _by_hand()[1].numpy()
    close = run(1, 4000).scores
    assert abs(close - exact).max() / exact.max() < 0.1  # relative error about sqrt(2 / 4000) per projected layer


def test_results_name_training_examples_in_json_dataframe_and_views() -> None:
    references = [f"img_{i}.png" for i in range(len(TRAIN))]
    references[0] = "<script>alert(1)</script>"
    result = TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, references=references).influence(TEST, k=len(TRAIN))
    record = json.loads(result.to_json())
    assert record["settings"]["n_checkpoints"] == 2 and len(record["examples"][0]["proponents"]) == len(TRAIN)
    frame = result.to_dataframe()
    assert set(frame["kind"]) == {"proponent", "opponent"} and len(frame) == 2 * len(TEST) * len(TRAIN)
    page = result.to_html()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "img_1.png" in str(result)


def test_self_influence_recovers_deliberately_flipped_labels() -> None:
    g = torch.Generator().manual_seed(0)
    n = 120
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.6 + (y[:, None] * 2.0 - 1.0) * 1.5
    flipped = torch.zeros(n, dtype=torch.bool)
    flipped[torch.randperm(n, generator=g)[:12]] = True
    noisy = torch.where(flipped, 1 - y, y)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
    checkpoints = []
    for epoch in range(30):
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(x), noisy).backward()
        optimiser.step()
        if epoch % 10 == 9:
            checkpoints.append({k: v.clone() for k, v in model.state_dict().items()})
    data = [(x[i], int(noisy[i])) for i in range(n)]
    found = detection(TracInCP(model, data, checkpoints=checkpoints, learning_rate=0.5).self_influence().scores, flipped.numpy())
    assert found["found@0.1"] >= 0.75 and found["auc"] > 0.95


def test_text_examples_go_through_the_text_front_end() -> None:
    import transformers

    from tests.text.tiny_tokenizers import wordpiece_tokenizer

    tokenizer = wordpiece_tokenizer()
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        max_position_embeddings=64, num_labels=2, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    model = transformers.BertForSequenceClassification(config).eval()
    texts = [("the film was good", 1), ("a bad film", 0), ("good", 1), ("nobody liked the long film at all", 0)]
    checkpoints = [model.state_dict()]
    chunked = TracInCP(model, texts, checkpoints=checkpoints, tokenizer=tokenizer, layers=["classifier"], batch_size=3).self_influence()
    alone = TracInCP(model, texts, checkpoints=checkpoints, tokenizer=tokenizer, layers=["classifier"], batch_size=1).self_influence()
    assert abs(chunked.scores - alone.scores).max() <= 1e-6 * abs(alone.scores).max()  # padding changes nothing
    assert chunked.top(1)[0].text in {t for t, _ in texts}
    result = TracInCP(model, texts, checkpoints=checkpoints, tokenizer=tokenizer, layers=["classifier"]).influence(texts[:2], k=2)
    fast = TracInCPFast(model, texts, checkpoints=checkpoints, tokenizer=tokenizer, final_layer="classifier").influence(texts[:2], k=2)
    assert abs(result.scores - fast.scores).max() <= 1e-6 * abs(result.scores).max()
    assert result[0].test["text"] == "the film was good" and result[0].proponents[0].text in {t for t, _ in texts}


@pytest.mark.parametrize(
    "call",
    [
        lambda: TracInCP("model", TRAIN, checkpoints=CHECKPOINTS),  # type: ignore[arg-type]
        lambda: TracInCP(MODEL, TRAIN, checkpoints=[]),
        lambda: TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, learning_rate=[0.1]),
        lambda: TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, learning_rate=-1.0),
        lambda: TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, learning_rate="0.1"),
        lambda: TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS, layers=["nope"]),
        lambda: TracInCP(MODEL, [("text", 1)], checkpoints=CHECKPOINTS),
        lambda: TracInCP(MODEL, TRAIN, checkpoints=CHECKPOINTS).influence(TEST, k=100),
        lambda: TracInCP(MODEL, TRAIN, checkpoints=["/no/such/file.pt"]).self_influence(),
        lambda: TracInCP(MODEL, DataLoader(TensorDataset(torch.zeros(2, 3)), shuffle=True), checkpoints=CHECKPOINTS),
        lambda: TracInCPFast(MODEL, TRAIN, checkpoints=CHECKPOINTS, final_layer="1"),
        lambda: TracInCPFast(
            nn.Sequential(nn.Linear(3, 2), nn.Softmax(-1)).double(),
            TRAIN,
            checkpoints=[nn.Sequential(nn.Linear(3, 2), nn.Softmax(-1)).double().state_dict()],
            final_layer="0",
        ).self_influence(),
    ],
)
def test_bad_input_is_refused_with_a_limelight_error(call) -> None:
    with pytest.raises(LimelightError):
        call()
