"""Post-processing of FrozenSeg outputs, without torch.

Reproduces the official `FrozenSeg.forward` from the mask upsampling on, with
`semantic_inference`, `panoptic_inference`, `instance_inference` and detectron2's
`sem_seg_postprocess`. Inputs are the model's final `class_probs` (Q, C+1; void last; the official
`mask_cls_probs`) and mask logits (Q, h, w). Everything is float32.

Speed without changing a bit: every routine works on bands of output rows of one query at a time, small enough to
stay in the CPU cache, with reused buffers, instead of whole-stack temporaries. `segmentation_result` never builds
the full-resolution stack: it resizes each query's band from the logits when it needs it (`_ResizedRows`), and only
the queries the task uses (panoptic: the kept ones; instance: the top-k ones). Each element still goes through the
same float32 operations in the same order as `resize_bilinear`, `sigmoid` and the official reductions, and the
semantic matrix product keeps its fixed chunks (BLAS rounds differently for other shapes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.image.ops import _source_taps, resize_bilinear
from frozenseg_runtime.image.preprocess import PreparedImage
from frozenseg_runtime.text.vocabulary import Vocabulary

TASKS = ("semantic", "panoptic", "instance")

__all__ = [
    "TASKS",
    "SegmentationResult",
    "InferenceConstants",
    "segmentation_result",
    "sigmoid",
    "official_class_scores",
    "masks_to_output",
    "semantic_inference",
    "panoptic_inference",
    "instance_inference",
]

# The semantic product's pixel chunks: fixed, because BLAS's rounding depends on the matrix shapes (bytes).
_MATMUL_CHUNK_BYTES = 64 * 1024 * 1024
# Temporaries of one band of rows stay around this size (bytes): within a core's L2 cache.
_BAND_BYTES = 256 * 1024
# Pixels per chunk of the class argmax (the running maximum stays in L1/L2).
_PIXEL_CHUNK = 16 * 1024


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function in float32; large negative inputs give 0 without a warning."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):
        return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))


def _sigmoid_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`sigmoid(x)` written into `out` (which may be `x`): the same float32 operations, no temporaries."""
    with np.errstate(over="ignore"):
        np.negative(x, out=out)
        np.exp(out, out=out)
    np.add(out, np.float32(1.0), out=out)
    np.divide(np.float32(1.0), out, out=out)
    return out


def official_class_scores(class_probs: np.ndarray, log_eps: float) -> np.ndarray:
    """softmax(log(p + log_eps), -1): the scores every official inference routine starts from.

    The official code stores `log(mask_cls_probs + 1e-8)` (the manifest's `log_eps`) and each
    inference applies a softmax; this is the same computation, made stable by subtracting the
    row maximum.
    """
    p = np.asarray(class_probs, dtype=np.float32)
    logits = np.log(p + np.float32(log_eps))
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def _rows_per_chunk(bytes_per_row: int, chunk_bytes: int = _MATMUL_CHUNK_BYTES) -> int:
    """How many rows of `bytes_per_row` fit in one chunk (at least one)."""
    return max(1, chunk_bytes // max(1, bytes_per_row))


def _bands(height: int, width: int) -> list[tuple[int, int]]:
    """Row ranges [a, b) covering `height` rows of `width` float32, about `_BAND_BYTES` each."""
    step = _rows_per_chunk(4 * width, _BAND_BYTES)
    return [(a, min(height, a + step)) for a in range(0, height, step)]


class _Scratch:
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


class _Rows(Protocol):
    """A (Q, H, W) float32 mask stack at the output size, read one query's rows at a time."""

    shape: tuple[int, int, int]

    def rows(self, q: int, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray: ...


class _StackRows:
    """A mask stack already at the output size."""

    def __init__(self, masks: np.ndarray) -> None:
        self.masks = masks
        self.shape = masks.shape

    def rows(self, q: int, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return self.masks[q, a:b]
        np.copyto(out, self.masks[q, a:b])
        return out


class _ResizedRows:
    """`masks_to_output`'s stack, computed band by band from the logits without building the padded stack."""

    def __init__(self, masks: np.ndarray, padded_size: tuple[int, int], image_size: tuple[int, int],
                 output_size: tuple[int, int]) -> None:
        out_h, out_w = _check_size(output_size)
        self.masks = masks
        self.shape = (masks.shape[0], out_h, out_w)
        self.plan_h = _AxisPlan.build(masks.shape[1], padded_size[0], image_size[0], out_h)
        self.plan_w = _AxisPlan.build(masks.shape[2], padded_size[1], image_size[1], out_w)
        self._bands: dict[tuple[int, int], _Band] = {}
        self._scratch = _Scratch()

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
    source = _ResizedRows(masks, padded_size, image_size, output_size)
    out = np.empty(source.shape, dtype=np.float32)
    bands = _bands(source.shape[1], max(source.shape[2], padded_size[1]))
    for q in range(masks.shape[0]):
        for a, b in bands:
            source.rows(q, a, b, out=out[q, a:b])
    return out


def _check_inputs(class_probs: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cast to float32 and check that the query counts agree."""
    class_probs = np.asarray(class_probs, dtype=np.float32)
    masks = np.asarray(masks, dtype=np.float32)
    if class_probs.ndim != 2 or masks.ndim != 3 or class_probs.shape[0] != masks.shape[0]:
        raise ValueError(
            f"expected class_probs (Q, C+1) and masks (Q, H, W) with the same Q, got "
            f"{class_probs.shape} and {masks.shape}"
        )
    return class_probs, masks


def _check_isthing(isthing: Sequence[bool], num_classes: int) -> np.ndarray:
    """One flag per class (void excluded)."""
    flags = np.asarray(list(isthing), dtype=bool)
    if flags.shape != (num_classes,):
        raise ValueError(f"expected {num_classes} isthing flags, got {flags.shape[0]}")
    return flags


# ----------------------------------------------------------------------------------------------- semantic
def semantic_inference(class_probs: np.ndarray, masks: np.ndarray, log_eps: float) -> np.ndarray:
    """einsum("qc,qhw->chw", scores[:, :-1], sigmoid(masks)) -> (C, H, W) float32."""
    class_probs, masks = _check_inputs(class_probs, masks)
    return _semantic_scores(class_probs, _StackRows(masks), log_eps)


def _semantic_scores(class_probs: np.ndarray, source: _Rows, log_eps: float) -> np.ndarray:
    """The semantic product over pixel chunks of `_MATMUL_CHUNK_BYTES` (the chunks, hence BLAS's shapes, of the
    original code), each chunk's sigmoids gathered query by query into one reused buffer."""
    scores_t = official_class_scores(class_probs, log_eps)[:, :-1].T.copy()  # (C, Q)
    q, h, w = source.shape
    out = np.empty((scores_t.shape[0], h * w), dtype=np.float32)
    step = _rows_per_chunk(4 * q)
    flat_buffer = np.empty(q * min(step, h * w), dtype=np.float32)
    for start in range(0, h * w, step):
        stop = min(h * w, start + step)
        sig = flat_buffer[: q * (stop - start)].reshape(q, stop - start)
        _gather_pixels(source, start, stop, sig)
        np.matmul(scores_t, _sigmoid_into(sig, sig), out=out[:, start:stop])
    return out.reshape(-1, h, w)


def _gather_pixels(source: _Rows, start: int, stop: int, out: np.ndarray) -> None:
    """out[k] = source's query k, flattened, pixels [start, stop)."""
    if isinstance(source, _StackRows):
        np.copyto(out, source.masks.reshape(source.shape[0], -1)[:, start:stop])
        return
    w = source.shape[2]
    row_a, row_b = start // w, -(-stop // w)
    for a, b in _bands(row_b - row_a, max(w, source.plan_w.needed.shape[0])):
        a, b = a + row_a, b + row_a
        lo, hi = max(start, a * w), min(stop, b * w)
        for k in range(source.shape[0]):
            band = source.rows(k, a, b).reshape(-1)
            out[k, lo - start : hi - start] = band[lo - a * w : hi - a * w]


def _argmax_classes(scores: np.ndarray) -> np.ndarray:
    """`scores.argmax(0)` for (C, H, W) as int32: a running maximum over classes on pixel chunks (first class on
    ties; chunks holding NaN use numpy's argmax, which picks the first NaN)."""
    c, h, w = scores.shape
    flat = scores.reshape(c, h * w)
    labels = np.empty(h * w, dtype=np.int32)
    best = np.empty(min(_PIXEL_CHUNK, h * w), dtype=np.float32)
    wins = np.empty(best.shape, dtype=bool)
    for start in range(0, h * w, _PIXEL_CHUNK):
        chunk, stop = flat[:, start : start + _PIXEL_CHUNK], min(h * w, start + _PIXEL_CHUNK)
        if np.isnan(chunk).any():
            labels[start:stop] = chunk.argmax(0)
            continue
        n = stop - start
        top, won, ids = best[:n], wins[:n], labels[start:stop]
        np.copyto(top, chunk[0])
        ids.fill(0)
        for k in range(1, c):
            np.greater(chunk[k], top, out=won)
            np.copyto(ids, k, where=won)
            np.maximum(top, chunk[k], out=top)
    return labels.reshape(h, w)


# ----------------------------------------------------------------------------------------------- panoptic
def _owner_map(
    scores: np.ndarray, source: _Rows, kept: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the kept queries: pixel owner, owner's mask >= 0.5, and per-query mask areas.

    owner = argmax_k(score_k * sigmoid(mask_k)) (first index on ties, and on NaN, like np.argmax and
    torch.argmax); original areas = count(sigmoid(mask_k) >= 0.5). A running maximum over the kept queries, one
    band of rows at a time, so that neither the kept stack nor its products are ever built.
    """
    _, h, w = source.shape
    owner = np.zeros((h, w), dtype=np.int64)
    owner_fg = np.empty((h, w), dtype=bool)
    best = np.empty((h, w), dtype=np.float32)
    original_area = np.zeros(kept.shape[0], dtype=np.int64)
    scratch = _Scratch()
    bands = _bands(h, w)
    for i, q in enumerate(kept):
        for a, b in bands:
            sig = _sigmoid_into(source.rows(int(q), a, b), scratch.get("sig", (b - a, w)))
            fg = np.greater_equal(sig, np.float32(0.5), out=scratch.get("fg", (b - a, w), bool))
            original_area[i] += np.count_nonzero(fg)
            prob = np.multiply(sig, scores[i], out=scratch.get("prob", (b - a, w)))
            if i == 0:
                best[a:b], owner_fg[a:b] = prob, fg
                continue
            won = _wins(prob, best[a:b], scratch.get("won", (b - a, w), bool))
            np.copyto(owner[a:b], i, where=won)
            np.copyto(owner_fg[a:b], fg, where=won)
            np.copyto(best[a:b], prob, where=won)
    return owner, owner_fg, original_area


def _wins(prob: np.ndarray, best: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Where a later query takes the pixel under np.argmax: larger, or the first NaN."""
    np.greater(prob, best, out=out)
    if np.isnan(prob).any():
        out |= np.isnan(prob) & ~np.isnan(best)
    return out


def _assign_segments(
    classes: np.ndarray,
    scores: np.ndarray,
    stats: tuple[np.ndarray, np.ndarray, np.ndarray],
    isthing: np.ndarray,
    overlap_threshold: float,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The official per-query loop; returns the segment id of each kept query and the infos."""
    mask_area, original_area, visible_area = stats
    seg_of_query = np.zeros(classes.shape[0], dtype=np.int32)
    segments: list[dict[str, Any]] = []
    stuff_memory: dict[int, int] = {}
    current = 0
    for k in range(classes.shape[0]):
        pred_class = int(classes[k])
        thing = bool(isthing[pred_class])
        if not (mask_area[k] > 0 and original_area[k] > 0 and visible_area[k] > 0):
            continue
        if int(mask_area[k]) / int(original_area[k]) < overlap_threshold:
            continue
        if not thing:
            if pred_class in stuff_memory:
                seg_of_query[k] = stuff_memory[pred_class]
                continue
            stuff_memory[pred_class] = current + 1
        current += 1
        seg_of_query[k] = current
        segments.append(
            {"id": current, "isthing": thing, "category_id": pred_class, "score": float(scores[k])}
        )
    return seg_of_query, segments


def panoptic_inference(
    class_probs: np.ndarray,
    masks: np.ndarray,
    isthing: Sequence[bool],
    object_mask_threshold: float,
    overlap_threshold: float,
    log_eps: float,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Official panoptic merge -> (panoptic_seg int32 (H, W), segments_info).

    Each segment is {"id", "category_id", "isthing", "score"}; ids count from 1, 0 is unlabelled.
    `score` (the query's class score) is an addition; the other keys are the official ones.
    """
    class_probs, masks = _check_inputs(class_probs, masks)
    return _panoptic(class_probs, _StackRows(masks), isthing, object_mask_threshold, overlap_threshold, log_eps)


def _panoptic(class_probs: np.ndarray, source: _Rows, isthing: Sequence[bool], object_mask_threshold: float,
              overlap_threshold: float, log_eps: float) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """`panoptic_inference` on any mask source (only the kept queries' rows are read)."""
    num_classes = class_probs.shape[1] - 1
    flags = _check_isthing(isthing, num_classes)
    probs = official_class_scores(class_probs, log_eps)
    labels = np.argmax(probs, axis=-1)
    scores = probs[np.arange(probs.shape[0]), labels]
    keep = (labels != num_classes) & (scores > np.float32(object_mask_threshold))
    h, w = source.shape[1:]
    if not keep.any():
        return np.zeros((h, w), dtype=np.int32), []
    cur_scores, cur_classes = scores[keep], labels[keep]
    owner, owner_fg, original_area = _owner_map(cur_scores, source, np.flatnonzero(keep))
    n = cur_classes.shape[0]
    mask_area = np.bincount(owner.ravel(), minlength=n)
    visible_area = np.bincount(owner[owner_fg], minlength=n)
    stats = (mask_area, original_area, visible_area)
    seg_of_query, segments = _assign_segments(
        cur_classes, cur_scores, stats, flags, overlap_threshold
    )
    # Masks of different queries are disjoint (one owner per pixel), so a lookup is equivalent
    # to the official sequence of `panoptic_seg[mask] = id` assignments.
    panoptic_seg = np.where(owner_fg, seg_of_query[owner], 0).astype(np.int32)
    return panoptic_seg, segments


# ----------------------------------------------------------------------------------------------- instance
def _topk_desc(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, by value descending then index ascending."""
    order = np.argsort(-values, kind="stable")
    return order[:k]


def _instance_masks(source: _Rows, queries: np.ndarray, score_eps: float) -> tuple[np.ndarray, np.ndarray]:
    """masks[queries] > 0 and, per query, sum(sigmoid * (logit > 0)) / (count(logit > 0) + score_eps) in float32.

    Each distinct query is read once at full size; its sums are the original (1, H*W) float32 row reductions, so
    numpy's pairwise summation groups the terms exactly as before.
    """
    _, h, w = source.shape
    unique_q, inverse = np.unique(queries, return_inverse=True)
    out = np.empty((queries.shape[0], h, w), dtype=bool)
    mask_scores = np.empty(unique_q.shape[0], dtype=np.float32)
    full = np.empty((h, w), dtype=np.float32) if not isinstance(source, _StackRows) else None
    fg = np.empty((1, h * w), dtype=np.float32)
    sig = np.empty((1, h * w), dtype=np.float32)
    for j, q in enumerate(unique_q):
        logits = _full_mask(source, int(q), full)
        uses = np.flatnonzero(inverse == j)
        np.greater(logits, np.float32(0.0), out=out[uses[0]])
        out[uses[1:]] = out[uses[0]]
        np.copyto(fg.reshape(h, w), out[uses[0]])
        num = np.multiply(_sigmoid_into(logits.reshape(1, -1), sig), fg, out=sig).sum(axis=1, dtype=np.float32)
        mask_scores[j : j + 1] = num / (fg.sum(axis=1) + np.float32(score_eps))
    return out, mask_scores[inverse]


def _full_mask(source: _Rows, q: int, buffer: np.ndarray | None) -> np.ndarray:
    """Query q's whole (H, W) mask: a view of a stack, or the resized bands written into `buffer`."""
    if buffer is None:
        return source.rows(q, 0, source.shape[1])
    for a, b in _bands(*buffer.shape):
        source.rows(q, a, b, out=buffer[a:b])
    return buffer


def instance_inference(
    class_probs: np.ndarray,
    masks: np.ndarray,
    isthing: Sequence[bool],
    topk: int,
    things_only: bool,
    log_eps: float,
    score_eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Official instance inference -> (masks bool (K, H, W), scores (K,), classes (K,)).

    Top-k over all (query, class) scores; the official `topk(sorted=False)` order is undefined,
    here results come by class score descending, ties by (query, class) index. With
    `things_only` (the official panoptic-on mode) stuff classes are dropped after the top-k.
    """
    class_probs, masks = _check_inputs(class_probs, masks)
    return _instance(class_probs, _StackRows(masks), isthing, topk, things_only, log_eps, score_eps)


def _instance(class_probs: np.ndarray, source: _Rows, isthing: Sequence[bool], topk: int, things_only: bool,
              log_eps: float, score_eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`instance_inference` on any mask source (only the selected queries' rows are read)."""
    num_classes = class_probs.shape[1] - 1
    flags = _check_isthing(isthing, num_classes)
    scores = official_class_scores(class_probs, log_eps)[:, :-1]
    k = min(int(topk), scores.size)
    idx = _topk_desc(scores.ravel(), k)
    top_scores = scores.ravel()[idx]
    queries, classes = idx // num_classes, idx % num_classes
    if things_only:
        sel = flags[classes]
        top_scores, queries, classes = top_scores[sel], queries[sel], classes[sel]
    masks, mask_scores = _instance_masks(source, queries, score_eps)
    return masks, (top_scores * mask_scores).astype(np.float32), classes.astype(np.int64)


@dataclass(frozen=True)
class InferenceConstants:
    """The official inference settings, as the manifest (or the reference's preset) holds them."""

    object_mask_threshold: float
    overlap_threshold: float
    instance_topk: int
    log_eps: float
    instance_score_eps: float

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "InferenceConstants":
        return cls(float(record["object_mask_threshold"]), float(record["overlap_threshold"]),
                   int(record["instance_topk"]), float(record["log_eps"]),
                   float(record["instance_score_eps"]))


@dataclass
class SegmentationResult:
    """Results at the image's own size. Class indices refer to `class_names`."""

    task: str
    class_names: tuple[str, ...]
    isthing: tuple[bool, ...]
    image_size: tuple[int, int]
    semantic_labels: np.ndarray | None = None  # (H, W) int32
    semantic_scores: np.ndarray | None = None  # (K, H, W) float32 (semantic task only)
    panoptic_seg: np.ndarray | None = None  # (H, W) int32, 0 = no segment
    segments_info: list[dict[str, Any]] = field(default_factory=list)
    instance_masks: np.ndarray | None = None  # (N, H, W) bool
    instance_scores: np.ndarray | None = None  # (N,) float32
    instance_classes: np.ndarray | None = None  # (N,) int64
    timings: dict[str, float] = field(default_factory=dict)


def segmentation_result(raw: Mapping[str, np.ndarray], prepared: PreparedImage,
                        vocabulary: Vocabulary, task: str,
                        constants: InferenceConstants) -> SegmentationResult:
    """The official post-processing of one task, on the decoder's raw outputs (batch dropped),
    at the output size."""
    if task not in TASKS:
        raise UsageError(f"task must be one of {TASKS}, got {task!r}")
    probs, logits = _check_inputs(raw["class_probs"], raw["pred_masks"])
    # The same results as masks_to_output followed by the task's function, without the full-size stack.
    masks = _ResizedRows(logits, prepared.padded_size, prepared.image_size, prepared.output_size)
    result = SegmentationResult(task=task, class_names=vocabulary.display_names,
                                isthing=vocabulary.isthing, image_size=prepared.output_size)
    if task == "semantic":
        scores = _semantic_scores(probs, masks, constants.log_eps)
        result.semantic_scores = scores
        result.semantic_labels = _argmax_classes(scores)
    elif task == "panoptic":
        result.panoptic_seg, result.segments_info = _panoptic(
            probs, masks, vocabulary.isthing, constants.object_mask_threshold,
            constants.overlap_threshold, constants.log_eps)
    else:
        result.instance_masks, result.instance_scores, result.instance_classes = (
            _instance(probs, masks, vocabulary.isthing, constants.instance_topk,
                      things_only=True, log_eps=constants.log_eps,
                      score_eps=constants.instance_score_eps))
    return result
