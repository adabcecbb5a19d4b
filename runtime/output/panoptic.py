"""The panoptic task: kept queries' segments and the map of which one owns each pixel (C++:
output/panoptic.cpp)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from frozenseg_runtime.output.checks import check_inputs, check_isthing
from frozenseg_runtime.output.class_scores import official_class_scores, sigmoid_into
from frozenseg_runtime.output.mask_resize import MaskRows, Scratch, StackRows, row_bands


def _owner_map(
    scores: np.ndarray, source: MaskRows, kept: np.ndarray
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
    scratch = Scratch()
    bands = row_bands(h, w)
    for i, q in enumerate(kept):
        for a, b in bands:
            sig = sigmoid_into(source.rows(int(q), a, b), scratch.get("sig", (b - a, w)))
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
    class_probs, masks = check_inputs(class_probs, masks)
    return panoptic_from_rows(class_probs, StackRows(masks), isthing, object_mask_threshold, overlap_threshold, log_eps)


def panoptic_from_rows(class_probs: np.ndarray, source: MaskRows, isthing: Sequence[bool], object_mask_threshold: float,
              overlap_threshold: float, log_eps: float) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """`panoptic_inference` on any mask source (only the kept queries' rows are read)."""
    num_classes = class_probs.shape[1] - 1
    flags = check_isthing(isthing, num_classes)
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
