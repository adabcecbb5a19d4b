"""FP16 and INT8 graphs of the tiny preset: structure, accuracy against the bars, caching."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from frozenseg_export.precision import int8 as int8_graph
from frozenseg_export.precision.accuracy import BARS
from frozenseg_export.precision.feeds import CalibrationImageError
from frozenseg_export.precision.floor import effective_bars
from frozenseg_export.precision.run import (
    QuantizeError,
    QuantizeOptions,
    run_quantize,
)
from frozenseg_runtime import graphs
from frozenseg_runtime.manifest import ArtifactError, ManifestError, load_manifest, verify_artifacts
from frozenseg_runtime.segmenter import Segmenter

FLOAT16 = onnx.TensorProto.FLOAT16


def test_manifest_lists_every_precision_with_verified_files(tiny_quantized):
    out, *_ = tiny_quantized
    manifest = load_manifest(out)
    assert manifest.precisions == ("fp32", "fp16", "int8", "mixed")
    for precision in ("fp16", "int8", "mixed"):
        lowered = manifest.with_precision(precision)
        verify_artifacts(lowered)
        for name, spec in lowered.graphs.items():
            assert spec.inputs == manifest.graphs[name].inputs  # I/O contract unchanged
            assert spec.file != manifest.graphs[name].file or spec.precision == "fp32"
    mixed = manifest.with_precision("mixed")
    assert {n: s.precision for n, s in mixed.graphs.items()} == {
        graphs.CLIP_IMAGE: "fp16", graphs.SAM_IMAGE: "int8", graphs.CLIP_TEXT: "fp16", graphs.DECODER: "fp16"}


def test_fp16_and_mixed_meet_their_bars(tiny_quantized):
    _, _, precisions, _ = tiny_quantized
    for precision, bars in (("fp16", BARS["fp16"]), ("mixed", BARS["int8"])):
        e2e = precisions[precision]["end_to_end"]
        assert e2e["label_agreement"] >= bars["label_agreement"], (precision, e2e)
        assert e2e["mask_iou"] >= bars["mask_iou"], (precision, e2e)
        assert e2e["passes"]
    # All-INT8 is measured and recorded whether or not it meets the bars (see precision_report.md).
    int8 = precisions["int8"]["end_to_end"]
    assert 0.0 < int8["label_agreement"] <= 1.0 and 0.0 < int8["mask_iou"] <= 1.0
    bars = int8["effective_bars"]
    assert int8["passes"] == (int8["label_agreement"] >= bars["label_agreement"]
                              and int8["mask_iou"] >= bars["mask_iou"])


def test_figures_stand_beside_the_float32_floor(tiny_quantized):
    _, _, precisions, messages = tiny_quantized
    floors = [entry["end_to_end"]["float32_floor"] for entry in precisions.values()]
    assert all(f == floors[0] for f in floors), "one floor, measured once on the same images"
    assert 0.99 <= floors[0]["label_agreement"] <= 1.0 and 0.99 <= floors[0]["mask_iou"] <= 1.0
    for p, entry in precisions.items():
        e2e = entry["end_to_end"]
        assert e2e["effective_bars"] == effective_bars(entry["bars"], e2e["float32_floor"])
        assert 0.0 < e2e["vs_float64"]["label_agreement"] <= 1.0
        assert 0.0 < e2e["vs_float64"]["mask_iou"] <= 1.0
    assert any("float32 noise floor" in m for m in messages)


def test_per_graph_errors_are_recorded_and_small(tiny_quantized, int8_saturates):
    _, _, precisions, _ = tiny_quantized
    for name, entry in precisions["fp16"]["graphs"].items():
        assert max(entry["errors_vs_fp32"].values()) < 2e-2, name
        assert set(entry["fp32_islands"]["trials"]) <= {
            "normalization", "softmax", "sampling_locations", "resize", "positional", "last_stage"}
    # ONNX Runtime's S8S8 kernels saturate on x86 CPUs without VNNI (conftest's int8_saturates): there
    # the tiny INT8 text graph is ~57% off, the same before issue 22; with VNNI every graph is < 0.3.
    bound = 1.0 if int8_saturates else 0.3
    for name, entry in precisions["int8"]["graphs"].items():
        assert 0 < max(entry["errors_vs_fp32"].values()) < bound, name
        assert entry["int8_nodes"] > 0



def test_fp16_graph_is_fp16_with_fp32_io_and_islands(tiny_quantized):
    out, _, precisions, _ = tiny_quantized
    checked = 0
    for name in graphs.GRAPHS:
        entry = precisions["fp16"]["graphs"][name]
        model = onnx.load(out / entry["file"])
        floats = [i for i in model.graph.initializer if i.data_type in (FLOAT16, onnx.TensorProto.FLOAT)]
        assert sum(i.data_type == FLOAT16 for i in floats) > len(floats) // 2, name
        for value in list(model.graph.input) + list(model.graph.output):
            assert value.type.tensor_type.elem_type != FLOAT16, (name, value.name)
        # Nodes kept FP32 (measured islands and the compatibility ops) compute in FP32.
        typed = onnx.shape_inference.infer_shapes(model)
        dtype = {v.name: v.type.tensor_type.elem_type for v in typed.graph.value_info}
        fp32 = set(entry["fp32_islands"]["nodes"]) | {
            n.name for n in model.graph.node if n.op_type in entry["compatibility_fp32_ops"]}
        for node in model.graph.node:
            if node.name in fp32:
                for output in node.output:
                    assert dtype.get(output) != FLOAT16, (name, node.name, output)
                    checked += dtype.get(output) == onnx.TensorProto.FLOAT
    assert checked > 0, "some FP32 island or compatibility node was checked"


def test_int8_graph_is_symmetric_per_channel_qdq(tiny_quantized):
    out, _, precisions, _ = tiny_quantized
    for name in graphs.GRAPHS:
        entry = precisions["int8"]["graphs"][name]
        model = onnx.load(out / entry["file"])
        inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
        q_nodes = [n for n in model.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")]
        assert q_nodes, name
        per_channel = 0
        for node in q_nodes:
            zero_point = inits.get(node.input[2]) if len(node.input) > 2 else None
            assert zero_point is None or (zero_point.dtype == np.int8 and not zero_point.any()), node.name
            per_channel += inits.get(node.input[1], np.zeros(1)).size > 1
        assert per_channel > 0, f"{name}: weights are quantized per channel"
        dq_outputs = {o for n in model.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
        producer = {o: n for n in model.graph.node for o in n.output}
        quantizable = {"Conv", "MatMul", "Gemm"}
        for node in model.graph.node:  # each Q/DQ pair sits at a Conv/MatMul/Gemm input or output
            if node.op_type != "DequantizeLinear":
                continue
            readers = {n.op_type for n in model.graph.node if node.output[0] in n.input}
            q = producer.get(node.input[0])
            source = producer.get(q.input[0]) if q is not None else None
            assert readers & quantizable or (source is not None and source.op_type in quantizable), (
                name, node.name, readers)
        excluded = set(entry["excluded_nodes"]["nodes"])
        for node in model.graph.node:
            if node.name in excluded:
                assert not set(node.input) & dq_outputs, f"{name}: excluded {node.name} was quantized"


def test_calibration_progress_and_cache_by_content(tiny_quantized):
    out, calibration, precisions, messages = tiny_quantized
    assert any("calibrating on input 2/2" in m for m in messages)
    cache = out / "calibration-cache"
    files = sorted(cache.glob("*.json"))
    assert {f.name.split("-")[0] for f in files} == set(graphs.GRAPHS)
    key = int8_graph.calibration_cache_path(cache, "sam_image", "a" * 64, "b" * 64)
    assert key != int8_graph.calibration_cache_path(cache, "sam_image", "a" * 64, "c" * 64)
    assert key != int8_graph.calibration_cache_path(cache, "sam_image", "d" * 64, "b" * 64)
    # A second INT8 run over the same graphs and images reads the cached ranges (and clears
    # what a killed run would have left behind).
    (out / "frozenseg-int8-killed").mkdir()
    (out / ".decoder.int8.onnx.tmp").write_bytes(b"partial")
    again: list[str] = []
    run_quantize(out, QuantizeOptions(precisions=("int8",), calibration_images=str(calibration),
                                      calibration_count=2, eval_count=1), say=again.append)
    assert not any("calibrating on input" in m for m in again)
    assert sum("ranges from cache" in m for m in again) >= len(graphs.GRAPHS)
    assert not (out / "frozenseg-int8-killed").exists() and not (out / ".decoder.int8.onnx.tmp").exists()
    assert json.loads((out / "manifest.json").read_text())["precisions"]["fp16"]  # kept


def test_report_written(tiny_quantized):
    out, *_ = tiny_quantized
    text = (out / "precision_report.md").read_text()
    assert "| fp16 |" in text and "| int8 |" in text and "| mixed |" in text
    from PIL import Image

    with Image.open(out / "precision_report.png") as im:
        # image, FP32 labels, then one column per precision measured in the latest run
        assert im.width >= 3 * 300 and im.height > 100


def test_segmenter_runs_each_precision(tiny_quantized, sample_image):
    out, *_ = tiny_quantized
    labels = {}
    for precision in ("fp32", "fp16", "int8", "mixed"):
        with Segmenter.from_artifacts(out, backend="onnxruntime-cpu", cache_dir="",
                                      precision=precision) as seg:
            expected = graphs.mixed_default() if precision == "mixed" else dict.fromkeys(graphs.GRAPHS, precision)
            assert {n: g.precision for n, g in seg.manifest.graphs.items()} == expected
            seg.set_vocabulary("person,sky,tree,car,grass,road,dog,wall")
            labels[precision] = seg.segment(sample_image).semantic_labels
    assert (labels["fp16"] == labels["fp32"]).mean() > 0.95


def test_bad_requests_are_typed_errors(tiny_artifacts, tiny_quantized, tmp_path):
    out, *_ = tiny_quantized
    with pytest.raises(QuantizeError, match="calibration-images"):
        run_quantize(out, QuantizeOptions(precisions=("int8",)), say=lambda m: None)
    with pytest.raises(QuantizeError, match="unknown precision"):
        run_quantize(out, QuantizeOptions(precisions=("int4",)), say=lambda m: None)
    with pytest.raises(QuantizeError, match="--mixed"):
        run_quantize(out, QuantizeOptions(precisions=("mixed",), mixed={"decoder": "int8"}),
                     say=lambda m: None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CalibrationImageError, match="holds no images"):
        run_quantize(out, QuantizeOptions(precisions=("int8",), calibration_images=str(tmp_path / "empty")),
                     say=lambda m: None)
    with pytest.raises(ManifestError, match="frozenseg-deploy quantize"):
        load_manifest(tiny_artifacts[0]).with_precision("int8")


def test_tampered_lowered_graph_is_refused(tiny_quantized, tmp_path):
    import shutil

    out, *_ = tiny_quantized
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    entry = load_manifest(copy).with_precision("fp16").graphs["decoder"]
    with open(copy / entry.file, "ab") as f:
        f.write(b"\0")
    verify_artifacts(load_manifest(copy))  # the FP32 graphs are untouched
    with pytest.raises(ArtifactError, match="sha256"):
        Segmenter.from_artifacts(copy, backend="onnxruntime-cpu", cache_dir="", precision="fp16")
