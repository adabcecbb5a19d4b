"""End to end: the deployed pipeline's answers against the reference's, task by task.

The reference's answer stands in for ground truth: semantic label agreement and the per-class
IoU of deployed against reference labels; PQ, SQ, RQ of the deployed panoptic output with the
reference's as ground truth; instance masks matched one to one by IoU (> 0.5, preferring the same
class, since top-k repeats a query's mask under several classes) with their IoU and class
agreement; and each query's top-1 class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frozenseg_export.segmentation_metrics import ConfusionMatrix, PanopticQuality, label_agreement

MATCH_IOU = 0.5


@dataclass(frozen=True)
class InstanceMatch:
    matched: int
    ious: tuple[float, ...]
    same_class: int
    counts: tuple[int, int]  # instances in (deployed, reference)


def mask_ious(masks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """IoU of every (deployed, reference) pair of boolean masks (N, H, W) x (M, H, W)."""
    a = masks.reshape(masks.shape[0], -1).astype(np.float32)
    b = reference.reshape(reference.shape[0], -1).astype(np.float32)
    inter = a @ b.T  # exact: pixel counts stay far below 2**24
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def match_instances(masks: np.ndarray, classes: np.ndarray, reference: np.ndarray,
                    reference_classes: np.ndarray) -> InstanceMatch:
    """Greedy one-to-one matching of pairs with IoU > 0.5, same-class pairs first, then by IoU."""
    counts = (int(masks.shape[0]), int(reference.shape[0]))
    if not all(counts):
        return InstanceMatch(0, (), 0, counts)
    iou = mask_ious(masks, reference)
    same = np.asarray(classes)[:, None] == np.asarray(reference_classes)[None, :]
    rows, cols = np.nonzero(iou > MATCH_IOU)
    order = np.lexsort((-iou[rows, cols], ~same[rows, cols]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    ious, agree = [], 0
    for k in order:
        i, j = int(rows[k]), int(cols[k])
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        ious.append(float(iou[i, j]))
        agree += int(same[i, j])
    return InstanceMatch(len(ious), tuple(ious), agree, counts)


def top1_agreement(class_probs: np.ndarray, reference: np.ndarray) -> float:
    """Fraction of queries whose most probable class (void included) is the reference's."""
    return float((np.argmax(class_probs, -1) == np.argmax(reference, -1)).mean())


@dataclass
class AgreementTally:
    """Deployed-vs-reference figures accumulated over images (and kept per image)."""

    num_classes: int
    semantic: ConfusionMatrix = field(init=False)
    panoptic: PanopticQuality = field(default_factory=PanopticQuality)
    agreement: list[float] = field(default_factory=list)
    instances: list[InstanceMatch] = field(default_factory=list)
    top1: list[float] = field(default_factory=list)
    per_image: list[dict[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.semantic = ConfusionMatrix(self.num_classes, ignore=-1)

    def add(self, deployed: dict[str, Any], reference: dict[str, Any],
            class_probs: tuple[np.ndarray, np.ndarray] | None) -> dict[str, float]:
        """One image: `deployed` and `reference` map each task to its result (SegmentationResult,
        from either runtime); `class_probs` = (deployed, reference) raw class probabilities, if known."""
        image: dict[str, float] = {}
        if "semantic" in deployed:
            d, r = deployed["semantic"].semantic_labels, reference["semantic"].semantic_labels
            self.agreement.append(label_agreement(d, r))
            self.semantic.add(d, r)
            image["semantic.label_agreement"] = self.agreement[-1]
        if "panoptic" in deployed:
            d, r = deployed["panoptic"], reference["panoptic"]
            one = PanopticQuality()
            for quality in (self.panoptic, one):
                quality.add(d.panoptic_seg, d.segments_info, r.panoptic_seg, r.segments_info)
            image["panoptic.pq"] = one.result()["pq"]
        if "instance" in deployed:
            d, r = deployed["instance"], reference["instance"]
            match = match_instances(d.instance_masks, d.instance_classes, r.instance_masks, r.instance_classes)
            self.instances.append(match)
            image["instance.matched_fraction"] = _instance_figures([match])["instance.matched_fraction"]
        if class_probs is not None:
            self.top1.append(top1_agreement(*class_probs))
            image["queries.top1_agreement"] = self.top1[-1]
        self.per_image.append(image)
        return image

    def result(self) -> dict[str, float]:
        figures: dict[str, float] = {}
        if self.agreement:
            figures["semantic.label_agreement"] = float(np.mean(self.agreement))
            figures["semantic.worst_image_label_agreement"] = float(min(self.agreement))
            figures["semantic.mean_class_iou"] = self.semantic.result()["miou"]
        if self.per_image and "panoptic.pq" in self.per_image[0]:
            pq = self.panoptic.result()
            figures.update({"panoptic.pq": pq["pq"], "panoptic.sq": pq["sq"], "panoptic.rq": pq["rq"]})
        if self.instances:
            figures.update(_instance_figures(self.instances))
        if self.top1:
            figures["queries.top1_agreement"] = float(np.mean(self.top1))
        return figures

    def class_iou(self) -> list[float | None]:
        return [None if np.isnan(v) else float(v) for v in self.semantic.class_iou()]


def _instance_figures(matches: Sequence[InstanceMatch]) -> dict[str, float]:
    matched = sum(m.matched for m in matches)
    total = sum(sum(m.counts) for m in matches)
    ious = [v for m in matches for v in m.ious]
    return {"instance.matched_fraction": 2 * matched / total if total else 1.0,
            "instance.mean_matched_iou": float(np.mean(ious)) if ious else (0.0 if total else 1.0),
            "instance.class_agreement": (sum(m.same_class for m in matches) / matched if matched
                                         else (0.0 if total else 1.0))}
