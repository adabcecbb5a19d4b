"""Image loading: a file, encoded bytes, PIL image or array -> H x W x 3 uint8 RGB, EXIF applied.

Every refusal is an `ImageError` that says what was expected, what came and how to fix it. Files
and bytes are checked against a pixel limit on their header, before any pixel is decoded: a small
PNG can declare 30000 x 30000 pixels (2.7 GB decoded), a decompression bomb.
"""

from __future__ import annotations

import io
import numbers
import os
import struct
import warnings
from pathlib import Path
from typing import IO, Callable, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from frozenseg_runtime.errors import ImageError

__all__ = ["IMAGE_SUFFIXES", "MAX_IMAGE_PIXELS", "ImageSource", "load_image"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})

# Default pixel limit (width x height) of `load_image`; None = no limit. It is read at each call,
# so setting it changes the default of every caller (Segmenter included). 178,956,970 is where
# PIL's own default check refuses an image (twice its warning threshold), about 13,400 x 13,400.
MAX_IMAGE_PIXELS: int | None = 2 * (1024 * 1024 * 1024 // 4 // 3)

ImageSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], np.ndarray,
                    Image.Image]

# What PIL raises on damaged or hostile files (its plugins do not wrap their parsing errors).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError,
                  KeyError, ZeroDivisionError, OverflowError, Image.DecompressionBombError)
_EXPECTED = "expected JPEG, PNG, WebP or BMP"


def load_image(source: ImageSource, *, max_pixels: int | None | str = "default") -> np.ndarray:
    """Read a path, encoded image bytes (or a binary file object), PIL image or array as RGB
    uint8. Grayscale, palette, RGBA, CMYK and 16-bit images are converted; arrays must be uint8.

    `max_pixels` caps width x height of files, bytes and PIL images before decoding ("default":
    the module's MAX_IMAGE_PIXELS; None: no limit). Raises ImageError on anything else.
    """
    limit = _resolve_limit(max_pixels)
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        _check_size(source.size, limit, "the PIL image")
        return _decoded(lambda: _pil_to_rgb(source), "the PIL image",
                        "expected a PIL image that converts to RGB; convert it yourself first")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode(io.BytesIO(bytes(source)), "from the given bytes", limit)
    if hasattr(source, "read"):
        return _decode(source, "from the given file object", limit)
    if isinstance(source, (str, os.PathLike)):
        path = _image_path(source)
        return _decode(path, str(path), limit)
    raise ImageError(
        f"expected an image as a file path, encoded bytes, a PIL image or a numpy array of shape "
        f"(H, W, 3) and dtype uint8, received {type(source).__name__}"
        f"{'; convert it with np.asarray(x, dtype=np.uint8)' if isinstance(source, list) else ''}"
    )


def _resolve_limit(max_pixels: int | None | str) -> int | None:
    """The pixel limit of this call: the module default, None, or a positive integer."""
    if isinstance(max_pixels, str) and max_pixels == "default":
        return MAX_IMAGE_PIXELS
    if max_pixels is None:
        return None
    if isinstance(max_pixels, numbers.Integral) and not isinstance(max_pixels, bool):
        if max_pixels > 0:
            return int(max_pixels)
    raise ImageError(
        f"expected max_pixels as a positive integer, None (no limit) or 'default', received "
        f"{max_pixels!r}"
    )


def _image_path(source: str | os.PathLike) -> Path:
    """An existing image file, or an ImageError saying what is wrong with the path."""
    if isinstance(source, str) and not source.strip():
        raise ImageError("expected an image path, received an empty string")
    path = Path(source).expanduser()
    if _is_kind(path, Path.is_dir):
        raise ImageError(f"expected an image file, received the folder {path}; pass one of its "
                         f"images")
    if not _is_kind(path, Path.is_file):
        raise ImageError(f"expected an image file, received {str(path)!r}, which does not exist "
                         f"or is not a file; check the path")
    return path


def _is_kind(path: Path, test: Callable[[Path], bool]) -> bool:
    """Path.is_file / is_dir, but a name the OS refuses (too long, ...) is neither."""
    try:
        return test(path)
    except (OSError, ValueError):
        return False


def _decode(source: Path | IO[bytes], label: str, limit: int | None) -> np.ndarray:
    """Open (size checked before decoding), decode and convert a file or stream."""
    try:
        im = _open(source)
    except UnidentifiedImageError as exc:
        raise ImageError(f"cannot decode image {label}: not an image format PIL recognises; "
                         f"{_EXPECTED}") from exc
    except _DECODE_ERRORS as exc:
        raise ImageError(f"cannot decode image {label}: {exc}; {_EXPECTED}") from exc
    with im:
        _check_size(im.size, limit, f"image {label}")
        return _decoded(lambda: _pil_to_rgb(im), f"image {label}", _EXPECTED)


def _open(source: Path | IO[bytes]) -> Image.Image:
    """Image.open (lazy: reads the header only) with PIL's process-wide pixel limit replaced by
    this call's: its warning is silenced here, and past its hard limit the file is reopened with
    the format plugins directly, so `max_pixels` alone decides (PIL's global is never changed).
    catch_warnings swaps process-wide filters: at worst, concurrent calls leave PIL's bomb warning
    silenced, which this module's own limit makes redundant anyway."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(source)
        except Image.DecompressionBombError:
            return _open_past_pil_limit(source)


def _open_past_pil_limit(source: Path | IO[bytes]) -> Image.Image:
    """What Image.open does, minus its pixel check: try each registered format plugin."""
    if isinstance(source, Path):
        data = source.read_bytes()
    else:
        source.seek(0)
        data = source.read()
    Image.init()
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        accepted = accept is None or accept(data[:16])
        if not accepted or isinstance(accepted, str):
            continue
        try:
            return factory(io.BytesIO(data), "")
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue
    raise UnidentifiedImageError("cannot identify image file")


def _check_size(size: tuple[int, int], limit: int | None, name: str) -> None:
    """Refuse empty images, and images over the pixel limit before their pixels are decoded."""
    w, h = size
    if w == 0 or h == 0:
        raise ImageError(f"expected a non-empty image, received {name} of {w} x {h} pixels")
    if limit is not None and w * h > limit:
        raise ImageError(
            f"expected an image of at most {limit:,} pixels (the limit that guards against "
            f"decompression bombs), received {name} of {w} x {h} = {w * h:,} pixels; if the "
            f"image is genuine, raise the limit with "
            f"load_image(..., max_pixels={w * h}) or frozenseg_runtime.image.loading."
            f"MAX_IMAGE_PIXELS = {w * h} (None: no limit), or downscale the image"
        )


def _decoded(convert: Callable[[], np.ndarray], name: str, hint: str) -> np.ndarray:
    """Run a PIL decode/convert step; damaged data becomes an ImageError."""
    try:
        return convert()
    except ImageError:
        raise
    except _DECODE_ERRORS as exc:
        raise ImageError(f"cannot decode {name}: {exc}; {hint}") from exc


def _pil_to_rgb(im: Image.Image) -> np.ndarray:
    """EXIF orientation, then RGB uint8. 16-bit images keep their high byte (as PIL does for 16-bit
    RGB PNGs); PIL's own convert would clip every value above 255 to white."""
    im = ImageOps.exif_transpose(im)
    if im.mode.startswith("I;16"):
        return _gray_to_rgb((np.asarray(im) >> 8).astype(np.uint8))
    if im.mode in ("I", "F"):
        return _gray_to_rgb(_wide_to_uint8(np.asarray(im), im.mode))
    return np.asarray(im.convert("RGB"))


def _wide_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """32-bit integer or float pixels: taken as they are when they are whole numbers in 0..255;
    otherwise their scale is unknown, and guessing one would silently change the image."""
    lo, hi = (values.min(), values.max()) if values.size else (0, 0)
    if lo >= 0 and hi <= 255 and np.array_equal(values, np.round(values)):
        return values.astype(np.uint8)
    kind = "32-bit float" if mode == "F" else "32-bit integer"
    raise ImageError(
        f"expected 8- or 16-bit pixels, received a {kind} image (PIL mode {mode!r}) with values "
        f"{lo}..{hi}; its scale is unknown, so convert it to uint8 yourself, e.g. "
        f"np.clip(x / x.max() * 255, 0, 255).astype(np.uint8)"
    )


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    """H x W -> H x W x 3 (contiguous)."""
    return np.repeat(gray[:, :, None], 3, axis=2)


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    """Arrays are taken as 0..255 RGB(A) or grayscale; anything else is refused, not guessed."""
    if array.dtype != np.uint8:
        raise ImageError(
            f"expected an image array of dtype uint8 (values 0..255), received {array.dtype}; "
            f"for float images in 0..1 use (np.clip(x, 0, 1) * 255).round().astype(np.uint8), "
            f"for 16-bit ones (x >> 8).astype(np.uint8)"
        )
    if array.ndim in (2, 3) and 0 in array.shape[:2]:
        raise ImageError(f"expected a non-empty image, received an array of shape {array.shape}")
    if array.ndim == 2:
        return _gray_to_rgb(array)
    if array.ndim == 3 and array.shape[2] == 1:
        return _gray_to_rgb(array[:, :, 0])
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return np.ascontiguousarray(array[:, :, :3])
    raise ImageError(
        f"expected an image array of shape H x W, H x W x 1, H x W x 3 or H x W x 4, received "
        f"shape {array.shape}{_shape_hint(array.shape)}"
    )


def _shape_hint(shape: tuple[int, ...]) -> str:
    """How to fix the usual layout mistakes: channels first, or a batch of one."""
    if len(shape) == 3 and shape[0] in (1, 3, 4):
        return "; for a channels-first (C, H, W) array pass array.transpose(1, 2, 0)"
    if len(shape) == 4 and shape[0] == 1:
        return "; pass one image at a time: array[0]"
    return ""
