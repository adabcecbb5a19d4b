"""TensorRT readiness of an ONNX graph, checked on a CPU.

The table is the ONNX-TensorRT parser's operator support matrix, `docs/operators.md` of
github.com/onnx/onnx-tensorrt at tag 10.1-GA (commit 96e7811): the operators marked "Y", plus
the restrictions that can bite graphs like ours. JetPack 6 ships TensorRT 10.3, whose parser
supports the same operators; TensorRT 11 keeps these operators but drops implicit quantization
(precision lives in the graph). A graph passes only if every node is in the table and meets
its restrictions, so the check is a floor, not a proof: the build on a GPU is the final word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import onnx
from onnx import helper

TABLE_SOURCE = "onnx/onnx-tensorrt docs/operators.md @ 10.1-GA (96e7811)"

SUPPORTED_OPS = frozenset(
    """Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization
    Cast CastLike Ceil Celu Clip Concat Constant ConstantOfShape Conv ConvTranspose Cos Cosh
    CumSum DeformConv DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal Erf Exp Expand
    EyeLike Flatten Floor Gather GatherElements GatherND Gelu Gemm GlobalAveragePool
    GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization GRU
    HardSigmoid HardSwish Hardmax Identity If ImageScaler InstanceNormalization IsInf IsNaN
    LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax Loop LRN LSTM LpNormalization
    LpPool MatMul Max MaxPool Mean MeanVarianceNormalization Min Mish Mod Mul Neg
    NonMaxSuppression NonZero Not OneHot Or Pad ParametricSoftplus Pow PRelu QuantizeLinear
    RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal ReduceL1
    ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
    ReduceSumSquare Relu Reshape Resize ReverseSequence RNN RoiAlign Round ScaledTanh Scan
    Scatter ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax
    Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK
    Transpose Trilu Unsqueeze Upsample Where Xor""".split()
)
# Tensor element types TensorRT takes (DOUBLE only with a lossy cast, so refused here).
SUPPORTED_TYPES = frozenset(
    {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16,
     onnx.TensorProto.INT32, onnx.TensorProto.INT64, onnx.TensorProto.INT8,
     onnx.TensorProto.UINT8, onnx.TensorProto.BOOL, onnx.TensorProto.FLOAT8E4M3FN}
)
RESIZE_MODES = {"nearest", "linear"}
RESIZE_COORDINATES = {"half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric",
                      "align_corners"}
# Input index that must be a constant (initializer or Constant node), by op.
CONSTANT_INPUTS = {
    "Slice": 3, "Squeeze": 1, "Unsqueeze": 1, "ReduceMax": 1, "ReduceMean": 1, "ReduceMin": 1,
    "ReduceSum": 1, "Pad": 3, "CumSum": 1, "TopK": 1,
}


@dataclass
class Readiness:
    """Op types with counts and the attributes that matter, and every problem found."""

    graph: str
    op_counts: dict[str, int]
    attributes: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _check_resize(node, a, consts) -> str | None:
    mode = _text(a.get("mode", b"nearest"))
    coord = _text(a.get("coordinate_transformation_mode", b"half_pixel"))
    if mode not in RESIZE_MODES:
        return f"Resize mode {mode!r} (TensorRT: {sorted(RESIZE_MODES)})"
    if coord not in RESIZE_COORDINATES:
        return f"Resize coordinate_transformation_mode {coord!r}"
    if a.get("antialias", 0):
        return "Resize with antialias"
    return None


def _check_einsum(node, a, consts) -> str | None:
    eq = _text(a.get("equation", b""))
    if "..." in eq:
        return f"Einsum with ellipsis {eq!r}"
    for term in eq.split("->")[0].split(","):
        if len(set(term)) != len(term):
            return f"Einsum diagonal {eq!r}"
    return None


def _check_topk(node, a, consts) -> str | None:
    return None if a.get("sorted", 1) == 1 else "TopK with sorted=0"


def _check_layernorm(node, a, consts) -> str | None:
    used = [o for o in node.output[1:] if o]
    return f"LayerNormalization uses extra outputs {used}" if used else None


CHECKS: dict[str, Callable] = {
    "Resize": _check_resize,
    "Einsum": _check_einsum,
    "TopK": _check_topk,
    "LayerNormalization": _check_layernorm,
}
_SHOWN_ATTRS = {
    "Resize": ("mode", "coordinate_transformation_mode", "antialias", "nearest_mode"),
    "Einsum": ("equation",),
    "Conv": ("group", "strides", "dilations"),
    "Gather": ("axis",),
    "Softmax": ("axis",),
    "LayerNormalization": ("axis", "epsilon"),
    "InstanceNormalization": ("epsilon",),
    "Cast": ("to",),
    "TopK": ("sorted",),
}


def _constants(model: onnx.ModelProto) -> set[str]:
    names = {t.name for t in model.graph.initializer}
    names |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    return names


def _float_range_inputs(model: onnx.ModelProto, consts: set[str]) -> list[str]:
    """Range nodes whose output is float and whose inputs are not all constant."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in
             list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)}
    bad = []
    for node in model.graph.node:
        if node.op_type == "Range" and types.get(node.output[0]) in (
            onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE
        ) and not all(i in consts for i in node.input):
            bad.append(node.name or node.output[0])
    return bad


def _tensor_types(model: onnx.ModelProto) -> Counter:
    inferred = onnx.shape_inference.infer_shapes(model)
    vis = list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
    types = Counter(v.type.tensor_type.elem_type for v in vis if v.type.HasField("tensor_type"))
    types.update(t.data_type for t in model.graph.initializer)
    return types


def check_trt_readiness(model: onnx.ModelProto, graph: str = "") -> Readiness:
    """Every op in the table, with its restrictions met; element types TensorRT takes."""
    counts = Counter(n.op_type for n in model.graph.node)
    report = Readiness(graph=graph, op_counts=dict(sorted(counts.items())))
    consts = _constants(model)
    seen_attrs: dict[str, set[str]] = {}
    for node in model.graph.node:
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            report.problems.append(f"{node.name}: custom-domain op {node.domain}::{op}")
            continue
        if op not in SUPPORTED_OPS:
            report.problems.append(f"{node.name}: {op} is not supported by TensorRT's ONNX parser")
            continue
        attrs = _attrs(node)
        if op in CHECKS and (msg := CHECKS[op](node, attrs, consts)):
            report.problems.append(f"{node.name}: {msg}")
        idx = CONSTANT_INPUTS.get(op)
        if idx is not None and len(node.input) > idx and node.input[idx] and node.input[idx] not in consts:
            report.problems.append(f"{node.name}: {op} input {idx} must be a constant for TensorRT")
        if op in _SHOWN_ATTRS:
            shown = ", ".join(f"{k}={_text(attrs[k])}" for k in _SHOWN_ATTRS[op] if k in attrs)
            seen_attrs.setdefault(op, set()).add(shown)
    report.attributes = {op: sorted(v) for op, v in sorted(seen_attrs.items())}
    for name in _float_range_inputs(model, consts):
        report.problems.append(f"{name}: float Range with non-constant inputs")
    for dtype, _ in _tensor_types(model).items():
        if dtype and dtype not in SUPPORTED_TYPES:
            report.problems.append(f"tensor element type {onnx.TensorProto.DataType.Name(dtype)}")
    return report
