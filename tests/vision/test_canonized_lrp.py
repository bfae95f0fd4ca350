"""BatchNorm canonization on the demo EfficientNet-Lite0 (slow: loads the real model and runs 224 x 224 LRP)."""

from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.slow

skimage_data = pytest.importorskip("skimage.data")
pytest.importorskip("efficientnet_lite_pytorch")


def test_canonization_merges_every_batchnorm_keeps_the_prediction_and_shrinks_delta() -> None:
    import limelight
    from limelight.engine.propagation import LRP, BatchNormCanonizer, Composite, Epsilon, Gamma, ZBox
    from limelight.vision.images import to_tensor

    model, preprocess, names = limelight.demo_image_model()
    x = preprocess(to_tensor(skimage_data.chelsea()))[None]
    with torch.no_grad():
        plain = model(x)
        with BatchNormCanonizer().applied([model], lambda: model(x)) as done:
            merged = model(x)
    target = int(plain.argmax())
    assert len(done.merged) == 49 and done.kept == ()
    assert int(merged.argmax()) == target and (merged - plain).abs().max() < 1e-3
    # measured on chelsea (docs/vision.md): epsilon_plus -9.08 -> -8.71 (f(x) = 9.08; the rest is what z+ drops at
    # units with no positive input); gamma with epsilon on the linear projections: 3.4e11 -> -4.63
    off = LRP(model, composite="epsilon_plus", canonize=False).attribute(x, target)
    on = LRP(model, composite="epsilon_plus").attribute(x, target)
    assert on.settings.merged_batchnorms == 49 and off.settings.merged_batchnorms == 0
    assert float(on.delta.abs()) < 0.97 * float(off.delta.abs())
    projections = {n: Epsilon() for n, _ in model.named_modules() if n.endswith("_project_conv")}
    rules = Composite("gamma_projections_epsilon", dense=Epsilon(), conv=Gamma(0.25), first=ZBox(-3, 3), layers=projections)
    gamma_off = LRP(model, composite=rules, canonize=False).attribute(x, target)
    gamma_on = LRP(model, composite=rules).attribute(x, target)
    assert float(gamma_on.delta.abs()) < 0.6 * float(plain[0, target]) < 1e-6 * float(gamma_off.delta.abs())
