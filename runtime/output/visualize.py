"""Pictures of results: a coloured overlay with a legend of the class names present."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from frozenseg_runtime.output.palette import palette


def overlay(
    image: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    alpha: float = 0.55,
    ignore: int = -1,
) -> Image.Image:
    """Blend a label map (H, W) with indices into `names` over the RGB image, with a legend."""
    colours = palette(len(names))
    valid = labels != ignore
    blended = image.astype(np.float32).copy()
    colour_map = colours[np.clip(labels, 0, len(names) - 1)].astype(np.float32)
    blended[valid] = (1 - alpha) * blended[valid] + alpha * colour_map[valid]
    out = Image.fromarray(blended.astype(np.uint8))
    present, counts = np.unique(labels[valid], return_counts=True)
    order = present[np.argsort(-counts)]
    return _with_legend(out, [(names[i], tuple(int(c) for c in colours[i])) for i in order])


def _with_legend(image: Image.Image, entries: list[tuple[str, tuple[int, ...]]]) -> Image.Image:
    font = ImageFont.load_default()
    row = 16
    width = 200
    canvas = Image.new("RGB", (image.width + width, max(image.height, row * len(entries) + 8)), "white")
    canvas.paste(image, (0, 0))
    draw = ImageDraw.Draw(canvas)
    for i, (name, colour) in enumerate(entries):
        y = 4 + i * row
        draw.rectangle([image.width + 6, y, image.width + 18, y + 12], fill=colour)
        draw.text((image.width + 24, y), name[:28], fill="black", font=font)
    return canvas
