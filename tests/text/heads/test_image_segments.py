"""The PNG/SVG view names the segments of pairs (question / context, premise / hypothesis, text / other)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

pytest.importorskip("matplotlib", reason="image export needs matplotlib: pip install 'limelight[plot]'")
from limelight.viz import plot_heatmap, save_image  # noqa: E402
from tests.viz.builders import make_explanation  # noqa: E402


def pair(names: list[str]):
    return make_explanation("where is it", [0.2, -0.1, 0.4], text_pair="it is here", pair_scores=[0.3, 0.1, -0.2], segment_names=names)


def test_each_segment_starts_with_its_name_left_of_its_first_word_box():
    figure = plot_heatmap(pair(["question", "context"]))
    figure.canvas.draw()
    labels = {t.get_gid(): t for t in figure.axes[0].texts if (t.get_gid() or "").startswith("segment-")}
    assert {gid: t.get_text() for gid, t in labels.items()} == {"segment-0-0": "question:", "segment-0-1": "context:"}
    boxes = {p.get_gid(): p.get_window_extent() for p in figure.axes[0].patches if (p.get_gid() or "").startswith("span-")}
    explanation = pair(["question", "context"])
    first_of_segment = {s.segment: i for i, s in reversed(list(enumerate(explanation.word_spans)))}
    for segment, word in first_of_segment.items():
        label = labels[f"segment-0-{segment}"].get_window_extent()
        box = boxes[f"span-0-{word}"]
        assert label.x1 < box.x0  # the name comes first, and the box does not cover it
        assert label.y0 < (box.y0 + box.y1) / 2 < label.y1  # on the same line


def test_unnamed_segments_have_no_label_and_svg_carries_the_names(tmp_path):
    figure = plot_heatmap(pair([]))
    assert not [t for t in figure.axes[0].texts if (t.get_gid() or "").startswith("segment-")]
    save_image(tmp_path / "pair.svg", pair(["premise", "hypothesis"]))
    ids = {element.get("id") for element in ElementTree.parse(tmp_path / "pair.svg").iter()}
    assert {"segment-0-0", "segment-0-1"} <= ids
