"""The image encoders' schedule: the rule (schedule.py), and the same answers either way."""

from __future__ import annotations

import numpy as np
import pytest

from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.schedule import MANY_CORES, plan_encoders
from frozenseg_runtime.segmenter import Segmenter


@pytest.mark.parametrize(("backend", "cores", "expected"), [
    ("onnxruntime-cpu", 2, "sequential"), ("onnxruntime-cpu", MANY_CORES - 1, "sequential"),
    ("onnxruntime-cpu", MANY_CORES, "concurrent"), ("onnxruntime-cuda", 2, "concurrent"),
    ("onnxruntime-trt", 1, "concurrent"), ("tensorrt", 2, "concurrent"),
    ("openvino-cpu", 2, "sequential"), ("openvino-cpu", MANY_CORES, "concurrent"),
])
def test_auto_overlaps_the_encoders_on_a_gpu_or_a_large_cpu(backend, cores, expected):
    assert plan_encoders("auto", backend, None, cores).schedule == expected


def test_overlapping_encoders_split_the_cores_unless_told_the_threads():
    assert plan_encoders("concurrent", "onnxruntime-cpu", None, 16).image_threads == 8
    assert plan_encoders("concurrent", "onnxruntime-cpu", 3, 16).image_threads == 3
    assert plan_encoders("concurrent", "onnxruntime-cpu", None, 1).image_threads == 1
    assert plan_encoders("sequential", "onnxruntime-cpu", None, 16).image_threads is None
    assert plan_encoders("concurrent", "onnxruntime-cuda", None, 16).image_threads is None
    assert plan_encoders("concurrent", "openvino-cpu", None, 16).image_threads == 8


def test_unknown_schedule_is_a_usage_error():
    with pytest.raises(UsageError, match="auto, concurrent, sequential"):
        plan_encoders("parallel", "onnxruntime-cpu")


def test_both_schedules_give_identical_features(tiny_artifacts):
    folder = tiny_artifacts[0]
    image = (np.arange(96 * 128 * 3) % 251).astype(np.uint8).reshape(96, 128, 3)
    features = {}
    for schedule in ("sequential", "concurrent"):
        with Segmenter.from_artifacts(folder, backend="onnxruntime-cpu", cache_dir="", threads=1,
                                      encoder_schedule=schedule) as seg:
            assert seg.encoder_plan.schedule == schedule
            timings: dict[str, float] = {}
            features[schedule] = seg.encode_image(seg.prepare(image), timings)
            assert set(timings) == {"clip_image", "sam_image"}
    assert features["sequential"].keys() == features["concurrent"].keys()
    for name, value in features["sequential"].items():
        np.testing.assert_array_equal(value, features["concurrent"][name])
