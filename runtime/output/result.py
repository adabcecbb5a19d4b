"""What post-processing takes and gives: the tasks, the manifest's inference constants and the
result of one image (C++: output/result.hpp)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TASKS = ("semantic", "panoptic", "instance")


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
