"""Bars per precision, judged on the float32 noise floor.

FP32 deployments are judged as export judges its graphs: against the float64 reference, each
figure's disagreement within FLOOR_MULTIPLE times the float32 reference's own disagreement with
float64, plus a small allowance; each tensor within its graph's parity bar. FP16, INT8, mixed and bf16
deployments are judged against the float32 reference (what users compare to), each bar relaxed by
FLOOR_MULTIPLE times the float32 reference's own distance from float64 (a lowered pipeline cannot
be asked to agree with float32 better than float32 agrees with the truth). Their bars are written
into the manifest by `quantize` (`precisions.<p>.check_thresholds`); bf16, a runtime precision with
no `quantize` entry, takes FP16's; `--threshold METRIC=VALUE` overrides one, used as given.

A figure that is NaN fails whatever its bar. A fraction's bar at or below 0, or above 1, cannot
tell a right answer from a wrong one (float32's own disagreement with float64 was so large that
FLOOR_MULTIPLE times it leaves no room): such a verdict is "not judgeable here", reported with the
floor that made it so, never as passed. Values NaN or Inf where float64 is finite are a verdict
of their own (`tensor.nonfinite`, bar 0), at every precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from frozenseg_export.check.choices import (
    AGREEMENT_METRIC_NAMES,
    DROP_METRICS,
    METRICS,
    NONFINITE_METRIC,
    TENSOR_METRIC,
)
from frozenseg_export.noise_floor import FLOOR_MULTIPLE, LABEL_ALLOWANCE, PANOPTIC_ALLOWANCE
from frozenseg_runtime.errors import UsageError

# Agreement figures (higher is better, at most 1) and their floor allowance for FP32; the names
# (choices.py) are what the command line offers.
AGREEMENT_METRICS: dict[str, float] = {
    "semantic.label_agreement": LABEL_ALLOWANCE,
    "semantic.mean_class_iou": PANOPTIC_ALLOWANCE,
    "panoptic.pq": PANOPTIC_ALLOWANCE,
    "instance.matched_fraction": PANOPTIC_ALLOWANCE,
    "instance.mean_matched_iou": PANOPTIC_ALLOWANCE,
    "instance.class_agreement": PANOPTIC_ALLOWANCE,
    "queries.top1_agreement": PANOPTIC_ALLOWANCE,
}
assert tuple(AGREEMENT_METRICS) == AGREEMENT_METRIC_NAMES
# DROP_METRICS: how far the deployed pipeline's task metric may fall below the reference's (ground
# truth). TENSOR_METRIC (FP32 only): the worst error over its parity bar over every output.

DEFAULT_BARS: dict[str, dict[str, float]] = {
    "fp16": {"semantic.label_agreement": 0.995, "semantic.mean_class_iou": 0.97, "panoptic.pq": 0.95,
             "instance.matched_fraction": 0.95, "instance.mean_matched_iou": 0.97,
             "instance.class_agreement": 0.97, "queries.top1_agreement": 0.99,
             "task.miou_drop": 0.005, "task.pq_drop": 0.01},
    "int8": {"semantic.label_agreement": 0.98, "semantic.mean_class_iou": 0.90, "panoptic.pq": 0.85,
             "instance.matched_fraction": 0.85, "instance.mean_matched_iou": 0.90,
             "instance.class_agreement": 0.90, "queries.top1_agreement": 0.95,
             "task.miou_drop": 0.02, "task.pq_drop": 0.03},
}
# bf16 (the image encoders in bfloat16 on OpenVINO, runtime/manifest.py) has no `quantize` entry in
# the manifest: it is judged by FP16's bars. bfloat16 keeps 8 mantissa bits to FP16's 11, but only
# the encoders are lowered and their features feed a float32 decoder.
DEFAULT_BARS["bf16"] = dict(DEFAULT_BARS["fp16"])
FP32_DROP_BARS = {"task.miou_drop": 0.001, "task.pq_drop": 0.002}


def default_bars(precision: str, graph_precisions: Mapping[str, str] | None = None) -> dict[str, float]:
    """`quantize`'s defaults for the manifest: mixed takes INT8's bars when any graph is INT8."""
    if precision == "mixed":
        precision = "int8" if "int8" in (graph_precisions or {}).values() else "fp16"
    return dict(DEFAULT_BARS[precision])


def parse_overrides(items: list[str]) -> dict[str, float]:
    """`METRIC=VALUE` pairs from the command line."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in METRICS:
            raise UsageError(f"--threshold takes METRIC=VALUE with METRIC one of {', '.join(METRICS)}; got {item!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--threshold {item!r}: {value!r} is not a number") from None
        if name.strip() in AGREEMENT_METRICS and not 0.0 < out[name.strip()] <= 1.0:
            raise UsageError(f"--threshold {item!r}: {name.strip()} is a fraction; its bar must lie in (0, 1] "
                             f"(a bar outside cannot tell a right answer from a wrong one)")
    return out


PASSED, FAILED, NOT_JUDGEABLE = "passed", "failed", "not judgeable here"


@dataclass(frozen=True)
class Verdict:
    metric: str
    value: float
    bar: float
    kind: str  # "min": value >= bar passes; "max": value <= bar passes
    source: str  # where the bar came from
    against: str  # what the value was measured against
    fraction: bool = False  # the figure lies in [0, 1]: a bar outside (0, 1] cannot judge it
    detail: str = ""  # what the message adds (the first non-finite node)

    @property
    def status(self) -> str:
        if math.isnan(self.value) or math.isnan(self.bar):
            return FAILED
        if self.fraction and self.kind == "min" and not 0.0 < self.bar <= 1.0:
            return NOT_JUDGEABLE
        ok = self.value >= self.bar if self.kind == "min" else self.value <= self.bar
        return PASSED if ok else FAILED

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def message(self) -> str:
        status = self.status
        if status == NOT_JUDGEABLE:
            return (f"{self.metric} {self.value:.6g} is not judgeable here: its bar {self.bar:.6g} "
                    f"{'cannot fail' if self.bar <= 0 else 'cannot be met'} ({self.source}; measured against "
                    f"{self.against})")
        if math.isnan(self.value):
            word = "is NaN, which no bar passes:"
        elif status == PASSED:
            word = "meets" if self.value == self.bar else ("is above" if self.kind == "min" else "is below")
        else:
            word = "is below" if self.kind == "min" else "is above"
        return (f"{self.metric} {self.value:.6g} {word} its bar {self.bar:.6g} "
                f"({self.source}; measured against {self.against})" + (f"; {self.detail}" if self.detail else ""))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "status": self.status}


def judge(precision: str, figures: Mapping[str, Mapping[str, Any]], manifest_bars: Mapping[str, float] | None,
          overrides: Mapping[str, float]) -> list[Verdict]:
    """Every figure that has a bar. `figures` holds `vs_float32`, `vs_float64` and `floor`
    (float32 reference vs float64), plus `drops` (ground truth) and `tensor` (floor margin)."""
    verdicts = []
    lowered = precision != "fp32"
    base = dict(manifest_bars or {})
    source = "manifest" if manifest_bars else "built-in default"
    if lowered and not base:
        base = default_bars(precision)
    for metric, allowance in AGREEMENT_METRICS.items():
        if metric not in figures["vs_float32"]:
            continue
        floor = figures["floor"][metric]
        if metric in overrides:
            bar, src = overrides[metric], "--threshold"
        elif lowered:
            bar = max(0.0, base[metric] - FLOOR_MULTIPLE * (1.0 - floor))
            src = f"{source} {base[metric]:.6g} relaxed by the float32 floor {floor:.6g}"
        else:
            bar = 1.0 - (FLOOR_MULTIPLE * (1.0 - floor) + allowance)
            src = f"float32 floor {floor:.6g}: {FLOOR_MULTIPLE:g}x its disagreement + {allowance:g}"
        against = "the float32 reference" if lowered else "the float64 reference"
        value = figures["vs_float32" if lowered else "vs_float64"][metric]
        verdicts.append(Verdict(metric, value, bar, "min", src, against, fraction=True))
    for metric in DROP_METRICS:
        if metric in figures.get("drops", {}):
            bar = overrides.get(metric, base.get(metric, FP32_DROP_BARS[metric]) if lowered
                                else FP32_DROP_BARS[metric])
            src = "--threshold" if metric in overrides else (source if lowered else "fp32 default")
            verdicts.append(Verdict(metric, figures["drops"][metric], bar, "max", src,
                                    "the ground truth (reference's metric minus deployed's)"))
    if "tensor" in figures and NONFINITE_METRIC in figures["tensor"]:
        nonfinite = figures["tensor"][NONFINITE_METRIC]
        verdicts.append(Verdict(NONFINITE_METRIC, float(nonfinite["count"]), 0.0, "max",
                                "no NaN or Inf where the reference is finite, at any precision",
                                "the float64 reference, every output" + (
                                    f"; first in {nonfinite['output']}" if nonfinite.get("output") else ""),
                                detail=nonfinite.get("first_node") or ""))
    if "tensor" in figures and (not lowered or TENSOR_METRIC in overrides):
        bar = overrides.get(TENSOR_METRIC, 1.0)
        verdicts.append(Verdict(TENSOR_METRIC, figures["tensor"][TENSOR_METRIC], bar, "max",
                                "--threshold" if TENSOR_METRIC in overrides else "each graph's parity bar",
                                f"the float64 reference, per output; worst {figures['tensor']['worst_output']}"))
    return verdicts
