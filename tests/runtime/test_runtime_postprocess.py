"""Post-processing against torch re-implementations of the official FrozenSeg functions.

The reference functions below copy `frozenseg/frozenseg.py` (semantic_inference,
panoptic_inference, instance_inference, the `mask_cls_results = log(probs + 1e-8)` step) and
detectron2's `sem_seg_postprocess`, with metadata lookups replaced by plain arguments.
"""

from __future__ import annotations

import numpy as np
import pytest

from frozenseg_reference.presets import Inference
from frozenseg_runtime.output.postprocess import (
    instance_inference,
    masks_to_output,
    official_class_scores,
    panoptic_inference,
    semantic_inference,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

NUM_CLASSES = 6
# The official constants, as the reference's preset (and so every manifest) holds them.
LOG_EPS = Inference().log_eps
SCORE_EPS = Inference().instance_score_eps
ISTHING = [True, True, True, False, False, False]  # classes 0-2 things, 3-5 stuff
# Like the official `thing_dataset_id_to_contiguous_id.values()` (a view: `in` compares by ==).
THING_IDS = {i: i for i, t in enumerate(ISTHING) if t}.values()


# ----------------------------------------------------------------- official code, in torch
def ref_sem_seg_postprocess(result, img_size, output_height, output_width):
    result = result[:, : img_size[0], : img_size[1]].expand(1, -1, -1, -1)
    result = F.interpolate(
        result, size=(output_height, output_width), mode="bilinear", align_corners=False
    )[0]
    return result


def ref_semantic_inference(mask_cls, mask_pred):
    mask_cls = F.softmax(mask_cls, dim=-1)[..., :-1]
    mask_pred = mask_pred.sigmoid()
    return torch.einsum("qc,qhw->chw", mask_cls, mask_pred)


def ref_panoptic_inference(mask_cls, mask_pred, object_mask_threshold, overlap_threshold):
    scores, labels = F.softmax(mask_cls, dim=-1).max(-1)
    mask_pred = mask_pred.sigmoid()
    num_classes = NUM_CLASSES
    keep = labels.ne(num_classes) & (scores > object_mask_threshold)
    cur_scores = scores[keep]
    cur_classes = labels[keep]
    cur_masks = mask_pred[keep]
    cur_prob_masks = cur_scores.view(-1, 1, 1) * cur_masks
    h, w = cur_masks.shape[-2:]
    panoptic_seg = torch.zeros((h, w), dtype=torch.int32)
    segments_info = []
    current_segment_id = 0
    if cur_masks.shape[0] == 0:
        return panoptic_seg, segments_info
    cur_mask_ids = cur_prob_masks.argmax(0)
    stuff_memory_list = {}
    for k in range(cur_classes.shape[0]):
        pred_class = cur_classes[k].item()
        isthing = pred_class in THING_IDS
        mask_area = (cur_mask_ids == k).sum().item()
        original_area = (cur_masks[k] >= 0.5).sum().item()
        mask = (cur_mask_ids == k) & (cur_masks[k] >= 0.5)
        if mask_area > 0 and original_area > 0 and mask.sum().item() > 0:
            if mask_area / original_area < overlap_threshold:
                continue
            if not isthing:
                if int(pred_class) in stuff_memory_list.keys():
                    panoptic_seg[mask] = stuff_memory_list[int(pred_class)]
                    continue
                else:
                    stuff_memory_list[int(pred_class)] = current_segment_id + 1
            current_segment_id += 1
            panoptic_seg[mask] = current_segment_id
            segments_info.append(
                {"id": current_segment_id, "isthing": bool(isthing), "category_id": int(pred_class)}
            )
    return panoptic_seg, segments_info


def ref_instance_inference(mask_cls, mask_pred, topk, panoptic_on):
    num_queries = mask_cls.shape[0]
    scores = F.softmax(mask_cls, dim=-1)[:, :-1]
    num_classes = NUM_CLASSES
    labels = torch.arange(num_classes).unsqueeze(0).repeat(num_queries, 1).flatten(0, 1)
    scores_per_image, topk_indices = scores.flatten(0, 1).topk(topk, sorted=False)
    labels_per_image = labels[topk_indices]
    topk_indices = topk_indices // num_classes
    mask_pred = mask_pred[topk_indices]
    if panoptic_on:
        keep = torch.zeros_like(scores_per_image).bool()
        for i, lab in enumerate(labels_per_image):
            keep[i] = lab in THING_IDS
        scores_per_image = scores_per_image[keep]
        labels_per_image = labels_per_image[keep]
        mask_pred = mask_pred[keep]
    pred_masks = (mask_pred > 0).float()
    mask_scores = (mask_pred.sigmoid().flatten(1) * pred_masks.flatten(1)).sum(1) / (
        pred_masks.flatten(1).sum(1) + 1e-6
    )
    return pred_masks.bool(), scores_per_image * mask_scores, labels_per_image


# ----------------------------------------------------------------------------- test inputs
def _structured_inputs(seed: int, q: int = 24, h: int = 48, w: int = 64):
    """Class probabilities and mask logits where several queries own clear regions.

    Queries 0-5 are confident (classes 0, 1, 3, 3, 4, 2) with disjoint rectangles, so that
    segments survive the 0.8 overlap test and stuff class 3 appears twice (merged). The rest are
    noise, some void-dominant.
    """
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((q, NUM_CLASSES + 1)).astype(np.float32)
    confident = [0, 1, 3, 3, 4, 2]
    for k, c in enumerate(confident):
        logits[k, c] += 6.0 + rng.random()
    logits[len(confident) : len(confident) + 4, -1] += 5.0  # void-dominant
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    masks = rng.standard_normal((q, h, w)).astype(np.float32) * 2.0 - 4.0
    for k in range(len(confident)):
        r0, c0 = (k // 3) * (h // 2), (k % 3) * (w // 3)
        masks[k, r0 + 2 : r0 + h // 2 - 2, c0 + 2 : c0 + w // 3 - 2] += 9.0
    return probs.astype(np.float32), masks


def _mask_cls(probs: np.ndarray) -> torch.Tensor:
    return torch.log(torch.from_numpy(probs) + 1e-8)


def test_official_class_scores() -> None:
    probs, _ = _structured_inputs(0)
    ref = F.softmax(_mask_cls(probs), dim=-1).numpy()
    assert np.abs(official_class_scores(probs, LOG_EPS) - ref).max() <= 1e-6


def test_masks_to_output_matches_sem_seg_postprocess() -> None:
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 24, 32)).astype(np.float32) * 3
    padded, image, output = (96, 128), (90, 117), (180, 233)
    got = masks_to_output(logits, padded, image, output)
    up = F.interpolate(torch.from_numpy(logits)[None], padded, mode="bilinear")[0]
    ref = ref_sem_seg_postprocess(up, image, *output).numpy()
    assert got.shape == (5, 180, 233)
    assert np.abs(got - ref).max() <= 1e-4


def test_semantic_inference() -> None:
    probs, masks = _structured_inputs(2)
    got = semantic_inference(probs, masks, LOG_EPS)
    ref = ref_semantic_inference(_mask_cls(probs), torch.from_numpy(masks)).numpy()
    assert got.shape == (NUM_CLASSES,) + masks.shape[1:] and got.dtype == np.float32
    assert np.abs(got - ref).max() <= 1e-5


@pytest.mark.parametrize("seed", [3, 4, 5])
@pytest.mark.parametrize("thresholds", [(0.0, 0.8), (0.5, 0.8), (0.0, 0.0)])
def test_panoptic_inference(seed: int, thresholds: tuple[float, float]) -> None:
    probs, masks = _structured_inputs(seed)
    got_seg, got_info = panoptic_inference(probs, masks, ISTHING, *thresholds, LOG_EPS)
    ref_seg, ref_info = ref_panoptic_inference(
        _mask_cls(probs), torch.from_numpy(masks), *thresholds
    )
    assert len(ref_info) >= 2, "test inputs must produce segments"
    assert any(not s["isthing"] for s in ref_info) and any(s["isthing"] for s in ref_info)
    assert got_seg.dtype == np.int32 and np.array_equal(got_seg, ref_seg.numpy())
    assert [{k: v for k, v in s.items() if k != "score"} for s in got_info] == ref_info
    assert all(0.0 < s["score"] <= 1.0 for s in got_info)


def test_panoptic_stuff_segments_merge() -> None:
    probs, masks = _structured_inputs(3)
    seg, info = panoptic_inference(probs, masks, ISTHING, 0.0, 0.8, LOG_EPS)
    assert [s["category_id"] for s in info].count(3) == 1
    stuff_id = next(s["id"] for s in info if s["category_id"] == 3)
    assert (seg[2:22, 2:19] == stuff_id).any() and (seg[2:22, 23:40] == stuff_id).any()


def test_panoptic_nothing_kept() -> None:
    probs, masks = _structured_inputs(6)
    probs[:, :-1], probs[:, -1] = 0.0, 1.0  # every query is void
    seg, info = panoptic_inference(probs, masks, ISTHING, 0.0, 0.8, LOG_EPS)
    assert info == [] and seg.shape == masks.shape[1:] and not seg.any()


def _as_set(masks: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> set:
    return {(int(c), round(float(s), 5), m.tobytes()) for m, s, c in zip(masks, scores, classes)}


@pytest.mark.parametrize("things_only", [True, False])
@pytest.mark.parametrize("topk", [10, 100])
def test_instance_inference(things_only: bool, topk: int) -> None:
    probs, masks = _structured_inputs(7)
    got = instance_inference(probs, masks, ISTHING, topk, things_only, LOG_EPS, SCORE_EPS)
    k = min(topk, probs.shape[0] * NUM_CLASSES)
    ref = ref_instance_inference(_mask_cls(probs), torch.from_numpy(masks), k, things_only)
    ref = tuple(t.numpy() for t in ref)
    assert got[0].dtype == bool and got[0].shape[1:] == masks.shape[1:]
    assert len(got[1]) == len(ref[1]) > 0
    assert _as_set(*got) == _as_set(*ref)
    again = instance_inference(probs, masks, ISTHING, topk, things_only, LOG_EPS, SCORE_EPS)
    assert all(np.array_equal(a, b) for a, b in zip(got, again))  # deterministic order
    if things_only:
        assert all(ISTHING[c] for c in got[2])
