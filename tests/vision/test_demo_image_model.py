"""The real EfficientNet-Lite0 demo model (slow: loads 17 MB of weights and runs 224 x 224 images)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

pytestmark = pytest.mark.slow

skimage_data = pytest.importorskip("skimage.data")
pytest.importorskip("efficientnet_lite_pytorch")


@pytest.fixture(scope="module")
def demo():
    import limelight

    return limelight.demo_image_model()


def test_the_demo_model_recognises_the_bundled_photos(demo) -> None:
    from limelight.vision.images import to_tensor

    model, preprocess, names = demo
    assert len(names) == 1000 and len(set(names)) == 1000
    photos = {"coffee": "espresso", "chelsea": "Egyptian cat", "rocket": "missile"}
    batch = torch.stack([preprocess(to_tensor(getattr(skimage_data, photo)())) for photo in photos])
    with torch.no_grad():
        predicted = [names[int(i)] for i in model(batch).argmax(1)]
    assert predicted == list(photos.values())


def test_every_use_of_the_reused_relu6_modules_is_intercepted(demo) -> None:
    from limelight.engine.propagation import modified_backward

    model, preprocess, _ = demo
    runs = 0

    def count(module: nn.Module, args: object, output: object) -> None:
        nonlocal runs
        runs += 1

    handles = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.ReLU6)]
    intercepted = 0

    def rule(grad: torch.Tensor, passes: torch.Tensor) -> torch.Tensor:
        return grad * passes

    from limelight.engine.propagation import rectifiers as rules

    original = rules._RectifierFunction.forward

    def counting(ctx, *args):  # type: ignore[no-untyped-def]
        nonlocal intercepted
        intercepted += 1
        return original(ctx, *args)

    rules._RectifierFunction.forward = staticmethod(counting)  # type: ignore[method-assign]
    try:
        with modified_backward(rule, model):
            model(torch.zeros(1, 3, 224, 224))
    finally:
        rules._RectifierFunction.forward = staticmethod(original)  # type: ignore[method-assign]
        for handle in handles:
            handle.remove()
    assert runs > len(list(model._blocks)) and intercepted == runs  # several calls per module, each intercepted


def test_explaining_a_photo_end_to_end(demo) -> None:
    from limelight.vision import explain_image

    model, preprocess, names = demo
    cam = explain_image(model, skimage_data.coffee(), preprocess=preprocess, labels=names, method="layer_grad_cam")
    assert cam.predicted_label == "espresso" and cam.image_scores.shape == (400, 600)
    guided = explain_image(model, skimage_data.coffee(), target="espresso", preprocess=preprocess, labels=names, method="guided_backprop")
    assert guided.attributions.shape == (3, 224, 224) and torch.isfinite(guided.attributions).all()


def test_lrp_runs_through_the_same_padded_convolutions(demo) -> None:
    """The demo's ``Conv2dStaticSamePadding`` layers pad in their forward: LRP equals that of a twin whose every such
    layer is a stock ``ZeroPad2d`` + ``Conv2d`` pair, and the vision front end runs it."""
    import copy

    from limelight.engine.propagation import LRP
    from limelight.vision import explain_image
    from limelight.vision.images import to_tensor

    model, preprocess, names = demo
    twin = copy.deepcopy(model)
    for parent in list(twin.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Conv2d) and type(child).forward is not nn.Conv2d.forward:
                stock = nn.Conv2d(child.in_channels, child.out_channels, child.kernel_size, child.stride, 0, child.dilation, child.groups)
                stock.bias = None if child.bias is None else stock.bias
                stock.load_state_dict(child.state_dict())
                setattr(parent, name, nn.Sequential(child.static_padding, stock))
    x = preprocess(to_tensor(skimage_data.coffee()))[None]
    with torch.no_grad():
        torch.testing.assert_close(twin(x), model(x))
    ours, theirs = LRP(model).attribute(x, target=967), LRP(twin).attribute(x, target=967)
    torch.testing.assert_close(ours.attributions, theirs.attributions)
    lrp = explain_image(model, skimage_data.coffee(), preprocess=preprocess, labels=names, method="lrp")
    assert lrp.predicted_label == "espresso" and torch.isfinite(lrp.attributions).all() and lrp.delta is not None
