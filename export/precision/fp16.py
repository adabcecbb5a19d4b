"""FP16 graphs with FP32 islands, by ONNX Runtime's float16 converter with a node block list.

Inputs and outputs stay FP32 (the runtime and the manifest's I/O contract do not change); Casts
are inserted around every island. The converter's own op block list (ops it has no FP16 kernel
for in ONNX Runtime, e.g. Range, Min, Max, TopK) always stays FP32: that is compatibility,
not accuracy, and is recorded apart from the measured islands.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import onnx
from onnxruntime.transformers import float16

COMPATIBILITY_OPS: tuple[str, ...] = tuple(float16.DEFAULT_OP_BLOCK_LIST)


def to_fp16(model: onnx.ModelProto, fp32_nodes: Iterable[str]) -> onnx.ModelProto:
    """A copy of `model` in FP16 except `fp32_nodes` and the compatibility ops."""
    work = copy.deepcopy(model)
    del work.graph.value_info[:]  # stale FP32 value infos would contradict the new types
    return float16.convert_float_to_float16(
        work, keep_io_types=True, op_block_list=list(COMPATIBILITY_OPS),
        node_block_list=sorted(set(fp32_nodes)),
    )

