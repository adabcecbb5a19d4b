"""Segmentation metrics: label agreement, the confusion-matrix IoU, and panoptic quality.

One implementation serves every judge of answers: `export`'s chained verification, `quantize`'s
accuracy figures and `check` (against the reference and against ground truth).

Panoptic quality follows the COCO panoptic API's definition (`panopticapi/evaluation.py`,
`pq_compute_single_core` and `PQStat.pq_average`; Kirillov et al. 2019): a predicted and a
ground-truth segment of the same category match when their IoU exceeds 0.5, where the union
leaves out the part of the prediction that falls on unlabelled ground truth (id 0); crowd
ground-truth segments (`iscrowd`) are never matched nor missed, and an unmatched prediction lying
mostly (> 0.5) on unlabelled ground truth plus its category's crowd region is not a false
positive. Statistics accumulate per category over all images, and PQ, SQ and RQ are averaged
over the categories that occur (optionally things or stuff only).

The IoU of semantic labels is the standard confusion-matrix definition (as mmsegmentation's
`mean_iou`): per class, intersection / union over all images' pixels; classes with an empty
union are left out of the mean; pixel accuracy is the diagonal over all labelled pixels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

VOID = 0  # the id of "no segment" in our panoptic maps, and of unlabelled ground truth


def label_agreement(labels: np.ndarray, reference: np.ndarray) -> float:
    """Fraction of pixels with the reference's semantic label."""
    return float((np.asarray(labels) == np.asarray(reference)).mean())


@dataclass
class _CategoryStats:
    iou: float = 0.0
    tp: int = 0
    fp: int = 0
    fn: int = 0


@dataclass
class PanopticQuality:
    """Accumulates panoptic matches over images; `result()` gives PQ, SQ, RQ."""

    per_category: dict[int, _CategoryStats] = field(default_factory=lambda: defaultdict(_CategoryStats))

    def add(self, prediction: np.ndarray, prediction_segments: Sequence[dict[str, Any]],
            truth: np.ndarray, truth_segments: Sequence[dict[str, Any]]) -> None:
        """One image: id maps (H, W) and their segments ({id, category_id, ...})."""
        if prediction.shape != truth.shape:
            raise ValueError(f"panoptic maps differ in size: {prediction.shape} vs {truth.shape}")
        pred_cat = {int(s["id"]): int(s["category_id"]) for s in prediction_segments}
        true_cat = {int(s["id"]): int(s["category_id"]) for s in truth_segments}
        crowd = {int(s["id"]) for s in truth_segments if s.get("iscrowd", 0)}
        pred_ids, pred_area = np.unique(prediction, return_counts=True)
        true_ids, true_area = np.unique(truth, return_counts=True)
        pred_area_of = dict(zip(pred_ids.tolist(), pred_area.tolist()))
        true_area_of = dict(zip(true_ids.tolist(), true_area.tolist()))
        # Intersections of every (truth, prediction) pair, in one pass.
        width = int(prediction.max(initial=0)) + 1
        pairs, counts = np.unique(truth.astype(np.int64) * width + prediction, return_counts=True)
        inter = {(int(p // width), int(p % width)): int(c) for p, c in zip(pairs, counts)}

        matched_true: set[int] = set()
        matched_pred: set[int] = set()
        for (t, p), area in inter.items():
            if t == VOID or p == VOID or t not in true_cat or p not in pred_cat or t in crowd:
                continue
            if true_cat[t] != pred_cat[p]:
                continue
            union = pred_area_of[p] + true_area_of[t] - area - inter.get((VOID, p), 0)
            iou = area / union
            if iou > 0.5:
                stats = self.per_category[true_cat[t]]
                stats.tp += 1
                stats.iou += iou
                matched_true.add(t)
                matched_pred.add(p)
        crowd_of: dict[int, int] = {}  # category -> its crowd segment (the COCO API keeps the last)
        for t, category in true_cat.items():
            if t in crowd:
                crowd_of[category] = t
            elif t not in matched_true and true_area_of.get(t, 0) > 0:
                self.per_category[category].fn += 1
        for p, category in pred_cat.items():
            area = pred_area_of.get(p, 0)
            if p in matched_pred or area == 0:
                continue
            ignored = inter.get((VOID, p), 0)
            if category in crowd_of:
                ignored += inter.get((crowd_of[category], p), 0)
            if ignored / area > 0.5:
                continue  # mostly on unlabelled ground truth or its category's crowd: not counted
            self.per_category[category].fp += 1

    def result(self, isthing: Mapping[int, bool] | None = None, things: bool | None = None) -> dict[str, float]:
        """PQ, SQ, RQ averaged over the categories that occur (1.0 each when none does: two
        empty segmentations agree perfectly); with `things` True or False, over thing or stuff
        categories only, as `isthing` (category -> flag) says."""
        chosen = self.per_category.items()
        if things is not None:
            if isthing is None:
                raise ValueError("things/stuff averages need the categories' isthing flags")
            chosen = [(c, s) for c, s in chosen if bool(isthing.get(c, False)) == things]
        present = [s for _, s in chosen if s.tp + s.fp + s.fn > 0]
        if not present:
            return {"pq": 1.0, "sq": 1.0, "rq": 1.0, "categories": 0}
        pq, sq, rq = [], [], []
        for s in present:
            denominator = s.tp + 0.5 * s.fp + 0.5 * s.fn
            pq.append(s.iou / denominator)
            sq.append(s.iou / s.tp if s.tp else 0.0)
            rq.append(s.tp / denominator)
        return {"pq": float(np.mean(pq)), "sq": float(np.mean(sq)), "rq": float(np.mean(rq)),
                "categories": len(present)}


def panoptic_split(quality: PanopticQuality, isthing: Mapping[int, bool]) -> dict[str, dict[str, float]]:
    """PQ, SQ, RQ over all categories, things and stuff (the COCO API's three rows)."""
    return {"all": quality.result(), "things": quality.result(isthing, True),
            "stuff": quality.result(isthing, False)}


@dataclass
class ConfusionMatrix:
    """Pixel counts of (truth, prediction) class pairs over many images; `ignore` truth is skipped."""

    num_classes: int
    ignore: int = 255
    counts: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.counts = np.zeros((self.num_classes, self.num_classes), np.int64)

    def add(self, prediction: np.ndarray, truth: np.ndarray) -> None:
        prediction, truth = np.asarray(prediction), np.asarray(truth)
        if prediction.shape != truth.shape:
            raise ValueError(f"label maps differ in size: {prediction.shape} vs {truth.shape}")
        keep = truth != self.ignore
        t, p = truth[keep].astype(np.int64), prediction[keep].astype(np.int64)
        for name, labels in (("truth", t), ("prediction", p)):
            if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ValueError(f"{name} label {int(labels.max())} outside 0..{self.num_classes - 1}")
        self.counts += np.bincount(t * self.num_classes + p,
                                   minlength=self.num_classes ** 2).reshape(self.counts.shape)

    def class_iou(self) -> np.ndarray:
        """Per class intersection / union; NaN where the class is in neither map."""
        inter = np.diag(self.counts).astype(np.float64)
        union = self.counts.sum(0) + self.counts.sum(1) - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, inter / union, np.nan)

    def result(self) -> dict[str, float]:
        """mIoU (classes with an empty union left out), pixel accuracy, mean class accuracy."""
        iou = self.class_iou()
        inter = np.diag(self.counts).astype(np.float64)
        truth = self.counts.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            accuracy = np.where(truth > 0, inter / truth, np.nan)
        total = self.counts.sum()
        present = ~np.isnan(iou)
        return {"miou": float(np.nanmean(iou)) if present.any() else 1.0,
                "pixel_accuracy": float(inter.sum() / total) if total else 1.0,
                "mean_accuracy": float(np.nanmean(accuracy)) if (truth > 0).any() else 1.0,
                "classes": int(present.sum())}
