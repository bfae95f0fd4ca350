"""Static images: heatmap pixels, SVG safety, top-word bars, convergence plot."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="image export needs matplotlib: pip install 'limelight[plot]'")
from matplotlib.text import Text  # noqa: E402
from PIL import Image  # noqa: E402

from limelight.errors import InvalidInputError  # noqa: E402
from limelight.viz import (  # noqa: E402
    NEGATIVE_EXTREME,
    POSITIVE_EXTREME,
    plot_convergence,
    plot_heatmap,
    plot_top_words,
    save_image,
)
from limelight.viz.colors import SATURATION_MARK, choose_scales, from_hex  # noqa: E402
from tests.viz.builders import AMAZING_SCORES, TERRIBLE_SCORES, make_explanation  # noqa: E402

DPI = 100.0
AMAZING_BOX, TERRIBLE_BOX = "span-0-6", "span-1-6"  # record, word index


def _rgb(color: str) -> np.ndarray:
    return np.array([round(v * 255) for v in from_hex(color)], dtype=np.uint8)


def _box_pixels(path, explanations, gid, **options) -> tuple[np.ndarray, np.ndarray]:
    """The PNG's pixels strictly inside the box ``gid``, and those on its border."""
    save_image(path, explanations, dpi=DPI, **options)
    image = np.asarray(Image.open(path).convert("RGB"))
    figure = plot_heatmap(explanations, **options)
    figure.set_dpi(DPI)
    [patch] = [p for p in figure.axes[0].patches if p.get_gid() == gid]
    box = patch.get_window_extent()
    height = image.shape[0]
    left, right = int(np.ceil(box.x0)), int(np.floor(box.x1))
    top, bottom = height - int(np.floor(box.y1)), height - int(np.ceil(box.y0))
    inside = image[top + 3 : bottom - 3, left + 3 : right - 3].reshape(-1, 3)
    border = np.concatenate([image[top:bottom, left], image[top:bottom, right - 1]])
    return inside, border


def _share(pixels: np.ndarray, color: str) -> float:
    return float(np.all(pixels == _rgb(color), axis=1).mean())


def test_strongest_word_box_has_the_palette_extreme(tmp_path, minimal_pair):
    inside, border = _box_pixels(tmp_path / "pair.png", minimal_pair, AMAZING_BOX)
    assert _share(inside, POSITIVE_EXTREME) > 0.5  # the rest is the word's anti-aliased glyphs
    assert _share(border, SATURATION_MARK) > 0.5  # saturated: outlined


def test_shared_and_per_text_scales_in_pixels(tmp_path, minimal_pair):
    [shared, _] = choose_scales([AMAZING_SCORES, TERRIBLE_SCORES])
    inside, border = _box_pixels(tmp_path / "shared.png", minimal_pair, TERRIBLE_BOX)
    assert _share(inside, shared.shade(-2.0).background) > 0.5
    assert _share(inside, NEGATIVE_EXTREME) == 0.0 and _share(border, SATURATION_MARK) == 0.0
    inside, border = _box_pixels(tmp_path / "per_text.png", minimal_pair, TERRIBLE_BOX, scale="per_text")
    assert _share(inside, NEGATIVE_EXTREME) > 0.5 and _share(border, SATURATION_MARK) > 0.5


def test_svg_is_valid_xml_with_ids_and_inert_text(tmp_path):
    text = "--><script>alert(1)</script><!-- <img src=x onerror=alert(1)> ]]>"
    explanation = make_explanation(text, 0.1, predicted_label="</svg><script>alert(2)</script>")
    path = save_image(tmp_path / "hostile.svg", explanation)
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    elements = list(root.iter())
    assert not [e for e in elements if e.tag.rsplit("}", 1)[-1] in {"script", "img", "foreignObject"}]
    assert not [name for e in elements for name in e.attrib if name.lower().startswith("on")]
    assert any(e.get("id") == "span-0-0" for e in elements)


def test_dollar_signs_are_not_math(tmp_path):
    explanation = make_explanation("price: $x^2$ now", 0.1, predicted_label="$\\alpha$")
    for figure in (plot_heatmap(explanation), plot_top_words(explanation)):
        texts = [t for t in figure.findobj(Text) if "$" in t.get_text()]
        assert texts and not any(t.get_parse_math() for t in texts)
        figure.savefig(tmp_path / "dollars.png")


def test_image_format_comes_from_the_suffix(tmp_path, minimal_pair):
    with pytest.raises(InvalidInputError, match=".png"):
        save_image(tmp_path / "pair.jpeg", minimal_pair)
    assert save_image(tmp_path / "pair.pdf", minimal_pair).read_bytes().startswith(b"%PDF")


def test_top_words_bars_show_the_most_positive_then_the_most_negative(minimal_pair):
    figure = plot_top_words(minimal_pair[0], k=2)
    [axes] = figure.axes
    assert [round(bar.get_width(), 6) for bar in axes.patches] == [2.5, 0.2, -0.05]
    labels = [t.get_text() for t in axes.texts]
    assert labels[0::2] == ["amazing", "movies", "one"]
    assert [tuple(round(v * 255) for v in bar.get_facecolor()[:3]) for bar in axes.patches][0] == tuple(_rgb(POSITIVE_EXTREME))
    with pytest.raises(InvalidInputError):
        plot_top_words(minimal_pair[0], k=0)
    with pytest.raises(InvalidInputError):
        plot_top_words(minimal_pair, k=2)  # type: ignore[arg-type]


def test_convergence_plot_marks_points_above_tolerance():
    steps, deltas = [4, 8, 16, 32], [0.3, -0.05, 0.004, 0.0005]
    figure = plot_convergence(steps, deltas, tolerance=0.01)
    [axes] = figure.axes
    [points] = axes.collections
    assert np.allclose(points.get_offsets(), np.column_stack([steps, np.abs(deltas)]))
    above = [tuple(np.round(c[:3] * 255).astype(int)) for c in points.get_facecolors()]
    assert above == [tuple(_rgb(POSITIVE_EXTREME))] * 2 + [tuple(_rgb(NEGATIVE_EXTREME))] * 2
    assert axes.get_yscale() == "log" and axes.get_xscale() == "log"
    assert [line.get_ydata()[0] for line in axes.lines if line.get_linestyle() == "--"] == [0.01]


@pytest.mark.parametrize(
    "steps, deltas, tolerance",
    [
        ([], [], None),
        ([1, 2], [0.1], None),
        ([0, 2], [0.1, 0.2], None),
        ([1], [float("nan")], None),
        ([1], [1.0], -1.0),
    ],
)
def test_convergence_plot_rejects_bad_input(steps, deltas, tolerance):
    with pytest.raises(InvalidInputError):
        plot_convergence(steps, deltas, tolerance)


def test_importing_views_does_not_import_matplotlib():
    code = "import sys, limelight.viz; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
