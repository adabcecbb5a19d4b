"""The fast post-processing gives bit-for-bit the results of the straightforward one.

The `_old_*` helpers below are the previous implementation of runtime/output/postprocess.py, kept here only as the
oracle: whole-stack resizes in 64 MB chunks, per-chunk sigmoids, argmax over queries. The C++ library is tested to be
bit-identical with the Python functions, so every output (label maps, segment ids and order, float32 scores,
instance masks) must equal the oracle's exactly, on inputs with ties, empty results, one class, odd sizes, crops and
resizes of every direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frozenseg_runtime.image.ops import resize_bilinear
from frozenseg_runtime.image.preprocess import PreparedImage
from frozenseg_runtime.output import postprocess as pp
from frozenseg_runtime.text.vocabulary import Vocabulary

LOG_EPS, SCORE_EPS = 1e-8, 1e-6

# ------------------------------------------------------------------------------------------ the oracle
_OLD_CHUNK_BYTES = 64 * 1024 * 1024


def _old_sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):
        return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))


def _old_official_class_scores(class_probs: np.ndarray, log_eps: float) -> np.ndarray:
    p = np.asarray(class_probs, dtype=np.float32)
    logits = np.log(p + np.float32(log_eps))
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def _old_rows_per_chunk(bytes_per_row: int) -> int:
    return max(1, _OLD_CHUNK_BYTES // max(1, bytes_per_row))


def _old_sem_seg_postprocess(x, image_size, output_size):
    img_h, img_w = image_size
    return resize_bilinear(x[:, :img_h, :img_w], output_size)


def _old_masks_to_output(mask_logits, padded_size, image_size, output_size):
    masks = np.asarray(mask_logits, dtype=np.float32)
    out_h, out_w = output_size
    out = np.empty((masks.shape[0], out_h, out_w), dtype=np.float32)
    step = _old_rows_per_chunk(4 * 2 * (padded_size[0] * padded_size[1] + out_h * out_w))
    for start in range(0, masks.shape[0], step):
        padded = resize_bilinear(masks[start : start + step], padded_size)
        out[start : start + step] = _old_sem_seg_postprocess(padded, image_size, output_size)
    return out


def _old_check_inputs(class_probs, masks):
    class_probs = np.asarray(class_probs, dtype=np.float32)
    masks = np.asarray(masks, dtype=np.float32)
    if class_probs.ndim != 2 or masks.ndim != 3 or class_probs.shape[0] != masks.shape[0]:
        raise ValueError("shapes")
    return class_probs, masks


def _old_semantic_inference(class_probs, masks, log_eps):
    class_probs, masks = _old_check_inputs(class_probs, masks)
    scores_t = _old_official_class_scores(class_probs, log_eps)[:, :-1].T.copy()
    q, h, w = masks.shape
    flat = masks.reshape(q, h * w)
    out = np.empty((scores_t.shape[0], h * w), dtype=np.float32)
    step = _old_rows_per_chunk(4 * q)
    for start in range(0, h * w, step):
        np.matmul(scores_t, _old_sigmoid(flat[:, start : start + step]), out=out[:, start : start + step])
    return out.reshape(-1, h, w)


def _old_owner_map(scores, masks, kept):
    k = kept.shape[0]
    h, w = masks.shape[1:]
    flat = masks.reshape(masks.shape[0], h * w)
    owner = np.empty(h * w, dtype=np.int64)
    owner_fg = np.empty(h * w, dtype=bool)
    original_area = np.zeros(k, dtype=np.int64)
    step = _old_rows_per_chunk(4 * 2 * k)
    for start in range(0, h * w, step):
        sig = _old_sigmoid(flat[kept, start : start + step])
        ids = np.argmax(scores[:, None] * sig, axis=0)
        owner[start : start + step] = ids
        owner_fg[start : start + step] = sig[ids, np.arange(sig.shape[1])] >= 0.5
        original_area += np.count_nonzero(sig >= 0.5, axis=1)
    return owner.reshape(h, w), owner_fg.reshape(h, w), original_area


def _old_assign_segments(classes, scores, stats, isthing, overlap_threshold):
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
        segments.append({"id": current, "isthing": thing, "category_id": pred_class, "score": float(scores[k])})
    return seg_of_query, segments


def _old_panoptic_inference(class_probs, masks, isthing, object_mask_threshold, overlap_threshold, log_eps):
    class_probs, masks = _old_check_inputs(class_probs, masks)
    num_classes = class_probs.shape[1] - 1
    flags = np.asarray(list(isthing), dtype=bool)
    probs = _old_official_class_scores(class_probs, log_eps)
    labels = np.argmax(probs, axis=-1)
    scores = probs[np.arange(probs.shape[0]), labels]
    keep = (labels != num_classes) & (scores > np.float32(object_mask_threshold))
    h, w = masks.shape[1:]
    if not keep.any():
        return np.zeros((h, w), dtype=np.int32), []
    cur_scores, cur_classes = scores[keep], labels[keep]
    owner, owner_fg, original_area = _old_owner_map(cur_scores, masks, np.flatnonzero(keep))
    n = cur_classes.shape[0]
    mask_area = np.bincount(owner.ravel(), minlength=n)
    visible_area = np.bincount(owner[owner_fg], minlength=n)
    seg_of_query, segments = _old_assign_segments(
        cur_classes, cur_scores, (mask_area, original_area, visible_area), flags, overlap_threshold
    )
    panoptic_seg = np.where(owner_fg, seg_of_query[owner], 0).astype(np.int32)
    return panoptic_seg, segments


def _old_mask_scores(masks, queries, score_eps):
    out = np.empty(queries.shape[0], dtype=np.float32)
    q_per_chunk = _old_rows_per_chunk(4 * 2 * masks.shape[1] * masks.shape[2])
    for start in range(0, queries.shape[0], q_per_chunk):
        logits = masks[queries[start : start + q_per_chunk]].reshape(-1, masks[0].size)
        fg = (logits > 0).astype(np.float32)
        num = (_old_sigmoid(logits) * fg).sum(axis=1, dtype=np.float32)
        out[start : start + q_per_chunk] = num / (fg.sum(axis=1) + np.float32(score_eps))
    return out


def _old_instance_inference(class_probs, masks, isthing, topk, things_only, log_eps, score_eps):
    class_probs, masks = _old_check_inputs(class_probs, masks)
    num_classes = class_probs.shape[1] - 1
    flags = np.asarray(list(isthing), dtype=bool)
    scores = _old_official_class_scores(class_probs, log_eps)[:, :-1]
    k = min(int(topk), scores.size)
    idx = np.argsort(-scores.ravel(), kind="stable")[:k]
    top_scores = scores.ravel()[idx]
    queries, classes = idx // num_classes, idx % num_classes
    if things_only:
        sel = flags[classes]
        top_scores, queries, classes = top_scores[sel], queries[sel], classes[sel]
    unique_q, inverse = np.unique(queries, return_inverse=True)
    mask_scores = _old_mask_scores(masks, unique_q, score_eps)[inverse]
    return masks[queries] > 0, (top_scores * mask_scores).astype(np.float32), classes.astype(np.int64)


def _old_segmentation_result(raw, prepared, isthing: Sequence[bool], task: str, constants) -> dict[str, Any]:
    masks = _old_masks_to_output(raw["pred_masks"], prepared.padded_size, prepared.image_size, prepared.output_size)
    probs = raw["class_probs"]
    if task == "semantic":
        scores = _old_semantic_inference(probs, masks, constants.log_eps)
        return {"semantic_scores": scores, "semantic_labels": scores.argmax(0).astype(np.int32)}
    if task == "panoptic":
        seg, info = _old_panoptic_inference(probs, masks, isthing, constants.object_mask_threshold,
                                            constants.overlap_threshold, constants.log_eps)
        return {"panoptic_seg": seg, "segments_info": info}
    m, s, c = _old_instance_inference(probs, masks, isthing, constants.instance_topk, True, constants.log_eps,
                                      constants.instance_score_eps)
    return {"instance_masks": m, "instance_scores": s, "instance_classes": c}


# ------------------------------------------------------------------------------------------ inputs
Geometry = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]  # mask, padded, image, output

GEOMETRIES: list[Geometry] = [
    ((20, 20), (80, 80), (80, 80), (51, 51)),  # the full preset's 512x512 case, scaled down by 10
    ((20, 30), (80, 120), (80, 120), (80, 120)),  # output = image: no second resize
    ((12, 16), (48, 64), (45, 61), (97, 130)),  # crop, then upsample
    ((7, 5), (28, 20), (27, 17), (13, 40)),  # odd sizes, one axis down, one up
    ((16, 16), (16, 16), (13, 11), (13, 11)),  # masks already at the padded size: crop only
    ((16, 12), (16, 12), (16, 12), (40, 7)),  # no first resize
    ((9, 9), (36, 36), (1, 36), (3, 100)),  # a one-row image
    ((5, 8), (20, 32), (20, 32), (1, 1)),  # a one-pixel output
    ((10, 10), (40, 40), (33, 29), (200, 13)),  # strong upsample of one axis, downsample of the other
    ((8, 10), (32, 40), (32, 40), (7, 9)),  # strong downsample (skips padded rows and columns)
]


def _inputs(seed: int, q: int, num_classes: int, mask_size: tuple[int, int], *, ties: bool = False,
            void: float = 0.3) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """class_probs (Q, C+1), mask logits (Q, h, w) float32 and isthing flags, with confident blob queries.

    With `ties`, some queries repeat others' masks and class rows exactly, and some logits are exact zeros, so that
    argmax ties, equal products and sigmoid == 0.5 all occur.
    """
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((q, num_classes + 1)).astype(np.float32)
    for k in range(q):
        if rng.random() < 0.5:
            logits[k, rng.integers(num_classes)] += 4.0 + 4.0 * rng.random()
        elif rng.random() < void:
            logits[k, -1] += 6.0
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    h, w = mask_size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    masks = np.empty((q, h, w), dtype=np.float32)
    for k in range(q):
        cy, cx, ry, rx = rng.random() * h, rng.random() * w, 0.5 + rng.random() * h / 2, 0.5 + rng.random() * w / 2
        masks[k] = (4.0 + 8.0 * rng.random()) * (1 - ((yy - cy) / ry) ** 2 - ((xx - cx) / rx) ** 2)
    masks += rng.standard_normal(masks.shape).astype(np.float32)
    if ties and q >= 4:
        masks[q // 2] = masks[0]
        probs[q // 2] = probs[0]
        masks[1][rng.random((h, w)) < 0.3] = 0.0
        masks[q - 1] = np.round(masks[q - 1])
        probs[2, : num_classes + 1] = 1.0 / (num_classes + 1)  # every class ties
    isthing = [bool(v) for v in rng.random(num_classes) < 0.5]
    return probs.astype(np.float32), masks, isthing


def _prepared(geo: Geometry) -> PreparedImage:
    _, padded, image, output = geo
    return PreparedImage(clip_input=np.zeros((1, 3, 1, 1), np.float32), sam_input=np.zeros((1, 3, 1, 1), np.float32),
                         image_size=image, padded_size=padded, output_size=output)


def _vocabulary(isthing: list[bool]) -> Vocabulary:
    return Vocabulary(names=tuple((f"class {i}",) for i in range(len(isthing))), isthing=tuple(isthing))


def _constants(object_threshold: float = 0.0, overlap: float = 0.8, topk: int = 100) -> pp.InferenceConstants:
    return pp.InferenceConstants(object_threshold, overlap, topk, LOG_EPS, SCORE_EPS)


def _assert_same(got: Any, want: Any) -> None:
    """Exact equality of arrays (dtype, shape, bits; NaN equal to NaN), lists and dicts."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f")
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want)
        for a, b in zip(got, want):
            _assert_same(a, b)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            _assert_same(got[key], want[key])
    else:
        assert type(got) is type(want) and got == want


def _check_all(probs: np.ndarray, masks: np.ndarray, isthing: list[bool], geo: Geometry,
               constants: pp.InferenceConstants) -> None:
    """Every public function and `segmentation_result` of each task against the oracle."""
    up = pp.masks_to_output(masks, *geo[1:])
    _assert_same(up, _old_masks_to_output(masks, *geo[1:]))
    _assert_same(pp.semantic_inference(probs, up, LOG_EPS), _old_semantic_inference(probs, up, LOG_EPS))
    args = (isthing, constants.object_mask_threshold, constants.overlap_threshold, LOG_EPS)
    _assert_same(pp.panoptic_inference(probs, up, *args), _old_panoptic_inference(probs, up, *args))
    for things_only in (True, False):
        args = (isthing, constants.instance_topk, things_only, LOG_EPS, SCORE_EPS)
        _assert_same(pp.instance_inference(probs, up, *args), _old_instance_inference(probs, up, *args))
    raw = {"class_probs": probs, "pred_masks": masks}
    for task in pp.TASKS:
        result = pp.segmentation_result(raw, _prepared(geo), _vocabulary(isthing), task, constants)
        want = _old_segmentation_result(raw, _prepared(geo), isthing, task, constants)
        _assert_same({key: getattr(result, key) for key in want}, want)


# ------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("geo", GEOMETRIES, ids=lambda g: "x".join(map(str, g[0] + g[3])))
@pytest.mark.parametrize("seed", [0, 1])
def test_geometries(geo: Geometry, seed: int) -> None:
    probs, masks, isthing = _inputs(seed, 24, 7, geo[0], ties=seed == 1)
    _check_all(probs, masks, isthing, geo, _constants())


@pytest.mark.parametrize("thresholds", [(0.0, 0.8), (0.5, 0.8), (0.0, 0.0), (0.9, 0.5), (0.0, 1.0)])
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_thresholds_and_ties(thresholds: tuple[float, float], seed: int) -> None:
    probs, masks, isthing = _inputs(seed, 30, 5, (11, 13), ties=True)
    _check_all(probs, masks, isthing, ((11, 13), (44, 52), (41, 50), (30, 37)), _constants(*thresholds, topk=20))


@pytest.mark.parametrize("topk", [1, 7, 100, 10_000])
def test_topk(topk: int) -> None:
    probs, masks, isthing = _inputs(5, 20, 6, (10, 10), ties=True)
    _check_all(probs, masks, isthing, ((10, 10), (40, 40), (37, 40), (23, 31)), _constants(topk=topk))


def test_nothing_kept() -> None:
    """Every query void (panoptic empty) and no thing class (instance empty)."""
    probs, masks, _ = _inputs(6, 12, 4, (8, 8))
    probs[:, :-1], probs[:, -1] = 0.0, 1.0
    _check_all(probs, masks, [False] * 4, ((8, 8), (32, 32), (30, 29), (17, 19)), _constants())


def test_threshold_above_every_score() -> None:
    probs, masks, isthing = _inputs(7, 12, 4, (8, 8))
    _check_all(probs, masks, isthing, ((8, 8), (32, 32), (32, 32), (32, 32)), _constants(object_threshold=1.0))


@pytest.mark.parametrize("thing", [True, False])
def test_one_class(thing: bool) -> None:
    probs, masks, _ = _inputs(8, 10, 1, (9, 7), ties=True)
    _check_all(probs, masks, [thing], ((9, 7), (36, 28), (33, 28), (20, 50)), _constants())


@pytest.mark.parametrize("q", [1, 2, 3])
def test_few_queries(q: int) -> None:
    probs, masks, isthing = _inputs(9, q, 3, (6, 6))
    probs[:, 0] += 2.0  # every query confident
    probs /= probs.sum(-1, keepdims=True)
    _check_all(probs, masks, isthing, ((6, 6), (24, 24), (24, 21), (11, 11)), _constants(overlap=0.0))


def test_identical_masks_and_scores() -> None:
    """All queries equal: argmax ties everywhere go to the first kept query."""
    probs, masks, isthing = _inputs(10, 8, 3, (7, 9))
    probs[:] = probs[0]
    masks[:] = masks[0]
    _check_all(probs, masks, isthing, ((7, 9), (28, 36), (28, 36), (14, 18)), _constants(overlap=0.0))


def test_extreme_logits() -> None:
    """Saturated sigmoids (exactly 0 and 1), infinities, zeros and tiny logits around the 0.5 threshold."""
    probs, masks, isthing = _inputs(11, 16, 4, (8, 12), ties=True)
    masks[0, :4] = 200.0
    masks[1, :, :3] = -200.0
    masks[2, 2] = np.inf
    masks[3, 5] = -np.inf
    masks[4] = np.float32(1e-9) * np.sign(masks[4])
    masks[5, ::2] = -0.0
    masks[6] = np.float32(-3e-8)
    _check_all(probs, masks, isthing, ((8, 12), (32, 48), (32, 47), (8, 12)), _constants(overlap=0.0))


def test_nan_logits() -> None:
    """NaN mask logits propagate as before (NaN wins argmax, fails every comparison)."""
    probs, masks, isthing = _inputs(12, 10, 3, (6, 8))
    probs[:, 0] += 3.0
    probs /= probs.sum(-1, keepdims=True)
    masks[3, 2, 1:4] = np.nan
    masks[0, 0, 0] = np.nan
    _check_all(probs, masks, isthing, ((6, 8), (24, 32), (24, 31), (13, 17)), _constants(overlap=0.0))


def test_float64_and_non_contiguous_inputs() -> None:
    probs, masks, isthing = _inputs(13, 12, 4, (10, 8))
    probs64, masks_t = probs.astype(np.float64), np.ascontiguousarray(masks.transpose(0, 2, 1)).transpose(0, 2, 1)
    geo = ((10, 8), (40, 32), (38, 30), (19, 23))
    _check_all(probs64, masks_t, isthing, geo, _constants())
    _check_all(probs, masks[:, ::-1][:, ::-1], isthing, geo, _constants())


def test_full_preset_sizes() -> None:
    """250 queries, 150 classes at the 512x512 geometry, but with 48x48 masks to stay quick."""
    probs, masks, isthing = _inputs(14, 250, 150, (48, 48), ties=True, void=0.6)
    _check_all(probs, masks, isthing, ((48, 48), (192, 192), (192, 192), (123, 123)), _constants())


@pytest.mark.parametrize("chunk_bytes", [1, 4096, 100_000])
def test_small_chunks(monkeypatch: pytest.MonkeyPatch, chunk_bytes: int) -> None:
    """Chunk and band sizes change nothing (down to one row or one query per chunk).

    `_MATMUL_CHUNK_BYTES` stays: BLAS rounds differently for other matrix shapes, so the semantic product keeps the
    old chunks.
    """
    for name in ("_CHUNK_BYTES", "_BAND_BYTES", "_PIXEL_CHUNK"):
        if hasattr(pp, name):
            monkeypatch.setattr(pp, name, chunk_bytes)
    probs, masks, isthing = _inputs(15, 14, 5, (9, 11), ties=True)
    _check_all(probs, masks, isthing, ((9, 11), (36, 44), (35, 41), (17, 60)), _constants(overlap=0.5))


_sizes = st.integers(1, 12)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[int, int, int, Geometry, float, float, int, bool]:
    mask = (draw(_sizes), draw(_sizes))
    factor = draw(st.sampled_from([1, 2, 4]))
    padded = (mask[0] * factor, mask[1] * factor)
    image = (draw(st.integers(1, padded[0])), draw(st.integers(1, padded[1])))
    output = (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    return (draw(st.integers(0, 2**31)), draw(st.integers(1, 20)), draw(st.integers(1, 8)),
            (mask, padded, image, output), draw(st.sampled_from([0.0, 0.3, 0.8])),
            draw(st.sampled_from([0.0, 0.5, 0.8, 1.0])), draw(st.integers(1, 60)), draw(st.booleans()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_random_cases(case: tuple[int, int, int, Geometry, float, float, int, bool]) -> None:
    seed, q, num_classes, geo, object_threshold, overlap, topk, ties = case
    probs, masks, isthing = _inputs(seed, q, num_classes, geo[0], ties=ties)
    _check_all(probs, masks, isthing, geo, _constants(object_threshold, overlap, topk))
