"""check's bars: FP32 on the float64 floor, lowered precisions on their manifest bars relaxed by
the floor, overrides as given; and the tensor figure each bar judges."""

from __future__ import annotations

import numpy as np
import pytest

from frozenseg_export.check.tensors import judged_error
from frozenseg_export.check.thresholds import DEFAULT_BARS, default_bars, judge, parse_overrides
from frozenseg_runtime.errors import UsageError


def _figures(value32: float, value64: float, floor: float, margin: float = 0.5) -> dict:
    return {"vs_float32": {"semantic.label_agreement": value32},
            "vs_float64": {"semantic.label_agreement": value64},
            "floor": {"semantic.label_agreement": floor},
            "tensor": {"tensor.floor_margin": margin, "worst_output": "decoder/pred_masks"}}


def test_fp32_is_judged_against_float64_within_four_floors():
    # floor: float32 disagrees with float64 on 0.1% of pixels -> bar 1 - (4 * 0.001 + 1e-4)
    (label, tensor) = judge("fp32", _figures(0.90, 0.9962, 0.999), None, {})
    assert label.bar == pytest.approx(1 - 0.0041) and label.passed
    assert label.value == 0.9962 and "float64" in label.against
    assert tensor.metric == "tensor.floor_margin" and tensor.passed and "decoder/pred_masks" in tensor.against
    (label, tensor) = judge("fp32", _figures(1.0, 0.9950, 0.999, margin=1.5), None, {})
    assert not label.passed and not tensor.passed
    assert "semantic.label_agreement 0.995 is below its bar 0.9959" in label.message()


def test_lowered_precisions_use_the_manifest_bar_relaxed_by_the_floor():
    (label,) = judge("int8", _figures(0.977, 0.5, 0.999), {"semantic.label_agreement": 0.98}, {})
    assert label.bar == pytest.approx(0.98 - 4 * 0.001) and label.passed  # 0.976
    assert "manifest" in label.source and "float32 reference" in label.against
    (label,) = judge("int8", _figures(0.977, 0.5, 1.0), {"semantic.label_agreement": 0.98}, {})
    assert not label.passed  # no floor to hide behind
    (label,) = judge("fp16", _figures(0.996, 0.5, 1.0), None, {})  # an older manifest: built-in bars
    assert label.bar == DEFAULT_BARS["fp16"]["semantic.label_agreement"] and "built-in" in label.source


def test_bf16_takes_fp16_bars_against_float32():
    """bf16 (a runtime precision: no `quantize` entry in the manifest) is judged as FP16 is."""
    assert DEFAULT_BARS["bf16"] == DEFAULT_BARS["fp16"]
    (label,) = judge("bf16", _figures(0.996, 0.5, 0.999), None, {})
    assert label.bar == pytest.approx(DEFAULT_BARS["fp16"]["semantic.label_agreement"] - 4 * 0.001)
    assert label.passed and "built-in" in label.source and "float32 reference" in label.against


def test_overrides_are_used_as_given():
    overrides = parse_overrides(["semantic.label_agreement=0.5", "tensor.floor_margin=3"])
    label, tensor = judge("fp32", _figures(1.0, 0.6, 0.9, margin=2.0), None, overrides)
    assert label.bar == 0.5 and label.passed and label.source == "--threshold"
    assert tensor.bar == 3 and tensor.passed
    for bad in ("semantic.label=0.5", "semantic.label_agreement", "panoptic.pq=high"):
        with pytest.raises(UsageError):
            parse_overrides([bad])


def test_ground_truth_drops_are_judged_as_maxima():
    figures = {**_figures(1.0, 1.0, 1.0), "drops": {"task.miou_drop": 0.03}}
    verdicts = {v.metric: v for v in judge("int8", figures, default_bars("int8"), {})}
    drop = verdicts["task.miou_drop"]
    assert drop.kind == "max" and drop.bar == DEFAULT_BARS["int8"]["task.miou_drop"] and not drop.passed
    assert "is above its bar" in drop.message()


def test_mixed_takes_int8_bars_only_when_a_graph_is_int8():
    assert default_bars("mixed", {"sam_image": "int8", "decoder": "fp16"}) == DEFAULT_BARS["int8"]
    assert default_bars("mixed", {"sam_image": "fp16", "decoder": "fp32"}) == DEFAULT_BARS["fp16"]


def test_decoder_outputs_are_judged_by_their_median_query():
    truth = np.ones((5, 4, 4))
    value = truth.copy()
    value[0] += 0.5  # one query stepped across a threshold
    value[1:] += 1e-6
    assert judged_error(value, truth, per_query=True) == pytest.approx(1e-6)
    assert judged_error(value, truth, per_query=False) == pytest.approx(0.5)
    value[:] = truth + 1e-3  # a wrong weight moves every query
    assert judged_error(value, truth, per_query=True) == pytest.approx(1e-3)


def test_a_nan_figure_passes_no_bar():
    (label, tensor) = judge("fp32", _figures(float("nan"), float("nan"), 0.999, margin=float("nan")), None, {})
    assert label.failed and tensor.failed
    assert "is NaN, which no bar passes" in label.message()
    (label, _) = judge("fp32", _figures(1.0, float("nan"), 0.999), None, {"semantic.label_agreement": 0.0})
    assert label.failed  # even against a bar of 0


def test_a_bar_that_cannot_fail_is_not_judgeable_never_passed():
    """float32 disagreeing with float64 on half the classes puts FP32's bar below 0: any value
    would meet it, so it is reported as not judgeable, with the floor that made it so."""
    (label, _) = judge("fp32", _figures(0.2, 0.2, 0.5), None, {})
    assert label.bar < 0 and label.status == "not judgeable here" and not label.passed and not label.failed
    message = label.message()
    assert "not judgeable here" in message and "cannot fail" in message and "float32 floor 0.5" in message
    (label,) = judge("int8", _figures(0.0, 0.0, 0.5), {"semantic.label_agreement": 0.98}, {})
    assert label.bar == 0.0 and label.status == "not judgeable here"  # relaxed to nothing
    (label, _) = judge("fp32", _figures(1.0, 1.0, 0.5), None, {"semantic.label_agreement": 1.5})
    assert label.status == "not judgeable here" and "cannot be met" in label.message()
    for typo in ("semantic.label_agreement=95", "panoptic.pq=0", "queries.top1_agreement=-0.1"):
        with pytest.raises(UsageError, match="fraction"):  # refused on the command line
            parse_overrides([typo])


def test_nonfinite_values_are_a_verdict_of_their_own():
    figures = _figures(1.0, 1.0, 1.0)
    figures["tensor"]["tensor.nonfinite"] = {"count": 12, "output": "decoder/class_probs",
                                             "first_node": "first non-finite node: Div 'node_div_78' in decoder"}
    verdicts = {v.metric: v for v in judge("fp16", figures, None, {})}
    nonfinite = verdicts["tensor.nonfinite"]
    assert nonfinite.failed and nonfinite.bar == 0
    assert "decoder/class_probs" in nonfinite.message() and "Div 'node_div_78'" in nonfinite.message()
    figures["tensor"]["tensor.nonfinite"] = {"count": 0}
    assert {v.metric: v for v in judge("fp32", figures, None, {})}["tensor.nonfinite"].passed
