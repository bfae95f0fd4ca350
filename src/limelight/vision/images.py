"""Reading what users pass as images into float tensors ``(C, H, W)`` with values in ``[0, 1]``.

Accepted: a tensor ``(N, C, H, W)`` or ``(C, H, W)`` (floats in ``[0, 1]``, or ``uint8``), numpy
arrays ``(H, W, C)`` or ``(H, W)`` (``uint8``, or floats in ``[0, 1]``), PIL images and file
paths (read with Pillow), or a list of any of these. ``RGBA`` images lose their alpha channel;
greyscale stays one channel, except for a model whose first convolution takes three channels:
there the grey channel is repeated into R, G and B (:func:`match_channels`, as Pillow's
``convert("RGB")`` does). The values are what an image *is*; the model's normalisation is the
preprocessing's job (:mod:`limelight.vision.preprocess`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import InvalidInputError, MissingDependencyError

ImageLike = Tensor | np.ndarray | os.PathLike[str] | str | Any
"""One image: a tensor, a numpy array, a PIL image or a path."""
Images = ImageLike | Sequence[ImageLike]


def load_images(images: Images) -> tuple[list[Tensor], list[str], bool]:
    """The images as float32 ``(C, H, W)`` tensors in ``[0, 1]``, their names (a file's name, else ``image <i>``),
    and whether one image (not a collection) was given."""
    if isinstance(images, Tensor) and images.dim() == 4:
        return [_from_tensor(image, f"image {i}") for i, image in enumerate(images)], [f"image {i}" for i in range(len(images))], False
    if _is_single(images):
        return [to_tensor(images)], [_name(images, 0)], True
    if not isinstance(images, Sequence) or isinstance(images, (str, bytes)):
        raise InvalidInputError(f"images must be an image, a list of images or an (N, C, H, W) tensor, got {type(images).__name__}")
    loaded = [to_tensor(image, f"image {i}") for i, image in enumerate(images)]
    if not loaded:
        raise InvalidInputError("images is empty: pass at least one image")
    return loaded, [_name(image, i) for i, image in enumerate(images)], False


def _name(image: ImageLike, index: int) -> str:
    return os.path.basename(os.fspath(image)) if isinstance(image, (str, os.PathLike)) else f"image {index}"


def _is_single(image: Any) -> bool:
    return isinstance(image, (Tensor, np.ndarray, str, os.PathLike)) or _is_pil(image)


def _is_pil(image: Any) -> bool:
    return type(image).__module__.startswith("PIL.")


def to_tensor(image: ImageLike, name: str = "the image") -> Tensor:
    """One image as a float32 ``(C, H, W)`` tensor in ``[0, 1]``."""
    if isinstance(image, Tensor):
        return _from_tensor(image, name)
    if isinstance(image, (str, os.PathLike)):
        return _from_pil(_open(image), name)
    if _is_pil(image):
        return _from_pil(image, name)
    if isinstance(image, np.ndarray):
        array = image[:, :, None] if image.ndim == 2 else image
        if array.ndim != 3:
            raise InvalidInputError(f"{name}: a numpy image must be (H, W) or (H, W, C), got shape {image.shape}")
        return _from_tensor(torch.from_numpy(np.array(array, copy=True)).permute(2, 0, 1), name)
    raise InvalidInputError(f"{name}: cannot read a {type(image).__name__} as an image; pass a tensor, numpy array, PIL image or path")


def match_channels(image: Tensor, channels: int | None) -> Tensor:
    """A greyscale ``(1, H, W)`` image repeated into three channels when the model takes ``channels=3``; others as they are."""
    return image.expand(3, -1, -1).contiguous() if channels == 3 and image.shape[0] == 1 else image


def _open(path: str | os.PathLike[str]) -> Any:
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("reading image files needs Pillow: pip install 'limelight[vision]'") from error
    if not os.path.isfile(path):
        raise InvalidInputError(f"no image file at {os.fspath(path)!r}")
    try:
        with Image.open(path) as opened:
            opened.load()
            return opened.copy()
    except (OSError, SyntaxError, ValueError) as error:  # PIL's UnidentifiedImageError is an OSError; truncated files raise either
        raise InvalidInputError(
            f"cannot read {os.fspath(path)!r} as an image ({error}); give a PNG, JPEG or another format Pillow reads"
        ) from error


def _from_pil(image: Any, name: str) -> Tensor:
    mode = "L" if image.mode in ("1", "L", "I", "I;16", "F") else "RGB"
    return to_tensor(np.asarray(image.convert(mode)), name)


def _from_tensor(image: Tensor, name: str) -> Tensor:
    if image.dim() != 3:
        raise InvalidInputError(f"{name}: an image tensor must be (C, H, W) (or a batch (N, C, H, W)), got shape {tuple(image.shape)}")
    if image.shape[1] == 0 or image.shape[2] == 0:
        raise InvalidInputError(f"{name} has shape {tuple(image.shape)}: an image needs at least one pixel")
    if image.shape[0] not in (1, 3, 4) and image.shape[-1] in (1, 3, 4):
        raise InvalidInputError(
            f"{name} has shape {tuple(image.shape)}, which looks channels-last: tensors are (C, H, W); numpy arrays are (H, W, C)"
        )
    if image.dtype == torch.uint8:
        image = image.to(torch.float32) / 255.0
    elif image.dtype.is_floating_point:
        image = image.detach().to(torch.float32)
        low, high = float(image.min()), float(image.max())
        if low < 0.0 or high > 1.0:
            raise InvalidInputError(
                f"{name} has values in [{low:.3g}, {high:.3g}]: pass images with values in [0, 1] (or uint8) and let "
                "preprocess= normalise them for the model"
            )
    else:
        raise InvalidInputError(f"{name} has dtype {image.dtype}: images are uint8 or floats in [0, 1]")
    if image.shape[0] == 4:
        image = image[:3]
    return image.cpu().contiguous()
