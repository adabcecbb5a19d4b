"""Image loading: any PIL-readable file or array -> H x W x 3 uint8 RGB, EXIF orientation applied."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from frozenseg_runtime.errors import ImageError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})


def load_image(source: str | os.PathLike | np.ndarray | Image.Image) -> np.ndarray:
    """Read a path, PIL image or array as RGB uint8; grayscale and RGBA are converted."""
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        return np.asarray(ImageOps.exif_transpose(source).convert("RGB"))
    path = Path(source)
    if not path.is_file():
        raise ImageError(f"image {path} does not exist or is not a file")
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"cannot decode image {path}: {exc}; expected JPEG, PNG, WebP or BMP") from exc


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    if array.dtype != np.uint8:
        raise ImageError(f"image array must be uint8, got {array.dtype}; scale to 0..255 first")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 3:
        return np.ascontiguousarray(array)
    if array.ndim == 3 and array.shape[2] == 4:
        return np.ascontiguousarray(array[:, :, :3])
    raise ImageError(f"image array must be H x W, H x W x 3 or H x W x 4, got shape {array.shape}")
