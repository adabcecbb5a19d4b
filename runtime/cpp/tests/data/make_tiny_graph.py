"""Writes tiny_graph.onnx: the smallest graph that exercises the C++ ONNX Runtime engine.

Inputs  a: float32 ['batch', 3]    b: float32 [3]    k: int64 ['batch']
Outputs y = (a + b) * 2: float32 ['batch', 3]
        positive = y > 0: bool ['batch', 3]
        k3 = k * 3: int64 ['batch']

The matching GraphSpec is written out in test_engine_onnxruntime.cpp (dims: batch 1..8).
Deterministic (no timestamps, fixed producer), a few hundred bytes.

Run from anywhere: .venv/bin/python runtime/cpp/tests/data/make_tiny_graph.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent


def tiny_graph() -> onnx.ModelProto:
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    zero = numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")
    three = numpy_helper.from_array(np.array(3, dtype=np.int64), "three")
    nodes = [
        helper.make_node("Add", ["a", "b"], ["a_plus_b"]),
        helper.make_node("Mul", ["a_plus_b", "two"], ["y"]),
        helper.make_node("Greater", ["y", "zero"], ["positive"]),
        helper.make_node("Mul", ["k", "three"], ["k3"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        inputs=[helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 3]),
                helper.make_tensor_value_info("b", TensorProto.FLOAT, [3]),
                helper.make_tensor_value_info("k", TensorProto.INT64, ["batch"])],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3]),
                 helper.make_tensor_value_info("positive", TensorProto.BOOL, ["batch", 3]),
                 helper.make_tensor_value_info("k3", TensorProto.INT64, ["batch"])],
        initializer=[two, zero, three])
    # IR 8 / opset 17: old enough for any ONNX Runtime the C++ library supports.
    model = helper.make_model(graph, producer_name="frozenseg-cpp-tests", ir_version=8,
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model


def main() -> None:
    (HERE / "tiny_graph.onnx").write_bytes(tiny_graph().SerializeToString())


if __name__ == "__main__":
    main()
