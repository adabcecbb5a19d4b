"""The CPU variant of an INT8 graph: the same Q/DQ graph with uint8 activations.

TensorRT needs symmetric int8 activations (zero point 0). ONNX Runtime's CPU kernels multiply
uint8 activations by int8 weights (U8S8: x86's VPMADDUBSW and VNNI's VPDPBUSD take exactly that
pair), and its QDQS8ToU8Transformer converts an int8 activation to uint8 only where a
QuantizeLinear has a single consumer, so the rest run slower paths. Moving every activation's zero
point from int8 0 to uint8 128 gives each kernel its native pair with the same values, bit for bit:

    q' = clamp(round(x / s) + 128, 0, 255) = q + 128   for q = clamp(round(x / s), -128, 127)
    (q' - 128) * s = q * s

Weights (DequantizeLinear of an initializer) stay int8. `benchmarks/int8_profile.py` measured this
variant (`int8_u8`) at 1.38x FP32 on SAM ViT-B against the int8 file's 1.18x on a 2-core Zen 3.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

ACTIVATIONS = "uint8"  # what the manifest's variant records
BACKENDS = ("onnxruntime-cpu",)  # the backends that run the variant instead of the int8 file
SUFFIX = "int8-cpu"  # <graph>.int8-cpu.onnx


def uint8_activations(model: onnx.ModelProto) -> int:
    """Move every activation Q/DQ zero point of `model` (in place) from int8 to uint8 + 128;
    returns how many QuantizeLinear outputs changed type."""
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    moved: dict[str, str] = {}
    changed: set[str] = set()
    for node in graph.node:
        if node.op_type not in ("QuantizeLinear", "DequantizeLinear") or len(node.input) < 3:
            continue
        if node.input[0] in initializers:  # a weight's DequantizeLinear: stays int8
            continue
        zero_point = initializers.get(node.input[2])
        if zero_point is None or zero_point.data_type != onnx.TensorProto.INT8:
            continue
        if zero_point.name not in moved:
            shifted = numpy_helper.to_array(zero_point).astype(np.int16) + 128
            tensor = numpy_helper.from_array(shifted.astype(np.uint8), zero_point.name + "_u8")
            graph.initializer.append(tensor)
            moved[zero_point.name] = tensor.name
        node.input[2] = moved[zero_point.name]
        if node.op_type == "QuantizeLinear":
            changed.add(node.output[0])
    # The quantized tensors' recorded types were int8; shape inference recomputes them.
    kept = [info for info in graph.value_info if info.name not in changed]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    used = {name for node in graph.node for name in node.input}
    for tensor in [t for t in graph.initializer if t.name in moved and t.name not in used]:
        graph.initializer.remove(tensor)
    return len(changed)
