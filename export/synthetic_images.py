"""Deterministic structured test images (gradients, XOR texture, discs, noise) of several sizes.

Used where a test or a measurement needs images and no photos are given: export verification,
and the held-out set of precision accuracy measurement.
"""

from __future__ import annotations

import numpy as np


def structured_images(count: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Deterministic structured test images of different sizes and aspect ratios."""
    rng = np.random.default_rng(seed)
    sizes = [(240, 320), (360, 270), (200, 410), (300, 300)]
    images = []
    for i in range(count):
        h, w = sizes[i % len(sizes)]
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx ^ yy) & 255)], -1).astype(np.float32)
        for _ in range(6):
            cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(15, 80)
            img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(0, 256, 3)
        images.append(np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8))
    return images


def edge_images() -> list[np.ndarray]:
    """Images that drive a decoder to its edge cases: a flat frame of CLIP's mean colour (every
    query's mask almost uniform, so many come out empty) and a black frame."""
    grey = np.empty((240, 320, 3), np.uint8)
    grey[:] = (123, 117, 104)
    return [grey, np.zeros((200, 260, 3), np.uint8)]
