"""FP16 and INT8 graphs of the tiny preset: structure, accuracy against the bars, caching."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from required import require_cpp_library

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


def test_calibration_progress_and_cache_by_content(tiny_quantized, tmp_path):
    quantized, calibration, precisions, messages = tiny_quantized
    assert any("calibrating on input 2/2" in m for m in messages)
    cache = quantized / "calibration-cache"
    files = sorted(cache.glob("*.json"))
    assert {f.name.split("-")[0] for f in files} == set(graphs.GRAPHS)
    key = int8_graph.calibration_cache_path(cache, "sam_image", "a" * 64, "b" * 64)
    assert key != int8_graph.calibration_cache_path(cache, "sam_image", "a" * 64, "c" * 64)
    assert key != int8_graph.calibration_cache_path(cache, "sam_image", "d" * 64, "b" * 64)
    # A second INT8 run over the same graph and images (on a copy, one graph: the text encoder,
    # the quickest to search) reads the cached ranges, and clears what a killed run left behind.
    out = tmp_path / "artifacts"
    shutil.copytree(quantized, out)
    (out / "frozenseg-int8-killed").mkdir()
    (out / ".decoder.int8.onnx.tmp").write_bytes(b"partial")
    again: list[str] = []
    one_graph = {**dict.fromkeys(graphs.GRAPHS, "fp32"), graphs.CLIP_TEXT: "int8"}
    run_quantize(out, QuantizeOptions(precisions=("mixed",), mixed=one_graph, calibration_images=str(calibration),
                                      calibration_count=2, eval_count=1), say=again.append)
    assert not any("calibrating on input" in m for m in again)
    assert [m for m in again if "ranges from cache" in m] == [
        f"{graphs.CLIP_TEXT} int8: calibration ranges from cache {next(cache.glob(graphs.CLIP_TEXT + '-*')).name}"]
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

    out, *_ = tiny_quantized
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    entry = load_manifest(copy).with_precision("fp16").graphs["decoder"]
    with open(copy / entry.file, "ab") as f:
        f.write(b"\0")
    verify_artifacts(load_manifest(copy))  # the FP32 graphs are untouched
    with pytest.raises(ArtifactError, match="sha256"):
        Segmenter.from_artifacts(copy, backend="onnxruntime-cpu", cache_dir="", precision="fp16")


def test_constant_left_matmuls_stay_float_and_the_record_follows(tiny_quantized):
    """The decoder's MatMuls whose left operand is a constant (its query rows) are kept float in
    the INT8 file and listed as `float_nodes`: quantized, their per-row scales stop OpenVINO's CPU
    plugin from compiling the graph. Since every INT8 file keeps them, quantize records that
    `auto` may give lowered files to openvino-cpu; an INT8 entry without the list (a file from
    before stop 33 left beside a re-quantized precision) keeps the manifest's old record."""
    from frozenseg_export.precision.run import _int8_files_run_anywhere, with_backend_choice_refreshed
    from frozenseg_runtime.backends.names import choice_record

    out, _, precisions, _ = tiny_quantized
    entry = precisions["int8"]["graphs"][graphs.DECODER]
    fp32 = onnx.load(out / load_manifest(out).graphs[graphs.DECODER].file, load_external_data=False)
    expected = int8_graph.constant_left_matmuls(fp32)
    assert expected and entry["float_nodes"] == sorted(expected)  # the tiny decoder has two
    model = onnx.load(out / entry["file"])
    dq_outputs = {o for n in model.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    for node in model.graph.node:
        if node.name in expected:
            assert not set(node.input) & dq_outputs, f"{node.name} reads a DequantizeLinear output"
    assert json.loads((out / "manifest.json").read_text())["runtime"]["backend_choice"] == choice_record()
    assert _int8_files_run_anywhere(precisions)
    older = {"int8": {"graphs": {g: {k: v for k, v in e.items() if k != "float_nodes"}
                                 for g, e in precisions["int8"]["graphs"].items()}}}
    assert not _int8_files_run_anywhere(older)
    # A manifest recorded at stops 31-32 (lowered files kept off OpenVINO) is refreshed by a
    # quantize whose INT8 files keep the products float, and kept by one that left older files.
    raw = json.loads((out / "manifest.json").read_text())
    old_record = {**choice_record(), "fp32_files_only": ["openvino-cpu"]}
    assert old_record != choice_record()
    raw["runtime"]["backend_choice"] = old_record
    assert with_backend_choice_refreshed(raw)["runtime"]["backend_choice"] == choice_record()
    assert with_backend_choice_refreshed({**raw, "precisions": older})["runtime"]["backend_choice"] == old_record
    assert _int8_files_run_anywhere({"fp16": precisions["fp16"]})  # no INT8 file: nothing holds it back


def test_both_runtimes_resolve_auto_alike_for_lowered_files(tiny_quantized, tmp_path):
    """`auto` on the INT8 files picks one backend in both runtimes: openvino-cpu under this
    runtime's record, onnxruntime-cpu under a manifest without one (the rule before stop 31, kept
    as history on each side: Python's UNRECORDED_CHOICE, C++'s unrecorded_backend_choice)."""
    import onnxruntime

    from frozenseg_export.cpp_library import CppSegmenter
    from frozenseg_runtime.backends.factory import open_runners

    library = require_cpp_library(
        Path(os.environ.get("FS_CPP_BUILD", Path(__file__).resolve().parents[2] / "build")) / "libfrozenseg.so",
        "openvino-cpu")
    if {"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(onnxruntime.get_available_providers()):
        pytest.skip("ONNX Runtime has a GPU provider here: auto prefers it")
    out = tmp_path / "artifacts"
    shutil.copytree(tiny_quantized[0], out)
    recorded = json.loads((out / "manifest.json").read_text())
    unrecorded = json.loads(json.dumps(recorded))
    del unrecorded["runtime"]["backend_choice"]
    for raw, expected in ((recorded, "openvino-cpu"), (unrecorded, "onnxruntime-cpu")):
        (out / "manifest.json").write_text(json.dumps(raw))
        opened = open_runners(load_manifest(out).with_precision("int8"), "auto")
        try:
            python = opened.backend
        finally:
            opened.close()
        with CppSegmenter(library, out, "auto", "int8") as cpp:
            native = cpp.backend
        assert (python, native) == (expected, expected)


def test_excluded_nodes_read_the_float_tensor_not_its_qdq_pair():
    """A tensor read by a quantized and an excluded MatMul gets one Q/DQ pair from ONNX Runtime's
    quantizer, which both read; the excluded one is rewired to the float tensor, the weight's DQ of
    an initializer is left alone."""
    from onnx import TensorProto, helper, numpy_helper

    scale = numpy_helper.from_array(np.array(0.1, np.float32), "scale")
    zero = numpy_helper.from_array(np.array(0, np.int8), "zero")
    weight = numpy_helper.from_array(np.ones((4, 4), np.int8), "w_q")
    nodes = [helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["x_q"], name="q"),
             helper.make_node("DequantizeLinear", ["x_q", "scale", "zero"], ["x_dq"], name="dq"),
             helper.make_node("DequantizeLinear", ["w_q", "scale", "zero"], ["w"], name="w_dq"),
             helper.make_node("MatMul", ["x_dq", "w"], ["kept"], name="quantized"),
             helper.make_node("MatMul", ["x_dq", "w"], ["excluded_out"], name="excluded")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("kept", TensorProto.FLOAT, [2, 4]),
                               helper.make_tensor_value_info("excluded_out", TensorProto.FLOAT, [2, 4])],
                              [scale, zero, weight])
    model = helper.make_model(graph)
    assert int8_graph.keep_excluded_in_float(model, {"excluded"}) == 1
    by_name = {n.name: n for n in model.graph.node}
    assert list(by_name["excluded"].input) == ["x", "w"]  # float activation; the weight's DQ stays
    assert list(by_name["quantized"].input) == ["x_dq", "w"]
    assert int8_graph.keep_excluded_in_float(model, {"excluded"}) == 0  # nothing left to rewire


def test_int8_cpu_variant_has_uint8_activations_and_serves_onnxruntime_cpu(tiny_quantized, int8_saturates):
    """`quantize` writes each INT8 graph's CPU variant beside it (uint8 activations at zero point
    128, int8 weights: the same values, in the pair ONNX Runtime's CPU kernels take natively),
    measured as the int8 file; onnxruntime-cpu opens it, every other backend the int8 file."""
    from frozenseg_runtime.backends.factory import open_runners

    out, _, precisions, _ = tiny_quantized
    manifest = load_manifest(out).with_precision("int8")
    verify_artifacts(manifest)  # the variants' sha256 too
    for name in graphs.GRAPHS:
        entry = precisions["int8"]["graphs"][name]
        (variant,) = entry["variants"]
        assert variant["backends"] == ["onnxruntime-cpu"] and variant["activations"] == "uint8"
        assert variant["source_sha256"] == entry["sha256"] and variant["precision"] == "int8"
        model = onnx.load(out / variant["file"])
        inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
        activations = weights = 0
        for node in model.graph.node:
            if node.op_type not in ("QuantizeLinear", "DequantizeLinear"):
                continue
            zero_point = inits[node.input[2]]
            if node.input[0] in inits:  # a weight
                weights += 1
                assert zero_point.dtype == np.int8 and not zero_point.any(), node.name
            else:
                activations += 1
                assert zero_point.dtype == np.uint8 and (zero_point == 128).all(), node.name
        assert activations and weights, name
        spec = manifest.graphs[name]
        assert spec.for_backend("onnxruntime-cpu").file == variant["file"]
        assert spec.for_backend("openvino-cpu").file == spec.for_backend("tensorrt").file == entry["file"]
        # Held to the int8 file's per-graph bound (test_per_graph_errors_are_recorded_and_small):
        # ONNX Runtime fuses the two files' Q/DQ differently (the int8 file's shared activations
        # stay unfused), so their float epilogues round apart (0.183 against 0.189 seen on the
        # tiny decoder's class_probs, a softmax near ties).
        assert 0 < max(variant["errors_vs_fp32"].values()) < (1.0 if int8_saturates else 0.3), name
    # The same values bit for bit where nothing is fused: every Q/DQ and Conv/MatMul run as written.
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    rng = np.random.default_rng(5)
    for name in (graphs.CLIP_IMAGE, graphs.SAM_IMAGE):
        spec = manifest.graphs[name]
        (image,) = spec.inputs
        shape = [d if isinstance(d, int) else spec.dims[d]["opt"] for d in image.shape]
        feed = {image.name: rng.standard_normal(shape).astype(np.float32)}
        int8_out, cpu_out = (ort.InferenceSession(out / f, options, providers=["CPUExecutionProvider"]).run(None, feed)
                             for f in (spec.file, spec.for_backend("onnxruntime-cpu").file))
        for a, b in zip(int8_out, cpu_out):
            assert np.array_equal(a, b), name
    opened = open_runners(manifest, "onnxruntime-cpu")
    try:
        assert {r.path.name for r in opened.runners.values()} == \
               {precisions["int8"]["graphs"][g]["variants"][0]["file"] for g in graphs.GRAPHS}
    finally:
        opened.close()
