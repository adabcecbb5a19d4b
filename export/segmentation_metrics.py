"""Agreement of two segmentations: semantic label agreement and panoptic quality.

Panoptic quality follows the COCO panoptic API's definition (`panopticapi/evaluation.py`,
Kirillov et al. 2019): a predicted and a ground-truth segment of the same category match when
their IoU exceeds 0.5, where the union leaves out the part of the prediction that falls on
unlabelled ground truth (id 0); an unmatched prediction lying mostly (> 0.5) on unlabelled
ground truth is not a false positive. Statistics accumulate per category over all images, and
PQ, SQ and RQ are averaged over the categories that occur.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
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
            if t == VOID or p == VOID or t not in true_cat or p not in pred_cat:
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
        for t, category in true_cat.items():
            if t not in matched_true and true_area_of.get(t, 0) > 0:
                self.per_category[category].fn += 1
        for p, category in pred_cat.items():
            area = pred_area_of.get(p, 0)
            if p in matched_pred or area == 0:
                continue
            if inter.get((VOID, p), 0) / area > 0.5:
                continue  # mostly on unlabelled ground truth: not counted
            self.per_category[category].fp += 1

    def result(self) -> dict[str, float]:
        """PQ, SQ, RQ averaged over the categories that occur (1.0 each when none does: two
        empty segmentations agree perfectly)."""
        present = [s for s in self.per_category.values() if s.tp + s.fp + s.fn > 0]
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
