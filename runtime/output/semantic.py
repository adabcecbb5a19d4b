"""The semantic task: per-class scores of every pixel and their argmax (C++: output/semantic.cpp)."""

from __future__ import annotations

import numpy as np

from frozenseg_runtime.output.checks import check_inputs
from frozenseg_runtime.output.class_scores import official_class_scores, sigmoid_into
from frozenseg_runtime.output.mask_resize import MaskRows, StackRows, row_bands, rows_per_chunk

# The semantic product's pixel chunks: fixed, because BLAS's rounding depends on the matrix shapes (bytes).
_MATMUL_CHUNK_BYTES = 64 * 1024 * 1024
# Pixels per chunk of the class argmax (the running maximum stays in L1/L2).
_PIXEL_CHUNK = 16 * 1024


def semantic_inference(class_probs: np.ndarray, masks: np.ndarray, log_eps: float) -> np.ndarray:
    """einsum("qc,qhw->chw", scores[:, :-1], sigmoid(masks)) -> (C, H, W) float32."""
    class_probs, masks = check_inputs(class_probs, masks)
    return semantic_scores(class_probs, StackRows(masks), log_eps)


def semantic_scores(class_probs: np.ndarray, source: MaskRows, log_eps: float) -> np.ndarray:
    """The semantic product over pixel chunks of `_MATMUL_CHUNK_BYTES` (the chunks, hence BLAS's shapes, of the
    original code), each chunk's sigmoids gathered query by query into one reused buffer."""
    scores_t = official_class_scores(class_probs, log_eps)[:, :-1].T.copy()  # (C, Q)
    q, h, w = source.shape
    out = np.empty((scores_t.shape[0], h * w), dtype=np.float32)
    step = rows_per_chunk(4 * q, _MATMUL_CHUNK_BYTES)
    flat_buffer = np.empty(q * min(step, h * w), dtype=np.float32)
    for start in range(0, h * w, step):
        stop = min(h * w, start + step)
        sig = flat_buffer[: q * (stop - start)].reshape(q, stop - start)
        _gather_pixels(source, start, stop, sig)
        np.matmul(scores_t, sigmoid_into(sig, sig), out=out[:, start:stop])
    return out.reshape(-1, h, w)


def _gather_pixels(source: MaskRows, start: int, stop: int, out: np.ndarray) -> None:
    """out[k] = source's query k, flattened, pixels [start, stop)."""
    if isinstance(source, StackRows):
        np.copyto(out, source.masks.reshape(source.shape[0], -1)[:, start:stop])
        return
    w = source.shape[2]
    row_a, row_b = start // w, -(-stop // w)
    for a, b in row_bands(row_b - row_a, max(w, source.plan_w.needed.shape[0])):
        a, b = a + row_a, b + row_a
        lo, hi = max(start, a * w), min(stop, b * w)
        for k in range(source.shape[0]):
            band = source.rows(k, a, b).reshape(-1)
            out[k, lo - start : hi - start] = band[lo - a * w : hi - a * w]


def argmax_classes(scores: np.ndarray) -> np.ndarray:
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
