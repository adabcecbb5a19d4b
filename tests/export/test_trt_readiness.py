"""The TensorRT readiness check rejects what TensorRT's ONNX parser rejects."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from frozenseg_export.onnx.trt_readiness import check_trt_readiness


def _model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def _float(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def test_clean_graph_is_ready():
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [_float("x", [2])], [_float("y", [2])])
    report = check_trt_readiness(model, "relu")
    assert report.ready and report.op_counts == {"Relu": 1}


def test_unsupported_op_is_named():
    model = _model([helper.make_node("Unique", ["x"], ["y"], name="uniq")],
                   [_float("x", [4])], [_float("y", [None])])
    report = check_trt_readiness(model)
    assert not report.ready and "uniq: Unique is not supported" in report.problems[0]


def test_cubic_resize_is_rejected():
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="cubic", name="up")
    model = _model([node], [_float("x", [1, 1, 2, 2])], [_float("y", [1, 1, 4, 4])], [scales])
    assert any("Resize mode 'cubic'" in p for p in check_trt_readiness(model).problems)


def test_float_range_with_dynamic_limit_is_rejected():
    start = numpy_helper.from_array(np.array(0.0, np.float32), "start")
    delta = numpy_helper.from_array(np.array(1.0, np.float32), "delta")
    node = helper.make_node("Range", ["start", "limit", "delta"], ["y"], name="rng")
    model = _model([node], [_float("limit", [])], [_float("y", [None])], [start, delta])
    assert any("float Range" in p for p in check_trt_readiness(model).problems)


def test_double_tensors_are_rejected():
    inp = helper.make_tensor_value_info("x", TensorProto.DOUBLE, [2])
    out = helper.make_tensor_value_info("y", TensorProto.DOUBLE, [2])
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [inp], [out])
    assert any("DOUBLE" in p for p in check_trt_readiness(model).problems)


@pytest.mark.parametrize("equation, message", [("...ij,...jk->...ik", "ellipsis"), ("ii->i", "diagonal")])
def test_einsum_forms_tensorrt_rejects(equation, message):
    n_in = equation.split("->")[0].count(",") + 1
    inputs = [_float(f"x{i}", None) for i in range(n_in)]
    node = helper.make_node("Einsum", [f"x{i}" for i in range(n_in)], ["y"], equation=equation)
    model = _model([node], inputs, [_float("y", None)])
    assert any(message in p for p in check_trt_readiness(model).problems)


def test_non_constant_slice_axes_are_rejected():
    node = helper.make_node("Slice", ["x", "s", "e", "axes"], ["y"], name="sl")
    ints = lambda n: helper.make_tensor_value_info(n, TensorProto.INT64, [1])  # noqa: E731
    model = _model([node], [_float("x", [4]), ints("s"), ints("e"), ints("axes")], [_float("y", [None])])
    assert any("Slice input 3 must be a constant" in p for p in check_trt_readiness(model).problems)
