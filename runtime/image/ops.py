"""Array resizing that matches PyTorch bit for bit (or within float32 rounding).

The model's masks are resized with `F.interpolate(mode="bilinear", align_corners=False)` in the
official code; the runtime must give the same numbers without torch. The resize is done
separably (width, then height: the order of PyTorch's CPU kernel) with 2-tap gathers, in chunks
over the leading dimension so that large mask stacks need little memory beyond the output.
"""

from __future__ import annotations

import numpy as np

__all__ = ["resize_bilinear"]

# Temporaries per chunk stay around this size (bytes); the output itself is allocated once.
_CHUNK_BYTES = 64 * 1024 * 1024


def _source_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output index: first tap, second tap and the weight of the second tap.

    As PyTorch's `area_pixel_compute_source_index` (align_corners=False): src = scale * (dst + 0.5)
    - 0.5 clamped at 0, scale = in / out in float32; lambda = src - floor(src) in float32.
    """
    scale = np.float32(in_size) / np.float32(out_size)
    # PyTorch's kernel evaluates scale * (dst + 0.5) - 0.5 as one fused multiply-add (a single
    # float32 rounding); float64 arithmetic then one cast to float32 gives the same taps, whereas
    # two float32 roundings move the weights by up to one ulp of src (1e-4 at src ~ 1000).
    dst = np.arange(out_size, dtype=np.float64)
    src = (np.float64(scale) * (dst + 0.5) - 0.5).astype(np.float32)
    src = np.maximum(src, np.float32(0.0))
    i0 = np.floor(src).astype(np.int64)
    i0 = np.minimum(i0, in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam1 = (src - i0.astype(np.float32)).astype(np.float32)
    return i0, i1, lam1


def _lerp_last_axis(x: np.ndarray, out_size: int) -> np.ndarray:
    """Resize the last axis of a (N, A, W) float32 array."""
    i0, i1, lam1 = _source_taps(x.shape[-1], out_size)
    lam0 = np.float32(1.0) - lam1
    out = x[..., i0] * lam0
    out += x[..., i1] * lam1
    return out


def _lerp_middle_axis(x: np.ndarray, out_size: int, out: np.ndarray) -> None:
    """Resize axis 1 of a (N, H, B) float32 array into `out` (N, out_size, B)."""
    i0, i1, lam1 = _source_taps(x.shape[1], out_size)
    lam0 = np.float32(1.0) - lam1
    np.multiply(x[:, i0, :], lam0[None, :, None], out=out)
    out += x[:, i1, :] * lam1[None, :, None]


def _resize_chunk(x: np.ndarray, size: tuple[int, int], out: np.ndarray) -> None:
    """Resize a (N, H, W) chunk into `out` (N, out_h, out_w), skipping axes that keep their size."""
    out_h, out_w = size
    if x.shape[2] != out_w:
        x = _lerp_last_axis(x, out_w)
    if x.shape[1] != out_h:
        _lerp_middle_axis(x, out_h, out)
    else:
        out[...] = x


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    """Validate the requested output size, which must be two positive integers."""
    if len(size) != 2:
        raise ValueError(f"size must be (height, width), got {size!r}")
    out_h, out_w = (int(s) for s in size)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return out_h, out_w


def resize_bilinear(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of the last two axes, as `F.interpolate(..., align_corners=False)`.

    `x` is shaped (..., H, W); the result is float32 shaped (..., size[0], size[1]). No
    antialiasing (PyTorch's default). Same size in and out returns a float32 copy of the input.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError(f"expected an array shaped (..., H, W), got shape {x.shape}")
    out_h, out_w = _check_size(size)
    lead = x.shape[:-2]
    in_h, in_w = x.shape[-2:]
    flat = x.reshape((-1, in_h, in_w))
    out = np.empty((flat.shape[0], out_h, out_w), dtype=np.float32)
    per_item = 4 * (in_h * out_w + 3 * out_h * out_w)
    step = max(1, _CHUNK_BYTES // max(per_item, 1))
    for start in range(0, flat.shape[0], step):
        stop = start + step
        _resize_chunk(flat[start:stop], (out_h, out_w), out[start:stop])
    return out.reshape(lead + (out_h, out_w))
