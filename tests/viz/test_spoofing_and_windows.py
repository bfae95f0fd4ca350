"""Every view (HTML, terminal, image) neutralises label names from the model config and says when a text was windowed."""

from __future__ import annotations

import sys

import pytest
from matplotlib.text import Text
from rich.console import Console

from limelight.engine.evidence import Evidence
from limelight.errors import MissingDependencyError
from limelight.text.explanation import Explanations
from limelight.viz import plot_heatmap, plot_top_words, render_html, render_terminal, save_image
from limelight.viz.records import summarize
from tests.viz.builders import AMAZING, AMAZING_SCORES, make_explanation

FORGING_LABELS = ["positive\u202e(449.0 = p)", "positive\nprediction: negative (p = 0.99)", "pos\u2028itive\u2066x\u2069\u200f"]


def _terminal(explanation) -> str:
    console = Console(width=300, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render_terminal(explanation))
    return console.export_text()


def _image_texts(explanation) -> str:
    return "\n".join(t.get_text() for figure in (plot_heatmap(explanation), plot_top_words(explanation)) for t in figure.findobj(Text))


@pytest.mark.parametrize("label", FORGING_LABELS)
def test_label_names_cannot_forge_a_header_or_a_line(label):
    explanation = make_explanation(AMAZING, AMAZING_SCORES, labels=(label, "negative"))
    for item in summarize(explanation).items():
        assert not any(char in item[1] for char in "\n\u2028\u202e\u2066\u2069\u200f"), item
    terminal = _terminal(explanation)
    assert "\u202e" not in terminal and "\u2066" not in terminal
    assert not any(line.startswith("prediction: negative") for line in terminal.splitlines())
    html = render_html(explanation)
    assert "\u202e" not in html and "\u2028" not in html and "positive\nprediction" not in html
    shown = _image_texts(explanation)
    assert "\u202e" not in shown and "positive\nprediction" not in shown


def _windowed():
    windows = [Evidence(delta=0.01, input_value=1.0, baseline_value=0.5, n_steps=32, tolerance=0.01)] * 3
    return make_explanation(AMAZING, AMAZING_SCORES, windows=[(0, 20), (15, 30), (25, 42)], window_evidence=windows)


def test_every_view_says_a_text_was_windowed_and_that_values_are_sums():
    explanation = _windowed()
    assert explanation.is_windowed and not make_explanation(AMAZING, AMAZING_SCORES).is_windowed
    summary = summarize(explanation)
    assert summary.windows and "3 windows" in summary.windows and "sum over 3 windows" in summary.quantity
    assert "3 windows" in _terminal(explanation)
    assert "3 windows" in render_html(explanation)
    assert "3 windows" in "\n".join(t.get_text() for t in plot_heatmap(explanation).findobj(Text))


def test_a_text_that_fits_shows_no_window_line():
    explanation = make_explanation(AMAZING, AMAZING_SCORES)
    assert summarize(explanation).windows is None
    assert "windowed" not in _terminal(explanation) and "windowed" not in render_html(explanation)


def test_a_one_output_model_shows_no_fake_probability():
    explanation = make_explanation(AMAZING, AMAZING_SCORES, probabilities={}, predicted_label="LABEL_0", target_label="LABEL_0")
    summary = summarize(explanation)
    assert "p = 1" not in summary.prediction and "not a class probability" in summary.prediction
    assert explanation.predicted_probability is None


def test_window_evidence_survives_json():
    explanation = _windowed()
    again = type(explanation).from_json(explanation.to_json())
    assert again.window_evidence == explanation.window_evidence and again.is_windowed


def test_missing_extras_raise_the_librarys_error(monkeypatch, tmp_path):
    explanation = make_explanation(AMAZING, AMAZING_SCORES)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependencyError, match=r"limelight\[plot\]"):
        save_image(tmp_path / "x.png", explanation)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"limelight\[pandas\]"):
        Explanations([explanation]).to_dataframe()
