"""``limelight explain-image``: explain photos with the demo image classifier or a local Hugging Face one.

``limelight explain-image cat.jpg --method layer_grad_cam --output cat.png`` prints each image's
prediction and target, and writes the overlays as PNG/SVG/PDF (matplotlib) or self-contained
HTML (by the suffix); ``--json`` prints the explanations as JSON instead. ``--model DIR`` explains
with the image classifier saved in a local folder (``save_pretrained``: config, weights and its image
processor), whose processor preprocesses and whose ``id2label`` names the classes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from limelight.cli.args import check_writable, label
from limelight.demo.image import demo_image_model
from limelight.engine.objective import QUANTITIES
from limelight.errors import UsageError
from limelight.vision import ImageExplainer, ImageExplanations
from limelight.viz.image import KINDS, save_image_html, save_images


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``explain-image`` to an ``argparse`` subparsers object and return its parser."""
    parser: argparse.ArgumentParser = commands.add_parser("explain-image", help="explain image files with the demo ImageNet classifier")
    parser.add_argument("images", nargs="*", help="image files (anything Pillow reads)")
    parser.add_argument("--model", metavar="DIR", help="a local Hugging Face image classifier folder; default: the demo model")
    parser.add_argument("--method", default="integrated_gradients", help="attribution method (default: integrated_gradients)")
    parser.add_argument("--target", type=label, help="label (name or index) to explain; default: the predicted label")
    parser.add_argument("--contrast", type=label, help="explain target minus this label")
    parser.add_argument("--quantity", default="logit", choices=QUANTITIES, help="what is explained (default: logit)")
    parser.add_argument("--baseline", default="black", help="black, blur, noise or mean (default: black)")
    parser.add_argument("--features", help="segments for perturbation methods: slic (default for them) or patches")
    parser.add_argument("--kind", default="blend", choices=KINDS, help="overlay drawn in --output (default: blend)")
    parser.add_argument("--output", metavar="FILE", help="write the overlays to FILE (.png, .svg, .pdf or .html)")
    parser.add_argument("--json", action="store_true", help="print the explanations as JSON")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="show a progress bar")
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace, model: Any = None, preprocess: Any = None, labels: Any = None) -> int:
    """Run ``explain-image`` for parsed arguments (``model``, ``preprocess``, ``labels`` override the demo model)."""
    if not arguments.images:
        raise UsageError("give at least one image file")
    if arguments.output:
        check_writable(arguments.output, "--output")
    settings: dict[str, Any] = {
        "method": arguments.method,
        "baseline": arguments.baseline,
        "features": arguments.features,
        "quantity": arguments.quantity,
        "show_progress": arguments.progress,
    }
    if model is None and arguments.model:
        explainer = ImageExplainer.from_pretrained(arguments.model, **settings)
    else:
        if model is None:
            model, preprocess, labels = demo_image_model()
        explainer = ImageExplainer(model, preprocess if preprocess is not None else "imagenet", labels, **settings)
    result = explainer.explain(list(arguments.images), target=arguments.target, contrast=arguments.contrast)
    explanations = result if isinstance(result, ImageExplanations) else ImageExplanations([result])
    if arguments.json:
        print(explanations.to_json(indent=2))
    else:
        for explanation in explanations:
            delta = "" if explanation.delta is None else f", delta {explanation.delta:+.3g}"
            print(
                f"{explanation.name}: predicted {explanation.predicted_label} ({explanation.predicted_probability:.1%}), target {explanation.target_label}{delta}"
            )
    if arguments.output:
        write = save_image_html if Path(arguments.output).suffix.lower() == ".html" else save_images
        write(arguments.output, explanations, arguments.kind)
        print(f"wrote {arguments.output}")
    return 0
