"""Image preprocessing of FrozenSeg, without torch.

Reproduces the official test-time path: detectron2's `ResizeShortestEdge` (PIL bilinear on uint8),
then in `FrozenSeg.forward` the CLIP branch (normalise, zero-pad bottom/right to a multiple) and
the SAM branch (normalise with SAM's statistics, pad, bilinear resize to a square, aspect NOT
kept). Every constant comes from the model's manifest, as one typed `PreprocessConstants`
(C++: `PreprocessConstants` in runtime/cpp/src/image/preprocess.hpp).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from frozenseg_runtime.errors import ImageError
from frozenseg_runtime.image.ops import resize_bilinear

__all__ = [
    "PreparedImage",
    "resized_shape",
    "resize_image",
    "normalize",
    "pad_bottom_right",
    "prepare_image",
    "preprocess",
    "PreprocessConstants",
    "encoder_input_shape",
    "validate_image",
]


@dataclass(frozen=True)
class PreprocessConstants:
    """The pre-processing constants of one model: the manifest's `constants.preprocessing` (or
    a preset's `Preprocessing`), read once and typed, instead of a dict passed down the layers."""

    clip_mean: tuple[float, float, float]
    clip_std: tuple[float, float, float]
    sam_mean: tuple[float, float, float]
    sam_std: tuple[float, float, float]
    pad_multiple: int  # <= 1: no padding
    sam_size: int
    resize_short: int  # the default resize rule: shortest edge ...
    resize_max: int  # ... and longest edge at most

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PreprocessConstants:
        """From the manifest's `constants.preprocessing` (or `vars(preset.preprocessing)`)."""
        def rgb(key: str) -> tuple[float, float, float]:
            r, g, b = record[key]
            return float(r), float(g), float(b)

        return cls(rgb("clip_mean"), rgb("clip_std"), rgb("sam_mean"), rgb("sam_std"),
                   int(record["pad_multiple"]), int(record["sam_size"]),
                   int(record["resize_short"]), int(record["resize_max"]))

    def resize_rule(self, resize: tuple[int, int] | None | str = "default") -> tuple[int, int] | None:
        """`resize="default"` is the manifest's rule (the official 800 shortest edge, 1333 at
        most); (short, max) and None (keep the size) are kept."""
        if resize == "default":
            return self.resize_short, self.resize_max
        return resize  # type: ignore[return-value]


@dataclass(frozen=True)
class PreparedImage:
    """Model inputs for one image plus the sizes post-processing needs to undo the transforms."""

    clip_input: np.ndarray  # (1, 3, Hp, Wp) float32
    sam_input: np.ndarray  # (1, 3, sam_size, sam_size) float32
    image_size: tuple[int, int]  # (h, w) of the image fed to the model, before padding
    padded_size: tuple[int, int]  # (Hp, Wp)
    output_size: tuple[int, int]  # (H, W) at which results are returned


def validate_image(image: np.ndarray) -> np.ndarray:
    """Check that `image` is an H x W x 3 uint8 RGB array; raise ImageError otherwise."""
    if not isinstance(image, np.ndarray):
        raise ImageError(
            f"expected the image as a numpy array of shape (H, W, 3) and dtype uint8, received "
            f"{type(image).__name__}; convert it with np.asarray(PIL.Image.open(p).convert('RGB'))"
        )
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(
            f"expected an RGB image of shape (H, W, 3), received shape {image.shape}; convert "
            f"grayscale or RGBA images to RGB first (PIL: image.convert('RGB'))"
        )
    if image.dtype != np.uint8:
        raise ImageError(
            f"expected dtype uint8 (values 0..255), received {image.dtype}; for float images in "
            f"0..1 use (np.clip(x, 0, 1) * 255).round().astype(np.uint8)"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageError(f"expected a non-empty image, received shape {image.shape}")
    return image


def resized_shape(h: int, w: int, short_edge: int, max_size: int) -> tuple[int, int]:
    """Output (new_h, new_w) of detectron2 `ResizeShortestEdge.get_output_shape`."""
    size = short_edge * 1.0
    scale = size / min(h, w)
    if h < w:
        newh, neww = size, scale * w
    else:
        newh, neww = scale * h, size
    if max(newh, neww) > max_size:
        scale = max_size * 1.0 / max(newh, neww)
        newh = newh * scale
        neww = neww * scale
    return int(newh + 0.5), int(neww + 0.5)


def resize_image(image: np.ndarray, short_edge: int, max_size: int) -> np.ndarray:
    """Resize a uint8 RGB image as detectron2's `ResizeTransform` does (PIL bilinear)."""
    image = validate_image(image)
    new_h, new_w = resized_shape(image.shape[0], image.shape[1], short_edge, max_size)
    if min(new_h, new_w) < 1:
        raise ImageError(
            f"a {image.shape[0]}x{image.shape[1]} image becomes {new_h}x{new_w} under the resize "
            f"rule (shortest edge {short_edge}, longest at most {max_size}): its aspect ratio is "
            f"too extreme; crop or pad it, or pass resize=None to segment it at its own size")
    pil = Image.fromarray(image).resize((new_w, new_h), Image.BILINEAR)
    return np.array(pil)  # writable, unlike np.asarray on a PIL image


def normalize(image: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """(x - mean) / std in float32 on 0..255 values, returned as (3, H, W).

    float32 arithmetic matches the official `(uint8 tensor - float32 buffer) / float32 buffer`.
    """
    image = validate_image(image)
    mean_arr = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    std_arr = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    chw = image.transpose(2, 0, 1).astype(np.float32)
    return (chw - mean_arr) / std_arr


def padded_shape(h: int, w: int, multiple: int) -> tuple[int, int]:
    """(H, W) rounded up to a multiple, as `pad_bottom_right` pads."""
    if multiple <= 1:
        return h, w
    return (h + multiple - 1) // multiple * multiple, (w + multiple - 1) // multiple * multiple


def pad_bottom_right(x: np.ndarray, multiple: int) -> np.ndarray:
    """Zero-pad (C, H, W) bottom and right up to a multiple, like `ImageList.from_tensors`."""
    h, w = x.shape[-2:]
    hp, wp = padded_shape(h, w, multiple)
    if (hp, wp) == (h, w):
        return x
    out = np.zeros(x.shape[:-2] + (hp, wp), dtype=x.dtype)
    out[..., :h, :w] = x
    return out


def prepare_image(image: np.ndarray, constants: PreprocessConstants) -> PreparedImage:
    """Build both branch inputs from an (already resized) H x W x 3 uint8 RGB image."""
    image = validate_image(image)
    h, w = image.shape[:2]
    clip = pad_bottom_right(normalize(image, constants.clip_mean, constants.clip_std), constants.pad_multiple)
    sam = pad_bottom_right(normalize(image, constants.sam_mean, constants.sam_std), constants.pad_multiple)
    sam = resize_bilinear(sam, (constants.sam_size, constants.sam_size))
    return PreparedImage(
        clip_input=np.ascontiguousarray(clip[None]),
        sam_input=np.ascontiguousarray(sam[None]),
        image_size=(h, w),
        padded_size=(int(clip.shape[1]), int(clip.shape[2])),
        output_size=(h, w),
    )


def preprocess(
    image: np.ndarray,
    constants: PreprocessConstants,
    resize: tuple[int, int] | None | str = "default",
    output_size: tuple[int, int] | None = None,
) -> PreparedImage:
    """Resize by `constants.resize_rule(resize)` ("default": the manifest's rule; (short_edge,
    max_size); None: keep the size), then `prepare_image`.

    `output_size` defaults to the size of the image given here, before resizing: the official
    evaluation returns results at the original resolution.
    """
    image = validate_image(image)
    original = (int(image.shape[0]), int(image.shape[1]))
    rule = constants.resize_rule(resize)
    if rule is not None:
        short_edge, max_size = rule
        image = resize_image(image, short_edge, max_size)
    prepared = prepare_image(image, constants)
    out_size = original if output_size is None else (int(output_size[0]), int(output_size[1]))
    return replace(prepared, output_size=out_size)


def encoder_input_shape(size: tuple[int, int], constants: PreprocessConstants,
                        resize: tuple[int, int] | None | str = "default") -> tuple[int, int]:
    """(H, W) of the CLIP input an image of `size` becomes (resized, then padded), without
    touching a pixel: what a server checks before spending memory on a request."""
    rule = constants.resize_rule(resize)
    h, w = size if rule is None else resized_shape(size[0], size[1], *rule)
    return padded_shape(h, w, constants.pad_multiple)
