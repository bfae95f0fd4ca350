"""Views of explanations: HTML heatmaps, terminal output and static images.

All views share one diverging palette, symmetric around zero, and by default one colour scale
across everything shown together, so that two texts can be compared at a glance. Each record
shows the prediction and its probability, the target, the explained quantity, the method and
the convergence delta, with a warning when the delta is above tolerance.

HTML and terminal views need only the core install; images need ``limelight[plot]``
(matplotlib), which is imported when a figure is first made. Importing this package registers
:func:`render_html` as the Jupyter view of :class:`~limelight.text.explanation.Explanation` and
:class:`~limelight.text.explanation.Explanations` (see :mod:`limelight._display`).
"""

from __future__ import annotations

from limelight._display import register_html
from limelight.engine.concepts.result import TCAVResult
from limelight.generation.explanation import GenerationExplanation
from limelight.text.explanation import Explanation, Explanations
from limelight.text.heads import HeadImportance
from limelight.vision.explanation import ImageExplanation, ImageExplanations
from limelight.viz.colors import NEGATIVE_EXTREME, POSITIVE_EXTREME, ColorScale, Shade, choose_scales
from limelight.viz.concepts import plot_tcav, render_tcav_html, save_tcav
from limelight.viz.generation import (
    plot_generation,
    render_generation_html,
    render_generation_terminal,
    save_generation_html,
    save_generation_image,
)
from limelight.viz.heads import plot_heads, render_heads_html, save_heads
from limelight.viz.html import compare_html, render_html, save_html
from limelight.viz.image import plot_images, render_image_html, save_image_html, save_images
from limelight.viz.plots import plot_convergence, plot_heatmap, plot_top_words, save_image
from limelight.viz.terminal import print_terminal, render_terminal

register_html(Explanation, render_html)
register_html(GenerationExplanation, render_generation_html)
register_html(Explanations, render_html)
register_html(HeadImportance, render_heads_html)
register_html(ImageExplanation, render_image_html)
register_html(ImageExplanations, render_image_html)
register_html(TCAVResult, render_tcav_html)

__all__ = [
    "NEGATIVE_EXTREME",
    "POSITIVE_EXTREME",
    "ColorScale",
    "Shade",
    "choose_scales",
    "compare_html",
    "plot_convergence",
    "plot_generation",
    "plot_heads",
    "plot_heatmap",
    "plot_images",
    "plot_tcav",
    "plot_top_words",
    "print_terminal",
    "render_generation_html",
    "render_generation_terminal",
    "render_heads_html",
    "render_html",
    "render_image_html",
    "render_tcav_html",
    "render_terminal",
    "save_generation_html",
    "save_generation_image",
    "save_heads",
    "save_html",
    "save_image",
    "save_image_html",
    "save_images",
    "save_tcav",
]
