"""Layer x head heatmaps: escaped HTML on one shared scale, PNG and SVG files, the Jupyter view."""

from __future__ import annotations

import pytest
import torch

import limelight
from limelight.engine.evidence import Evidence
from limelight.errors import InvalidInputError
from limelight.text.heads import HeadImportance
from limelight.viz import render_heads_html, save_heads
from limelight.viz.heads import head_grids

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def _result(ablation: bool = True) -> HeadImportance:
    scores = torch.tensor([[[1.0, -2.0, 0.0], [0.5, 0.0, 4.0]], [[-1.0, 2.0, 0.0], [0.5, 0.0, 0.0]]], dtype=torch.float64)
    evidence = Evidence(delta=torch.tensor([1e-7, -2e-7]), input_value=torch.tensor([3.5, 1.5]), baseline_value=torch.zeros(2))
    return HeadImportance(
        texts=(HOSTILE, "fine"),
        target_labels=("<neg>", "pos"),
        quantity="logit",
        scores=scores,
        evidence=evidence,
        ablation=scores * 0.5 if ablation else None,
        layer_scores=torch.tensor([[1.0, 2.5], [0.5, 1.0]], dtype=torch.float64),
        layer_evidence=evidence,
        layer_names=("enc.layer.0", "enc.<layer>.1"),
        n_steps=16,
    )


def test_grids_mean_and_per_text() -> None:
    grids = head_grids(_result(), show="all")
    assert [g.values.shape for g in grids] == [(2, 3)] * 3
    assert grids[0].values[0, 1] == 0.0 and grids[0].values[1, 2] == 2.0
    with pytest.raises(InvalidInputError, match="no ablation"):
        head_grids(_result(ablation=False), kind="ablation")
    with pytest.raises(InvalidInputError, match="kind"):
        head_grids(_result(), kind="attention")


def test_html_is_escaped_and_shares_one_scale() -> None:
    page = render_heads_html(_result(), percentile=100.0)
    assert "<script>" not in page and "<b>bold" not in page and "&lt;script&gt;" in page
    assert "&lt;neg&gt;" in page and "enc.&lt;layer&gt;.1" in page
    assert page.count("shared scale ±4 (100th percentile of |score| over 3 grid(s))") == 1  # one scale for all grids
    assert 'data-score="+4.0"' in page and 'data-score="-2.0"' in page
    assert limelight._display.html(_result()) is not None  # the registered Jupyter view


def test_files(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    for suffix in (".png", ".svg", ".html"):
        path = save_heads(tmp_path / f"heads{suffix}", _result(), show="mean")
        assert path.stat().st_size > 500
    svg = (tmp_path / "heads.svg").read_text()
    assert "<script>" not in svg
    html = (tmp_path / "heads.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    with pytest.raises(InvalidInputError, match="format"):
        save_heads(tmp_path / "heads.gif", _result())
