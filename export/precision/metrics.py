"""How far a reduced-precision graph is from the FP32 one: per output and end to end."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from frozenseg_export.nonfinite import nonfinite_where_finite
from frozenseg_export.segmentation_metrics import label_agreement

__all__ = ["label_agreement", "mask_iou", "output_errors", "relative_error"]


def relative_error(value: np.ndarray, reference: np.ndarray) -> float:
    """||value - reference|| / ||reference|| over the whole tensor (L2, float64); infinite when
    `value` is NaN or Inf anywhere the reference is finite, so that no search or bar can take a
    non-finite output for a small error (NaN compares false with everything)."""
    if nonfinite_where_finite(value, reference) is not None:
        return float("inf")
    ref = reference.astype(np.float64)
    diff = value.astype(np.float64) - ref
    return float(np.linalg.norm(diff) / max(np.linalg.norm(ref), 1e-30))


def output_errors(outputs: Sequence[dict[str, np.ndarray]],
                  references: Sequence[dict[str, np.ndarray]]) -> dict[str, float]:
    """Worst relative error of each output over the feeds."""
    errors: dict[str, float] = {}
    for out, ref in zip(outputs, references):
        for name, value in ref.items():
            errors[name] = max(errors.get(name, 0.0), relative_error(out[name], value))
    return errors


def mask_iou(masks: np.ndarray, reference: np.ndarray) -> float:
    """Mean IoU of binarised query masks (logit > 0) over queries present in either."""
    a = masks.reshape(masks.shape[0], -1) > 0
    b = reference.reshape(reference.shape[0], -1) > 0
    union = (a | b).sum(-1)
    inter = (a & b).sum(-1)
    present = union > 0
    if not present.any():
        return 1.0
    return float((inter[present] / union[present]).mean())
