"""Mask logits to the output size, as the official path resamples them (C++:
output/mask_resize.cpp and masks_to_output.cpp).

Resize to the padded input, crop the padding, resize to the output size: bit for bit
`resize_bilinear` twice, but one band of output rows of one query at a time, small enough to stay
in the CPU cache, with reused buffers, computing only the rows and columns the output reads. The
tasks read masks as row sources (`MaskRows`): `ResizedRows` resizes a query's band from the
logits when a task needs it, `StackRows` reads masks already at the output size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from frozenseg_runtime.image.ops import _source_taps

# Temporaries of one band of rows stay around this size (bytes): within a core's L2 cache.
BAND_BYTES = 256 * 1024


def rows_per_chunk(bytes_per_row: int, chunk_bytes: int) -> int:
    """How many rows of `bytes_per_row` fit in one chunk (at least one)."""
    return max(1, chunk_bytes // max(1, bytes_per_row))


def row_bands(height: int, width: int) -> list[tuple[int, int]]:
    """Row ranges [a, b) covering `height` rows of `width` float32, about `BAND_BYTES` each."""
    step = rows_per_chunk(4 * width, BAND_BYTES)
    return [(a, min(height, a + step)) for a in range(0, height, step)]


class Scratch:
    """Reusable float32 / bool buffers by name, so that band loops allocate (and page-fault) nothing."""

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
        """A C-contiguous array of `shape`; its contents are whatever the last user left."""
        size = math.prod(shape)
        flat = self._flat.get(name)
        if flat is None or flat.size < size or flat.dtype != dtype:
            flat = self._flat[name] = np.empty(max(size, 1), dtype=dtype)
        return flat[:size].reshape(shape)


@dataclass(frozen=True)
class _Taps:
    """Two-tap interpolation along one axis, out[d] = x[i0[d]] * w0[d] + x[i1[d]] * w1[d] in float32, with the
    taps and weights of `resize_bilinear` (so the roundings are the same)."""

    i0: np.ndarray
    i1: np.ndarray
    w0: np.ndarray
    w1: np.ndarray

    @classmethod
    def resize(cls, in_size: int, out_size: int) -> _Taps:
        i0, i1, lam1 = _source_taps(in_size, out_size)
        return cls(i0, i1, np.float32(1.0) - lam1, lam1)

    def select(self, index: np.ndarray | slice) -> _Taps:
        """The taps of some output indices."""
        return _Taps(self.i0[index], self.i1[index], self.w0[index], self.w1[index])

    def relative(self, index: np.ndarray, base: int = 0) -> _Taps:
        """The same interpolation reading x[index[i] - base] where it read x[i] (index ascending, holds the taps)."""
        i0, i1 = np.searchsorted(index, self.i0), np.searchsorted(index, self.i1)
        return _Taps(i0 - base, i1 - base, self.w0, self.w1)

    def shifted(self, base: int) -> _Taps:
        return _Taps(self.i0 - base, self.i1 - base, self.w0, self.w1)

    def span(self) -> tuple[int, int]:
        """The input range [lo, hi) the taps read."""
        return int(self.i0.min()), int(self.i1.max()) + 1


def _lerp(x: np.ndarray, taps: _Taps, axis: int, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """`out` = x[i0] * w0 + x[i1] * w1 along axis 0 or 1 of a 2-D array: `resize_bilinear`'s operations."""
    w0, w1 = (taps.w0[:, None], taps.w1[:, None]) if axis == 0 else (taps.w0, taps.w1)
    np.take(x, taps.i0, axis=axis, out=out, mode="clip")
    np.multiply(out, w0, out=out)
    np.take(x, taps.i1, axis=axis, out=tmp, mode="clip")
    np.multiply(tmp, w1, out=tmp)
    np.add(out, tmp, out=out)
    return out


@dataclass(frozen=True)
class _AxisPlan:
    """One axis from the logits to the output: resize to the padded size, crop to the image, resize to the output.

    Only the padded indices the second resize reads (`needed`, ascending) are computed. `first` gives them from
    the logits (None: the logits are already at the padded size, read `needed` directly); `second` reads them by
    position in `needed` (None: the image is at the output size, `needed` is the output).
    """

    first: _Taps | None
    needed: np.ndarray
    second: _Taps | None

    @classmethod
    def build(cls, mask: int, padded: int, image: int, output: int) -> _AxisPlan:
        image = min(image, padded)  # a crop cannot make the array larger
        if image != output:
            to_output = _Taps.resize(image, output)
            needed = np.unique(np.concatenate([to_output.i0, to_output.i1]))
            second: _Taps | None = to_output.relative(needed)
        else:
            needed, second = np.arange(image), None
        first = _Taps.resize(mask, padded).select(needed) if mask != padded else None
        return cls(first, needed, second)


@dataclass(frozen=True)
class _Band:
    """What output rows [a, b) of one query need: logit rows [lo, hi), then the two row interpolations."""

    lo: int
    hi: int
    first: _Taps | np.ndarray  # padded rows from the logit rows (taps, or row indices when not resized)
    second: _Taps | None  # output rows from those padded rows (None: they are the output rows)


class MaskRows(Protocol):
    """A (Q, H, W) float32 mask stack at the output size, read one query's rows at a time."""

    shape: tuple[int, int, int]

    def rows(self, q: int, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray: ...


class StackRows:
    """A mask stack already at the output size."""

    def __init__(self, masks: np.ndarray) -> None:
        self.masks = masks
        self.shape = masks.shape

    def rows(self, q: int, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return self.masks[q, a:b]
        np.copyto(out, self.masks[q, a:b])
        return out


class ResizedRows:
    """`masks_to_output`'s stack, computed band by band from the logits without building the padded stack."""

    def __init__(self, masks: np.ndarray, padded_size: tuple[int, int], image_size: tuple[int, int],
                 output_size: tuple[int, int]) -> None:
        out_h, out_w = _check_size(output_size)
        self.masks = masks
        self.shape = (masks.shape[0], out_h, out_w)
        self.plan_h = _AxisPlan.build(masks.shape[1], padded_size[0], image_size[0], out_h)
        self.plan_w = _AxisPlan.build(masks.shape[2], padded_size[1], image_size[1], out_w)
        self._bands: dict[tuple[int, int], _Band] = {}
        self._scratch = Scratch()

    def _band(self, a: int, b: int) -> _Band:
        """The row interpolations of output rows [a, b), computed once per band."""
        band = self._bands.get((a, b))
        if band is not None:
            return band
        plan = self.plan_h
        if plan.second is not None:
            to_output = plan.second.select(slice(a, b))
            lo2, hi2 = to_output.span()
            second: _Taps | None = to_output.shifted(lo2)
        else:
            lo2, hi2, second = a, b, None
        if plan.first is not None:
            to_padded = plan.first.select(slice(lo2, hi2))
            lo, hi = to_padded.span()
            first: _Taps | np.ndarray = to_padded.shifted(lo)
        else:
            rows = plan.needed[lo2:hi2]
            lo, hi = int(rows[0]), int(rows[-1]) + 1
            first = rows - lo
        band = self._bands[(a, b)] = _Band(lo, hi, first, second)
        return band

    def rows(self, q: int, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
        """Output rows [a, b) of query q: width, height to the padded size; width, height to the output."""
        band, plan_w, s = self._band(a, b), self.plan_w, self._scratch
        x = self.masks[q, band.lo : band.hi]
        n_w = plan_w.needed.shape[0]
        if plan_w.first is not None:
            x = _lerp(x, plan_w.first, 1, s.get("w1", (x.shape[0], n_w)), s.get("w1t", (x.shape[0], n_w)))
        elif plan_w.needed[-1] + 1 == n_w:  # a crop: the first n_w columns
            x = x[:, :n_w]
        else:
            x = np.take(x, plan_w.needed, axis=1, out=s.get("w1", (x.shape[0], n_w)), mode="clip")
        if isinstance(band.first, _Taps):
            r = band.first.i0.shape[0]
            x = _lerp(x, band.first, 0, s.get("h1", (r, n_w)), s.get("h1t", (r, n_w)))
        elif band.first.shape[0] != x.shape[0]:
            x = np.take(x, band.first, axis=0, out=s.get("h1", (band.first.shape[0], n_w)), mode="clip")
        if plan_w.second is not None:
            shape = (x.shape[0], self.shape[2])
            x = _lerp(x, plan_w.second, 1, s.get("w2", shape), s.get("w2t", shape))
        if band.second is not None:
            shape = (b - a, self.shape[2])
            return _lerp(x, band.second, 0, s.get("h2", shape) if out is None else out, s.get("h2t", shape))
        if out is None:
            return x
        np.copyto(out, x)
        return out


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    """The output size as two positive integers (as `resize_bilinear` requires)."""
    if len(size) != 2:
        raise ValueError(f"size must be (height, width), got {size!r}")
    out_h, out_w = (int(v) for v in size)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return out_h, out_w


def masks_to_output(
    mask_logits: np.ndarray,
    padded_size: tuple[int, int],
    image_size: tuple[int, int],
    output_size: tuple[int, int],
) -> np.ndarray:
    """Mask logits (Q, h, w) -> (Q, H, W) at the output size, as the official path does.

    Resize to the padded input size, crop the padding away, resize to the output size: bit for bit
    `sem_seg_postprocess(resize_bilinear(masks, padded_size), image_size, output_size)`, but one band of output
    rows of one query at a time, computing only the padded rows and columns the output reads.
    """
    masks = np.asarray(mask_logits, dtype=np.float32)
    source = ResizedRows(masks, padded_size, image_size, output_size)
    out = np.empty(source.shape, dtype=np.float32)
    bands = row_bands(source.shape[1], max(source.shape[2], padded_size[1]))
    for q in range(masks.shape[0]):
        for a, b in bands:
            source.rows(q, a, b, out=out[q, a:b])
    return out
