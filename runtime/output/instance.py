"""The instance task: the top-k (query, class) pairs of thing classes, their masks and scores
(C++: output/instance.cpp)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from frozenseg_runtime.output.checks import check_inputs, check_isthing
from frozenseg_runtime.output.class_scores import official_class_scores, sigmoid_into
from frozenseg_runtime.output.mask_resize import MaskRows, StackRows, row_bands


def _topk_desc(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, by value descending then index ascending."""
    order = np.argsort(-values, kind="stable")
    return order[:k]


def _instance_masks(source: MaskRows, queries: np.ndarray, score_eps: float) -> tuple[np.ndarray, np.ndarray]:
    """masks[queries] > 0 and, per query, sum(sigmoid * (logit > 0)) / (count(logit > 0) + score_eps) in float32.

    Each distinct query is read once at full size; its sums are the original (1, H*W) float32 row reductions, so
    numpy's pairwise summation groups the terms exactly as before.
    """
    _, h, w = source.shape
    unique_q, inverse = np.unique(queries, return_inverse=True)
    out = np.empty((queries.shape[0], h, w), dtype=bool)
    mask_scores = np.empty(unique_q.shape[0], dtype=np.float32)
    full = np.empty((h, w), dtype=np.float32) if not isinstance(source, StackRows) else None
    fg = np.empty((1, h * w), dtype=np.float32)
    sig = np.empty((1, h * w), dtype=np.float32)
    for j, q in enumerate(unique_q):
        logits = _full_mask(source, int(q), full)
        uses = np.flatnonzero(inverse == j)
        np.greater(logits, np.float32(0.0), out=out[uses[0]])
        out[uses[1:]] = out[uses[0]]
        np.copyto(fg.reshape(h, w), out[uses[0]])
        num = np.multiply(sigmoid_into(logits.reshape(1, -1), sig), fg, out=sig).sum(axis=1, dtype=np.float32)
        mask_scores[j : j + 1] = num / (fg.sum(axis=1) + np.float32(score_eps))
    return out, mask_scores[inverse]


def _full_mask(source: MaskRows, q: int, buffer: np.ndarray | None) -> np.ndarray:
    """Query q's whole (H, W) mask: a view of a stack, or the resized bands written into `buffer`."""
    if buffer is None:
        return source.rows(q, 0, source.shape[1])
    for a, b in row_bands(*buffer.shape):
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
    class_probs, masks = check_inputs(class_probs, masks)
    return instance_from_rows(class_probs, StackRows(masks), isthing, topk, things_only, log_eps, score_eps)


def instance_from_rows(class_probs: np.ndarray, source: MaskRows, isthing: Sequence[bool], topk: int, things_only: bool,
              log_eps: float, score_eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`instance_inference` on any mask source (only the selected queries' rows are read)."""
    num_classes = class_probs.shape[1] - 1
    flags = check_isthing(isthing, num_classes)
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
