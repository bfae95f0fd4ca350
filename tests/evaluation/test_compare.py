"""``compare`` end to end on the one-word model: the faithful method wins, reports escape user text."""

from __future__ import annotations

import argparse
import html
import math

import numpy as np
import pytest

from limelight.cli.compare import add_parser as add_compare_parser
from limelight.cli.compare import run as run_compare
from limelight.errors import InvalidInputError
from limelight.evaluation import METRICS, Rationale, compare
from limelight.evaluation.report import markdown_text
from tests.evaluation.models import TEXTS, input_only_explainer

HOSTILE = "the film <script>alert(1)</script> | was a & b"
METHODS = ["integrated_gradients", "saliency"]


def _texts(count: int = 12) -> list[str]:
    return [TEXTS[i % len(TEXTS)] + " again" * (i // len(TEXTS)) for i in range(count)]


@pytest.fixture
def comparison(one_word):
    model, tokenizer = one_word
    return compare(model, tokenizer, _texts(), METHODS, n_bootstrap=200, seed=0)


def test_the_method_that_finds_the_word_wins_significantly(comparison):
    ig, saliency = (comparison.results[m] for m in METHODS)
    assert ig.summary["comprehensiveness"].mean == pytest.approx(5.0)
    assert saliency.summary["comprehensiveness"].mean < 5.0
    assert ig.summary["completeness_error"].mean < 1e-6
    assert math.isnan(saliency.summary["completeness_error"].mean)  # no baseline, no completeness promised
    text = comparison.recommendation
    assert text.startswith("integrated_gradients is the most faithful by comprehensiveness AOPC")
    assert "significant at the 95% level" in text
    for result in comparison.results.values():
        assert set(result.values) == set(comparison.metrics) and result.explain_seconds >= 0
        for estimate in result.summary.values():
            assert math.isnan(estimate.mean) or estimate.low <= estimate.mean <= estimate.high


def test_same_seed_same_numbers(one_word, comparison):
    model, tokenizer = one_word
    again = compare(model, tokenizer, _texts(), METHODS, n_bootstrap=200, seed=0)
    for method in METHODS:
        assert again.results[method].summary == comparison.results[method].summary
    assert again.recommendation == comparison.recommendation


def test_dataframes(comparison):
    table = comparison.to_dataframe()
    assert list(table["method"]) == METHODS
    assert {"comprehensiveness", "comprehensiveness_low", "comprehensiveness_high", "explain_seconds"} <= set(table.columns)
    rows = comparison.to_dataframe("input")
    assert len(rows) == 12 * len(METHODS) and {"agreement", "flagged", "text"} <= set(rows.columns)
    with pytest.raises(InvalidInputError):
        comparison.to_dataframe("word")


def test_markdown_has_one_row_per_method_and_every_metric(comparison):
    text = comparison.to_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| integrated") or line.startswith("| saliency")]
    assert len(rows) == 2
    for metric in comparison.metrics:
        assert markdown_text(METRICS[metric].label) in text


def test_user_text_is_escaped_in_html_and_markdown(one_word):
    model, tokenizer = one_word
    texts = [HOSTILE, "the film was a quiet triumph", "a quiet film"]
    methods = {"<b>ig</b>": "integrated_gradients", "lengths": input_only_explainer(tokenizer)}
    result = compare(model, tokenizer, texts, methods, metrics=["comprehensiveness"], n_bootstrap=50)
    page = result.to_html()
    assert "<script>" not in page and "<b>ig</b>" not in page
    assert html.escape("<script>alert(1)</script>") in page and "&lt;b&gt;ig&lt;/b&gt;" in page
    assert "<script" not in result._repr_html_()
    md = result.to_markdown()
    assert "<script>" not in md and "<b>" not in md
    assert markdown_text("a | b <i>") == "a \\| b &lt;i&gt;"
    assert markdown_text("[x](javascript:alert(1)) *y* [1, 2]") == "[x\\](javascript:alert(1)) \\*y\\* [1, 2]"


def test_rationales_add_plausibility_and_custom_explainers_run(one_word):
    model, tokenizer = one_word
    texts = list(TEXTS)
    rationales = [Rationale(t, "word", ((t.index("film"), t.index("film") + 4),)) for t in texts]
    methods = {"ig": "integrated_gradients", "lengths": input_only_explainer(tokenizer)}
    result = compare(model, tokenizer, None, methods, metrics="all", rationales=rationales, primary="auprc", n_bootstrap=50)
    assert {"f1", "iou", "auprc", "randomisation", "max_sensitivity"} <= set(result.metrics)
    np.testing.assert_allclose(result.results["ig"].values["auprc"], 1.0)
    assert result.recommendation.startswith("ig is the most plausible by rationale AUPRC")
    np.testing.assert_allclose(result.results["lengths"].values["randomisation"], 1.0)
    assert "lengths (mean rho 1.00)" in result.recommendation


def test_bad_arguments_are_refused(one_word):
    model, tokenizer = one_word
    with pytest.raises(InvalidInputError, match="unknown metrics"):
        compare(model, tokenizer, ["a film"], ["saliency"], metrics=["accuracy"])
    with pytest.raises(InvalidInputError, match="rationales"):
        compare(model, tokenizer, ["a film"], ["saliency"], metrics=["f1"])
    with pytest.raises(InvalidInputError, match="primary"):
        compare(model, tokenizer, ["a film"], ["saliency"], metrics=["sufficiency"])
    with pytest.raises(InvalidInputError, match="one string"):
        compare(model, tokenizer, "a film", ["saliency"])
    with pytest.raises(InvalidInputError, match="more than once"):
        compare(model, tokenizer, ["a film"], ["saliency", "saliency"])
    with pytest.raises(InvalidInputError, match="unknown method"):
        compare(model, tokenizer, ["a film"], ["magic"])


def test_cli_prints_the_markdown_report(one_word, tmp_path, capsys):
    model, tokenizer = one_word
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_compare_parser(parser.add_subparsers(dest="command"))
    report = tmp_path / "report.html"
    arguments = parser.parse_args(
        [
            "compare",
            "--file",
            str(texts),
            "--methods",
            "integrated_gradients",
            "saliency",
            "--metrics",
            "comprehensiveness",
            "--n-bootstrap",
            "20",
            "--html",
            str(report),
        ]
    )
    assert run_compare(arguments, model, tokenizer) == 0
    out = capsys.readouterr().out
    assert "integrated_gradients is the most faithful" in out and report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_perturbation_methods_are_compared_like_gradient_ones(one_word):
    model, tokenizer = one_word
    methods, metrics = ["feature_ablation", "shapley_sampling"], ["comprehensiveness", "completeness_error"]
    result = compare(model, tokenizer, list(TEXTS), methods, metrics=metrics, n_bootstrap=50)
    for method in ("feature_ablation", "shapley_sampling"):
        np.testing.assert_allclose(result.results[method].values["comprehensiveness"], 5.0)
        np.testing.assert_allclose(result.results[method].values["completeness_error"], 0.0, atol=1e-9)
