"""Post-processing of FrozenSeg outputs, without torch.

Reproduces the official `FrozenSeg.forward` from the mask upsampling on, with
`semantic_inference`, `panoptic_inference`, `instance_inference` and detectron2's
`sem_seg_postprocess`. Inputs are the model's final `class_probs` (Q, C+1; void last; the official
`mask_cls_probs`) and mask logits (Q, h, w). Everything is float32 and chunked over queries or
pixels, because full-resolution stacks of 250 masks already take about 1 GB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.image.ops import resize_bilinear
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
    "sem_seg_postprocess",
    "masks_to_output",
    "semantic_inference",
    "panoptic_inference",
    "instance_inference",
]

# Temporaries per chunk stay around this size (bytes).
_CHUNK_BYTES = 64 * 1024 * 1024


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function in float32; large negative inputs give 0 without a warning."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):
        return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))


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


def _rows_per_chunk(bytes_per_row: int) -> int:
    """How many rows of `bytes_per_row` fit in one chunk (at least one)."""
    return max(1, _CHUNK_BYTES // max(1, bytes_per_row))


def sem_seg_postprocess(
    x: np.ndarray, image_size: tuple[int, int], output_size: tuple[int, int]
) -> np.ndarray:
    """detectron2 `sem_seg_postprocess`: crop (N, Hp, Wp) to the image, resize to the output."""
    img_h, img_w = image_size
    cropped = x[:, :img_h, :img_w]
    return resize_bilinear(cropped, output_size)


def masks_to_output(
    mask_logits: np.ndarray,
    padded_size: tuple[int, int],
    image_size: tuple[int, int],
    output_size: tuple[int, int],
) -> np.ndarray:
    """Mask logits (Q, h, w) -> (Q, H, W) at the output size, as the official path does.

    Resize to the padded input size, crop the padding away, resize to the output size. Done in
    chunks of queries so that the padded-size stack never exists in full.
    """
    masks = np.asarray(mask_logits, dtype=np.float32)
    out_h, out_w = output_size
    out = np.empty((masks.shape[0], out_h, out_w), dtype=np.float32)
    step = _rows_per_chunk(4 * 2 * (padded_size[0] * padded_size[1] + out_h * out_w))
    for start in range(0, masks.shape[0], step):
        padded = resize_bilinear(masks[start : start + step], padded_size)
        out[start : start + step] = sem_seg_postprocess(padded, image_size, output_size)
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


def semantic_inference(class_probs: np.ndarray, masks: np.ndarray, log_eps: float) -> np.ndarray:
    """einsum("qc,qhw->chw", scores[:, :-1], sigmoid(masks)) -> (C, H, W) float32."""
    class_probs, masks = _check_inputs(class_probs, masks)
    scores_t = official_class_scores(class_probs, log_eps)[:, :-1].T.copy()  # (C, Q)
    q, h, w = masks.shape
    flat = masks.reshape(q, h * w)
    out = np.empty((scores_t.shape[0], h * w), dtype=np.float32)
    step = _rows_per_chunk(4 * q)
    for start in range(0, h * w, step):
        np.matmul(
            scores_t, sigmoid(flat[:, start : start + step]), out=out[:, start : start + step]
        )
    return out.reshape(-1, h, w)


def _owner_map(
    scores: np.ndarray, masks: np.ndarray, kept: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the kept queries: pixel owner, owner's mask >= 0.5, and per-query mask areas.

    owner = argmax_k(score_k * sigmoid(mask_k)) (first index on ties, like torch.argmax);
    original areas = count(sigmoid(mask_k) >= 0.5). Works on pixel chunks of the full stack so
    that the kept masks are never copied whole.
    """
    k = kept.shape[0]
    h, w = masks.shape[1:]
    flat = masks.reshape(masks.shape[0], h * w)
    owner = np.empty(h * w, dtype=np.int64)
    owner_fg = np.empty(h * w, dtype=bool)
    original_area = np.zeros(k, dtype=np.int64)
    step = _rows_per_chunk(4 * 2 * k)
    for start in range(0, h * w, step):
        sig = sigmoid(flat[kept, start : start + step])
        ids = np.argmax(scores[:, None] * sig, axis=0)
        owner[start : start + step] = ids
        owner_fg[start : start + step] = sig[ids, np.arange(sig.shape[1])] >= 0.5
        original_area += np.count_nonzero(sig >= 0.5, axis=1)
    return owner.reshape(h, w), owner_fg.reshape(h, w), original_area


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
    num_classes = class_probs.shape[1] - 1
    flags = _check_isthing(isthing, num_classes)
    probs = official_class_scores(class_probs, log_eps)
    labels = np.argmax(probs, axis=-1)
    scores = probs[np.arange(probs.shape[0]), labels]
    keep = (labels != num_classes) & (scores > np.float32(object_mask_threshold))
    h, w = masks.shape[1:]
    if not keep.any():
        return np.zeros((h, w), dtype=np.int32), []
    cur_scores, cur_classes = scores[keep], labels[keep]
    owner, owner_fg, original_area = _owner_map(cur_scores, masks, np.flatnonzero(keep))
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


def _topk_desc(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, by value descending then index ascending."""
    order = np.argsort(-values, kind="stable")
    return order[:k]


def _mask_scores(masks: np.ndarray, queries: np.ndarray, score_eps: float) -> np.ndarray:
    """Per query: sum(sigmoid * (logit > 0)) / (count(logit > 0) + score_eps), float32."""
    out = np.empty(queries.shape[0], dtype=np.float32)
    q_per_chunk = _rows_per_chunk(4 * 2 * masks.shape[1] * masks.shape[2])
    for start in range(0, queries.shape[0], q_per_chunk):
        logits = masks[queries[start : start + q_per_chunk]].reshape(-1, masks[0].size)
        fg = (logits > 0).astype(np.float32)
        num = (sigmoid(logits) * fg).sum(axis=1, dtype=np.float32)
        out[start : start + q_per_chunk] = num / (fg.sum(axis=1) + np.float32(score_eps))
    return out


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
    unique_q, inverse = np.unique(queries, return_inverse=True)
    mask_scores = _mask_scores(masks, unique_q, score_eps)[inverse]
    return (
        masks[queries] > 0,
        (top_scores * mask_scores).astype(np.float32),
        classes.astype(np.int64),
    )


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
    masks = masks_to_output(raw["pred_masks"], prepared.padded_size, prepared.image_size,
                            prepared.output_size)
    probs = raw["class_probs"]
    result = SegmentationResult(task=task, class_names=vocabulary.display_names,
                                isthing=vocabulary.isthing, image_size=prepared.output_size)
    if task == "semantic":
        scores = semantic_inference(probs, masks, constants.log_eps)
        result.semantic_scores = scores
        result.semantic_labels = scores.argmax(0).astype(np.int32)
    elif task == "panoptic":
        result.panoptic_seg, result.segments_info = panoptic_inference(
            probs, masks, vocabulary.isthing, constants.object_mask_threshold,
            constants.overlap_threshold, constants.log_eps)
    else:
        result.instance_masks, result.instance_scores, result.instance_classes = (
            instance_inference(probs, masks, vocabulary.isthing, constants.instance_topk,
                               things_only=True, log_eps=constants.log_eps,
                               score_eps=constants.instance_score_eps))
    return result
