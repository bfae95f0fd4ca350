"""Views of explanations: HTML heatmaps, terminal output and static images.

All views share one diverging palette, symmetric around zero, and by default one colour scale
across everything shown together, so that two texts can be compared at a glance. Each record
shows the prediction and its probability, the target, the explained quantity, the method and
the convergence delta, with a warning when the delta is above tolerance.

HTML and terminal views need only the core install; images need ``limelight[plot]``
(matplotlib), which is imported when a figure is first made.
"""

from __future__ import annotations

from limelight.viz.colors import NEGATIVE_EXTREME, POSITIVE_EXTREME, ColorScale, Shade, choose_scales
from limelight.viz.html import compare_html, render_html, save_html
from limelight.viz.plots import plot_convergence, plot_heatmap, plot_top_words, save_image
from limelight.viz.terminal import print_terminal, render_terminal

__all__ = [
    "NEGATIVE_EXTREME",
    "POSITIVE_EXTREME",
    "ColorScale",
    "Shade",
    "choose_scales",
    "compare_html",
    "plot_convergence",
    "plot_heatmap",
    "plot_top_words",
    "print_terminal",
    "render_html",
    "render_terminal",
    "save_html",
    "save_image",
]
