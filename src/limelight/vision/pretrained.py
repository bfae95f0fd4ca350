"""Hugging Face image classifiers from a local folder: the model, its image processor as the preprocessing.

``save_pretrained`` writes a folder with ``config.json`` (which holds ``id2label``, the label
names), the weights and ``preprocessor_config.json``. :func:`load_local_image_classifier` loads
the first two with ``AutoModelForImageClassification`` and the processor with
``AutoImageProcessor``, from disk only (``local_files_only``), and refuses a folder without them
rather than let transformers fill the gaps (random head weights, default processing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import InvalidInputError, MissingDependencyError

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
"""The weight files ``model.save_pretrained`` writes (one file, or an index of shards)."""


@dataclass(frozen=True)
class ProcessorPreprocess:
    """A Hugging Face image processor as ``preprocess=``: an image ``(C, H, W)`` in ``[0, 1]`` to its ``pixel_values``.

    The image goes to the processor as a channels-last float array with ``do_rescale=False``
    (it is in ``[0, 1]`` already), so every other step (resize, crop, normalise) is the
    processor's own. It is not torch code, so scores are mapped back onto the photo by resizing
    (``image_mapping == "resize"``).
    """

    processor: Any

    def __call__(self, image: Tensor) -> Tensor:
        array = image.detach().to(torch.float32).cpu().permute(1, 2, 0).numpy()
        values = self.processor(images=array, do_rescale=False, input_data_format="channels_last", return_tensors="pt")["pixel_values"]
        return values[0].to(image.dtype)


def load_local_image_classifier(path: str | os.PathLike[str]) -> tuple[nn.Module, ProcessorPreprocess]:
    """``(model, preprocess)`` from a folder saved with ``model.save_pretrained`` and ``processor.save_pretrained``."""
    try:
        import transformers
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("Hugging Face image classifiers need transformers: pip install transformers") from error
    folder = Path(path)
    if not folder.is_dir():
        raise InvalidInputError(
            f"{os.fspath(path)!r} is not a local directory; limelight loads models from disk only "
            "(save one with model.save_pretrained(dir) and image_processor.save_pretrained(dir))"
        )
    missing = [
        what
        for what, present in (
            ("config.json", (folder / "config.json").is_file()),
            (f"weights ({', '.join(WEIGHT_FILES)})", any((folder / name).is_file() for name in WEIGHT_FILES)),
            ("preprocessor_config.json (the image processor)", (folder / "preprocessor_config.json").is_file()),
        )
        if not present
    ]
    if missing:
        raise InvalidInputError(
            f"{os.fspath(folder)!r} lacks {' and '.join(missing)}; save the classifier with model.save_pretrained(dir) "
            "and its processor with image_processor.save_pretrained(dir), or pass model and preprocess= to ImageExplainer"
        )
    try:
        model, info = transformers.AutoModelForImageClassification.from_pretrained(folder, local_files_only=True, output_loading_info=True)
        processor = transformers.AutoImageProcessor.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as error:
        raise InvalidInputError(
            f"cannot load the image classifier in {os.fspath(folder)!r}: {error}; re-save it with save_pretrained"
        ) from error
    if info["missing_keys"]:
        raise InvalidInputError(
            f"{os.fspath(folder)!r} has no trained weights for {sorted(info['missing_keys'])[:5]}; it is not a fine-tuned "
            "image classifier, and explaining a randomly initialised head would explain noise"
        )
    return model.eval(), ProcessorPreprocess(processor)


def model_patch_size(model: nn.Module) -> int | None:
    """A vision transformer's patch size (``config.patch_size``, e.g. ViT, DeiT, BEiT), else ``None``."""
    size = getattr(getattr(model, "config", None), "patch_size", None)
    if isinstance(size, (tuple, list)) and len(set(size)) == 1:
        size = size[0]
    return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None
