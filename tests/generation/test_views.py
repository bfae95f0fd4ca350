"""Generation views, the CLI command and compare_generation on a tiny random model."""

from __future__ import annotations

import html
import json
import math

import pytest
import torch

from limelight.cli import build_parser
from limelight.cli import explain_generation as command
from limelight.errors import LimelightError
from limelight.evaluation.generation import compare_generation
from limelight.generation import explain_generation
from limelight.viz import render_generation_html, render_generation_terminal, save_generation_html, save_generation_image

from .models import gpt2, tokenizer

HOSTILE = 'the capital of france is <script>alert("x")</script> & paris'


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


@pytest.fixture(scope="module")
def model():
    return gpt2()


@pytest.fixture(scope="module")
def explanation(model, tok):
    return explain_generation(model, tok, HOSTILE, "paris . the", method="feature_ablation")


def test_html_is_escaped_self_contained_and_has_one_row_selector_per_token(explanation):
    page = render_generation_html(explanation)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp;" in page
    assert "http" not in page.replace("http-equiv", "")
    assert page.count('type="radio"') == len(explanation.generated) + 1  # the sequence row and one per generated token
    for j in range(len(explanation.features)):
        assert f'class="ll-chip ll-f{j}"' in page
    assert explanation._repr_html_() == page


def test_html_cells_carry_exact_scores(explanation, tmp_path):
    path = save_generation_html(tmp_path / "g.html", explanation)
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    titles = [html.unescape(t) for t in page.split('title="')[1:]]
    assert any(t.startswith("paris <- ") for t in titles)


def test_terminal_and_images(explanation, tmp_path):
    text = render_generation_terminal(explanation)
    assert "feature_ablation" in text and "paris" in text
    for suffix in (".png", ".svg"):
        assert save_generation_image(tmp_path / f"g{suffix}", explanation).stat().st_size > 1000


def test_cli_explain_generation_writes_json_and_html(model, tok, tmp_path, capsys):
    out = tmp_path / "g.html"
    arguments = build_parser().parse_args(
        ["explain-generation", "the capital of france is", "--target", "paris", "--method", "saliency", "--json", "--html", str(out)]
    )
    assert command.run(arguments, model, tok) == 0
    printed = capsys.readouterr().out
    record = json.loads(printed[: printed.rindex("}") + 1])
    assert record["method"] == "saliency" and record["generated"] == ["paris"]
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_compare_generation_ranks_methods_with_intervals(model, tok):
    prompts = ["the capital of france is", "tell me about the big red river in lyon"]
    result = compare_generation(model, tok, prompts, ["paris .", "it was"], methods=("feature_ablation", "saliency"), n_bootstrap=50)
    for method in ("feature_ablation", "saliency"):
        for metric in ("comprehensiveness", "sufficiency"):
            e = result.estimates[method][metric]
            assert e.n == 2 and e.low <= e.mean <= e.high and math.isfinite(e.mean)
    assert result.best() in ("feature_ablation", "saliency")
    assert "| feature_ablation |" in result.to_markdown()


def test_comprehensiveness_of_the_top_feature_is_leave_one_out(model, tok):
    """Removing the top feature alone drops the log-probability by exactly its leave-one-out score."""
    prompts = ["the capital of france is", "tell me about the big red river in lyon"]
    result = compare_generation(
        model, tok, prompts, ["paris .", "it was"], methods=("feature_ablation",), fractions=(0.01,), n_bootstrap=20
    )
    top = [float(e.sequence_scores.max()) for e in result.explanations["feature_ablation"]]
    assert result.per_prompt["feature_ablation"]["comprehensiveness"] == pytest.approx(top, abs=1e-5)


def test_compare_generation_takes_labelled_settings_of_one_method(model, tok):
    prompts = ["the capital of france is", "tell me about the big red river in lyon"]
    variants = {
        "ig_zero": {"method": "integrated_gradients", "n_steps": 8},
        "ig_eos": {"method": "integrated_gradients", "baseline": "eos", "n_steps": 8},
    }
    result = compare_generation(model, tok, prompts, ["paris .", "it was"], methods=variants, n_bootstrap=20)
    assert result.methods == ["ig_zero", "ig_eos"]
    assert result.explanations["ig_eos"][0].settings["baseline"] == "eos"
    assert not torch.equal(result.explanations["ig_zero"][0].matrix, result.explanations["ig_eos"][0].matrix)
    with pytest.raises(LimelightError, match="'method'"):
        compare_generation(model, tok, prompts, ["paris .", "it was"], methods={"x": {"baseline": "eos"}})
