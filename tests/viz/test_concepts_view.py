"""TCAV views: bars equal the result's means, significance marked, hostile names escaped and drawn literally."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("matplotlib", reason="image export needs matplotlib: pip install 'limelight[plot]'")
from matplotlib.patches import Rectangle  # noqa: E402

from limelight import TCAVResult  # noqa: E402
from limelight.errors import InvalidInputError  # noqa: E402
from limelight.viz import plot_tcav, render_tcav_html, save_tcav  # noqa: E402

HOSTILE = '<img src=x onerror="alert(1)">$x^2$'


def _result() -> TCAVResult:
    scores = torch.tensor([[[0.9, 0.8, 0.85], [0.5, 0.4, 0.6]], [[0.2, 0.3, 0.25], [0.45, 0.55, 0.5]]], dtype=torch.float64)
    p = torch.tensor([[0.001, 0.5], [0.01, 0.9]], dtype=torch.float64)
    return TCAVResult(
        concepts=(HOSTILE, "praise"),
        layers=("layer 0", "layer $1$"),
        target=1,
        n_examples=20,
        n_runs=3,
        seed=0,
        alpha=0.05,
        scores=scores,
        random_scores=torch.full_like(scores, 0.5),
        accuracy=torch.full_like(scores, 0.9),
        random_accuracy=torch.full_like(scores, 0.5),
        p_values=p,
        p_adjusted=(p * 4).clamp(max=1),
    )


def test_bars_are_the_mean_scores_and_significant_ones_are_starred():
    result = _result()
    figure = plot_tcav(result, target_name="negative")
    ax = figure.axes[0]
    bars = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
    assert [round(bar.get_height(), 6) for bar in bars] == pytest.approx(result.mean.flatten().tolist())
    stars = [text for text in ax.texts if text.get_text() == "*"]
    assert len(stars) == int(result.significant.sum()) == 2
    labels = [text.get_text() for text in ax.get_legend().get_texts()] + [t.get_text() for t in ax.get_xticklabels()]
    assert HOSTILE in labels and "layer $1$" in labels  # drawn literally, not as mathtext


def test_html_escapes_names_and_marks_significant_rows(tmp_path):
    page = save_tcav(tmp_path / "tcav.html", _result(), target_name="<b>neg</b>").read_text(encoding="utf-8")
    assert "<img" not in page and "&lt;img src=x" in page and "&lt;b&gt;neg&lt;/b&gt;" in page
    assert page.count('class="ll-significant"') == 2
    assert "0.85 ± 0.05" in page
    assert "ll-tcav" in render_tcav_html(_result())


def test_svg_is_written_and_unknown_formats_are_refused(tmp_path):
    assert save_tcav(tmp_path / "tcav.svg", _result()).read_text(encoding="utf-8").lstrip().startswith("<?xml")
    with pytest.raises(InvalidInputError, match=r"\.html, \.png"):
        save_tcav(tmp_path / "tcav.gif", _result())


def test_the_jupyter_view_of_a_result_is_its_table():
    assert "ll-tcav" in _result()._repr_html_()
