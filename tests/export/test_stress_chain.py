"""The whole chain on weights whose statistics look trained (issue 22): export with verification
(the session's stress export), quantize, segment in Python and C++, and check, all finite.

The full preset's stress export runs in the slow test at the end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from required import require_cpp_library, require_openvino

from frozenseg_export.check.run import CheckOptions, run_check
from frozenseg_export.synthetic_images import edge_images, structured_images
from frozenseg_runtime.manifest import load_manifest
from frozenseg_runtime.segmenter import Segmenter

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = Path(os.environ.get("FS_CPP_BUILD", ROOT / "build")) / "libfrozenseg.so"
VOCABULARY = ROOT / "samples" / "vocabulary.json"


def _images() -> list[np.ndarray]:
    return structured_images(1, seed=21) + edge_images()


def test_export_records_the_stress_weights_and_their_guards(tiny_stress_artifacts):
    out, messages = tiny_stress_artifacts
    manifest = load_manifest(out)
    assert manifest.raw["weights"] == {"source": "synthetic", "seed": 0, "mode": "stress"}
    for graph, entry in manifest.raw["graphs"].items():
        assert entry["guards"]["missing"] == [], graph
        assert all(p["passed"] and p["nonfinite"] is None for p in entry["parity_onnxruntime_cpu"]), graph
    assert any("guard constants" in m and "all kept" in m for m in messages)


def test_quantize_on_stress_weights_is_finite_and_keeps_its_guards(stress_quantized):
    _, _, precisions, messages = stress_quantized
    for precision in ("fp16", "int8"):
        for graph, entry in precisions[precision]["graphs"].items():
            assert entry["guards"]["missing"] == [], (precision, graph)
            assert all(np.isfinite(v) for v in entry["edge_errors_vs_fp32"].values()), (precision, graph)
            assert all(np.isfinite(v) for v in entry["errors_vs_fp32"].values()), (precision, graph)
    assert sum("every output finite where FP32's is" in m for m in messages) == 8  # 4 graphs x 2


@pytest.mark.parametrize("precision, backend", [
    ("fp32", "onnxruntime-cpu"), ("fp16", "onnxruntime-cpu"), ("int8", "onnxruntime-cpu"), ("mixed", "onnxruntime-cpu"),
    ("int8", "openvino-cpu"), ("mixed", "openvino-cpu"),  # quantize's files on OpenVINO since stop 33
])
def test_python_runtime_answers_are_finite(stress_quantized, precision, backend):
    if backend == "openvino-cpu":
        require_openvino()
    out, _, _, _ = stress_quantized
    manifest = load_manifest(out).with_precision(precision)
    with Segmenter.open(manifest, backend=backend, cache_dir="") as seg:
        state = seg.encode_vocabulary(VOCABULARY.read_text())
        for image in _images():
            prepared = seg.prepare(image)
            raw = seg.decode(seg.encode_image(prepared), state)
            for name, value in raw.items():
                assert np.isfinite(value).all(), (precision, name)
            result = seg.postprocess(raw, prepared, "panoptic", state.vocabulary)
            assert result.panoptic_seg.shape == image.shape[:2]


@pytest.mark.parametrize("precision, backend", [
    ("fp32", "onnxruntime-cpu"),
    ("int8", "openvino-cpu"),  # quantize's Q/DQ files as OpenVINO runs them (INT8 products, VNNI)
])
def test_cpp_library_answers_match_python_on_stress_weights(stress_quantized, precision, backend):
    from frozenseg_export.check.deployed import vocabulary_json
    from frozenseg_export.cpp_library import CppSegmenter

    library = require_cpp_library(LIBRARY, backend)
    out, _, _, _ = stress_quantized
    manifest = load_manifest(out).with_precision(precision)
    with Segmenter.open(manifest, backend=backend, cache_dir="") as seg:
        seg.set_vocabulary(VOCABULARY.read_text())
        state = seg.encode_vocabulary(VOCABULARY.read_text())  # from the memory cache
        cpp = CppSegmenter(library, out, backend, precision)
        try:
            cpp.set_vocabulary(vocabulary_json(state.vocabulary))
            resize = tuple(manifest.constants["preprocessing"][k] for k in ("resize_short", "resize_max"))
            for image in _images():
                python = seg.segment(image, task="semantic")
                native = cpp.segment_result(image, resize, "semantic")
                agreement = float((python.semantic_labels == native.semantic_labels).mean())
                assert agreement > 0.999, agreement
        finally:
            cpp.close()


@pytest.fixture(scope="module")
def stress_check_images(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stress-check-images")
    for i, image in enumerate(_images()):
        Image.fromarray(image).save(folder / f"image{i}.png")
    return folder


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_check_on_stress_weights(stress_quantized, stress_check_images, tmp_path_factory, precision):
    """Every precision is finite where the reference is: `tensor.nonfinite` 0 and no NaN figure
    in the report or among the verdicts. FP32 also meets every bar. The lowered precisions' bars
    are check's to report, not this test's to pin: on these weights FP16 flips one query's top-1
    class of 36 (queries.top1_agreement 0.972 against 0.99), a near tie that stress weights' sharp
    logits make; see the issue 22 note."""
    cache = tmp_path_factory.getbasetemp() / "stress-reference-cache"  # PyTorch runs once for all three
    outcome = run_check(CheckOptions(artifacts=str(stress_quantized[0]), images=(str(stress_check_images),),
                                     backend="onnxruntime-cpu", vocabulary=str(VOCABULARY), precision=precision,
                                     reference_cache=str(cache), tasks=("semantic", "panoptic")),
                        say=lambda _: None)
    verdicts = {v.metric: v for v in outcome.verdicts}
    assert verdicts["tensor.nonfinite"].value == 0 and verdicts["tensor.nonfinite"].passed
    assert json.dumps(outcome.report, allow_nan=False)  # no NaN figure anywhere in the report
    assert all(np.isfinite(v.value) for v in outcome.verdicts)
    if precision == "fp32":
        assert outcome.passed, outcome.failures()


@pytest.mark.slow
def test_full_preset_stress_export_passes_with_verification(tmp_path):
    from frozenseg_export.onnx.run import ExportOptions, run_export

    messages: list[str] = []
    out = run_export(tmp_path / "full-stress", ExportOptions(synthetic="stress", verify_images=1),
                     say=messages.append)
    manifest = load_manifest(out)
    for graph, entry in manifest.raw["graphs"].items():
        assert entry["guards"]["missing"] == [], graph
        assert all(p["passed"] for p in entry["parity_onnxruntime_cpu"]), graph
    assert all(f["passed"] for f in manifest.raw["parity_chained_onnxruntime_cpu"].values())
