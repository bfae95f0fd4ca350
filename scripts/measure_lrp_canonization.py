"""How conservative LRP is on the demo image model with and without BatchNorm canonization (docs/vision.md).

For each bundled photo and CNN composite: ``f(x)`` (the top class's logit), LRP's ``delta = sum(relevance) - f(x)``
and ``|delta| / |f(x)|`` with ``canonize=False`` and with the default (every BatchNorm merged into the convolution
before it), and whether the model's prediction is the same while canonized. ``gamma_projections_epsilon`` is
``epsilon_gamma_box`` with epsilon on the blocks' linear projections (``_project_conv``, no activation after them).

    python scripts/measure_lrp_canonization.py [--photos chelsea coffee] [--composites epsilon_plus epsilon_gamma_box]
"""

from __future__ import annotations

import argparse

import torch
from skimage import data

import limelight
from limelight.engine.propagation import LRP, BatchNormCanonizer, Composite, Epsilon, Gamma, ZBox
from limelight.vision.images import to_tensor

PHOTOS = {"chelsea": data.chelsea, "coffee": data.coffee, "astronaut": data.astronaut, "rocket": data.rocket}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", nargs="+", default=list(PHOTOS), choices=sorted(PHOTOS))
    parser.add_argument("--composites", nargs="+", default=["epsilon_plus", "epsilon_gamma_box", "gamma_projections_epsilon"])
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    model, preprocess, labels = limelight.demo_image_model()
    projections = {n: Epsilon() for n, _ in model.named_modules() if n.endswith("_project_conv")}
    custom = {"gamma_projections_epsilon": Composite("gamma_projections_epsilon", Epsilon(), Gamma(0.25), ZBox(-3, 3), projections)}
    print(
        "| photo | class | f(x) | composite | delta, canonize=False | delta, canonized | abs(delta)/abs(f(x)) off / on | BNs merged | same class |"
    )
    print("| --- | --- | ---: | --- | ---: | ---: | --- | ---: | --- |")
    for photo in arguments.photos:
        x = preprocess(to_tensor(PHOTOS[photo]()))[None]
        with torch.no_grad():
            logits = model(x)
        target = int(logits.argmax())
        with torch.no_grad(), BatchNormCanonizer().applied([model], lambda: model(x)):  # noqa: B023  (run here)
            same = int(model(x).argmax()) == target
        fx = float(logits[0, target])
        for name in arguments.composites:
            rules = custom.get(name, name)
            off = LRP(model, composite=rules, canonize=False).attribute(x, target)
            on = LRP(model, composite=rules).attribute(x, target)
            d_off, d_on = float(off.delta), float(on.delta)
            print(
                f"| {photo} | {labels[target]} | {fx:.3g} | {name} | {d_off:.3g} | {d_on:.3g} | "
                f"{abs(d_off) / abs(fx):.3g} / {abs(d_on) / abs(fx):.3g} | {on.settings.merged_batchnorms} | {same} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
