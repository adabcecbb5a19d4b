"""The float32 noise floor, and bars that stand on it.

A float32 result can only be judged against the truth it approximates: the same PyTorch
reference run in float64. The reference's own float32 run is a correct float32 implementation,
so its distance from float64 (the floor) is what float32 rounding costs for these weights and
inputs. A deployed graph passes when it is within `FLOOR_MULTIPLE` times that floor plus a small
absolute allowance. Fixed tolerances either refuse correct exports of sharp (trained) weights or
wave through wrong ones on smooth weights; the floor does neither.
"""

from __future__ import annotations

import copy
import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from frozenseg_runtime.graphs import ParityBar

# The default per-graph bar (the graph registry holds each graph's own): FLOOR_MULTIPLE times
# the floor, plus an allowance below which any error passes, whatever the floor: tensors, in
# units of the float64 output's largest magnitude (about 8 float32 ulps); label disagreement and
# 1 - PQ, as fractions (one pixel in ten thousand; a segment a thousandth off in IoU).
DEFAULT_BAR = ParityBar()
FLOOR_MULTIPLE = DEFAULT_BAR.floor_multiple
RELATIVE_ALLOWANCE = DEFAULT_BAR.relative_allowance
LABEL_ALLOWANCE = 1e-4
PANOPTIC_ALLOWANCE = 1e-3
# A floor above these means float32 itself is visibly inexact for this checkpoint: reduced
# precision figures must be read against it.
SENSITIVE_LOGIT_ERROR = 1e-3
SENSITIVE_LABEL_AGREEMENT = 0.999


def tensor_bar(floor: float, bar: ParityBar = DEFAULT_BAR) -> float:
    """Largest relative error (max|a - truth| / max|truth|) allowed over a float32 floor."""
    return bar.bar(floor)


def disagreement_bar(floor: float, allowance: float) -> float:
    """Largest disagreement (1 - agreement, 1 - PQ) allowed over a float32 floor."""
    return FLOOR_MULTIPLE * floor + allowance


def max_relative_error(value: np.ndarray, truth: np.ndarray) -> float:
    """max|value - truth| / max|truth| in float64: stays meaningful where elementwise ratios blow
    up near zero. (precision_metrics.relative_error is the L2 ratio, for lowered graphs.)"""
    a = np.asarray(value, dtype=np.float64)
    b = np.asarray(truth, dtype=np.float64)
    if a.size == 0:
        return 0.0
    diff = float(np.abs(a - b).max())
    scale = float(np.abs(b).max())
    return diff / scale if scale > 0 else diff


def bars_record() -> dict[str, Any]:
    """The rule, for the manifest."""
    return {
        "truth": "the PyTorch reference run in float64, graph by graph",
        "floor": "the PyTorch reference's own float32 run against that truth",
        "floor_multiple": FLOOR_MULTIPLE,
        "tensor_rule": "max|onnx - float64| / max|float64| <= floor_multiple * floor + "
                       "relative_allowance, per output and per feed",
        "relative_allowance": RELATIVE_ALLOWANCE,
        "label_rule": "1 - agreement(onnx, float64) <= floor_multiple * (1 - agreement(float32, "
                      "float64)) + label_allowance; the same for 1 - PQ with panoptic_allowance",
        "label_allowance": LABEL_ALLOWANCE,
        "panoptic_allowance": PANOPTIC_ALLOWANCE,
        "sensitive_if": {"relative_logit_floor_above": SENSITIVE_LOGIT_ERROR,
                         "label_agreement_floor_below": SENSITIVE_LABEL_AGREEMENT},
    }


@dataclass(frozen=True)
class Sensitivity:
    """Whether float32 itself is visibly inexact for this checkpoint, and why."""

    sensitive: bool
    reasons: tuple[str, ...]
    logit_floor: float
    label_agreement_floor: float

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reasons": list(self.reasons)}


def assess_sensitivity(logit_floor: float, label_agreement_floor: float) -> Sensitivity:
    """Both measured on the chained check's images (real use, not random feeds): `logit_floor`,
    the worst relative error of float32 pred_logits against float64; `label_agreement_floor`,
    the worst semantic label agreement of PyTorch float32 with float64."""
    reasons = []
    if logit_floor > SENSITIVE_LOGIT_ERROR:
        reasons.append(f"float32 moves the decoder's class logits by {logit_floor:.1e} of their "
                       f"range against float64 (above {SENSITIVE_LOGIT_ERROR:.0e})")
    if label_agreement_floor < SENSITIVE_LABEL_AGREEMENT:
        reasons.append(f"float32 labels agree with float64 on only {label_agreement_floor:.4%} of "
                       f"pixels (below {SENSITIVE_LABEL_AGREEMENT:.1%})")
    return Sensitivity(bool(reasons), tuple(reasons), logit_floor, label_agreement_floor)


def sensitivity_warning(sensitivity: Sensitivity) -> str:
    return ("WARNING: this checkpoint is sensitive to float32 rounding: "
            + "; ".join(sensitivity.reasons)
            + ". FP16 / INT8 figures must be read against this floor (recorded in the manifest).")


def as_float64(feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Floating inputs widened exactly to float64; integer and boolean ones unchanged."""
    return {k: v.astype(np.float64) if np.issubdtype(v.dtype, np.floating) else v
            for k, v in feed.items()}


def float64_module(module: torch.nn.Module) -> torch.nn.Module:
    """A float64 copy of one subgraph (the original stays float32)."""
    return copy.deepcopy(module).double().eval()


@contextmanager
def float64_copy(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """A float64 copy of one subgraph for as long as it is needed; freed (and the heap trimmed)
    after, so only one graph is ever held in float64."""
    wide = float64_module(module)
    try:
        yield wide
    finally:
        del wide
        release_memory()


def release_memory() -> None:
    """Hand freed pages back to the system: full-size float64 copies come and go."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
