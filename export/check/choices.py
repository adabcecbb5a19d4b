"""The names `check`'s command line offers, kept free of torch so `frozenseg-deploy` starts fast
and the torch-free commands keep working without it."""

from __future__ import annotations

RUNTIMES = ("python", "cpp")
FORMATS = ("ade20k", "coco-panoptic")
AGREEMENT_METRIC_NAMES = ("semantic.label_agreement", "semantic.mean_class_iou", "panoptic.pq",
                          "instance.matched_fraction", "instance.mean_matched_iou", "instance.class_agreement",
                          "queries.top1_agreement")
DROP_METRICS = ("task.miou_drop", "task.pq_drop")
TENSOR_METRIC = "tensor.floor_margin"
NONFINITE_METRIC = "tensor.nonfinite"  # values NaN or Inf where float64 is finite; bar 0, not overridable
METRICS = (*AGREEMENT_METRIC_NAMES, *DROP_METRICS, TENSOR_METRIC)
