"""INT8 Q/DQ graphs by ONNX Runtime's static quantizer, calibrated on real graph inputs.

Why ONNX Runtime's quantizer and not NVIDIA Model Optimizer: its Q/DQ output is what TensorRT
reads (symmetric INT8, zero points 0, per-channel weights), it runs and is verified on this
CPU-only machine with the onnxruntime the project already pins, and it caches calibration
ranges. Model Optimizer's ONNX path pins onnxruntime-gpu and its own onnx, which would fork
the environment the FP32 export is verified in.

Settings are what TensorRT requires: symmetric activations and weights, INT8 (signed) for both,
per-channel weights, Conv/MatMul/Gemm only, MinMax calibration.

A MatMul whose left operand is a constant (the decoder's learned query rows times a feature map)
always stays float: the quantizer gives that constant per-channel scales along its rows, which
OpenVINO's CPU plugin cannot fold into an INT8 product (its compile stops at "Check
'any_of(scale.size(), OC, 1U)' failed" in dnnl_postops_composer), and such products are a few
thousand multiply-adds each.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.calibrate import (
    TensorData,
    TensorsData,
    create_calibrator,
    load_tensors_data,
    save_tensors_data,
)

from frozenseg_export.errors import CalibrationError
from frozenseg_export.precision.node_groups import QUANTIZABLE_OPS
from frozenseg_runtime.progress import Say, quiet_root_logger

Feed = dict[str, np.ndarray]

SETTINGS = {
    "format": "QDQ",
    "activations": "int8 symmetric (zero point 0)",
    "weights": "int8 symmetric, per channel",
    "biases": "float (not quantized)",
    "op_types": list(QUANTIZABLE_OPS),
    "calibration": "MinMax",
    "quantizer": "onnxruntime.quantization.quantize_static",
    "always_float": "MatMul with a constant left operand",
}


def constant_left_matmuls(model: onnx.ModelProto) -> set[str]:
    """MatMul nodes whose first input is an initializer (or a Constant node's output): kept float
    in every INT8 graph (see the module docstring)."""
    constants = {t.name for t in model.graph.initializer}
    constants |= {out for node in model.graph.node if node.op_type == "Constant" for out in node.output}
    return {node.name for node in model.graph.node if node.op_type == "MatMul" and node.input[0] in constants}


class _FeedReader(CalibrationDataReader):
    """Hands ONNX Runtime's calibrator one feed after another."""

    def __init__(self, feeds: Sequence[Feed]) -> None:
        self.feeds = iter(feeds)

    def get_next(self) -> Feed | None:
        return next(self.feeds, None)


def calibration_cache_path(cache_dir: Path, graph: str, model_sha256: str, feeds_digest: str) -> Path:
    """Ranges are keyed by everything they depend on: graph bytes, inputs and settings."""
    key = hashlib.sha256(json.dumps([model_sha256, feeds_digest, SETTINGS], sort_keys=True).encode())
    return cache_dir / f"{graph}-{key.hexdigest()[:24]}.json"


def _large(model_path: Path) -> bool:
    return model_path.stat().st_size > 1_800_000_000


def _calibrate_one(model_path: str, feed: Feed, out: str) -> None:
    """MinMax ranges of every Conv/MatMul/Gemm tensor on one input (runs in a worker process)."""
    with tempfile.TemporaryDirectory(prefix="frozenseg-calib-") as tmp:
        calibrator = create_calibrator(
            Path(model_path), list(QUANTIZABLE_OPS),
            augmented_model_path=os.path.join(tmp, "augmented.onnx"),
            calibrate_method=CalibrationMethod.MinMax,
            use_external_data_format=_large(Path(model_path)),
            providers=["CPUExecutionProvider"],
        )
        calibrator.collect_data(_FeedReader([feed]))
        save_tensors_data(calibrator.compute_data(), out)


def _merge(ranges: Sequence[TensorsData]) -> TensorsData:
    """Ranges over all inputs: the lowest of the lows and the highest of the highs."""
    merged: dict[str, TensorData] = {}
    for part in ranges:
        for name, data in part.data.items():
            low, high = data.range_value
            if name in merged:
                low = np.minimum(low, merged[name].lowest)
                high = np.maximum(high, merged[name].highest)
            merged[name] = TensorData(lowest=np.asarray(low, np.float32), highest=np.asarray(high, np.float32))
    return TensorsData(CalibrationMethod.MinMax, merged)


def calibrate(model_path: Path, feeds: Sequence[Feed], cache_path: Path, say: Say, label: str) -> None:
    """Write MinMax ranges over `feeds` to `cache_path`, one input per worker process.

    ONNX Runtime's calibration session runs the graph unoptimised with a reduction on every
    tensor: for SAM ViT-B at 1024 it peaks near 13 GB, and memory left behind by one input adds
    to the next. A fresh process per input returns everything after each, and the per-input
    ranges are merged exactly (min of mins, max of maxes)."""
    if cache_path.is_file():
        say(f"{label}: calibration ranges from cache {cache_path.name}")
        return
    context = multiprocessing.get_context("spawn")
    parts = []
    with tempfile.TemporaryDirectory(prefix="frozenseg-calib-") as tmp:
        for i, feed in enumerate(feeds, 1):
            say(f"{label}: calibrating on input {i}/{len(feeds)}")
            out = os.path.join(tmp, f"part{i}.json")
            worker = context.Process(target=_calibrate_one, args=(os.fspath(model_path), feed, out))
            worker.start()
            worker.join()
            if worker.exitcode != 0:
                raise CalibrationError(
                    f"{label}: calibration worker exited with {worker.exitcode} on input {i} "
                    f"(-9: killed, usually for memory; calibrate fewer or smaller images)")
            parts.append(load_tensors_data(out))
    save_tensors_data(_merge(parts), cache_path)  # written atomically by ONNX Runtime


def quantize_int8(model_path: Path, out_path: Path, feeds: Sequence[Feed], exclude: Iterable[str],
                  cache_path: Path, say: Say, label: str, *, always_float: Iterable[str]) -> Path:
    """Write the Q/DQ graph of `model_path` to `out_path` with the ranges in `cache_path`
    (calibrated on `feeds` first when the cache has no entry for this graph, inputs and settings).

    `always_float` is `constant_left_matmuls` of the FP32 model: the caller computes it once per
    graph, since an exclusion search quantizes the same graph many times and loading it to find
    them (CLIP's 785 MB are inline) would cost a full read per trial."""
    if not cache_path.is_file():
        calibrate(model_path, feeds, cache_path, say, label)
    exclude = set(exclude) | set(always_float)
    with quiet_root_logger():  # the quantizer warns about pre-processing we skip on purpose
        _quantize(model_path, out_path, exclude, cache_path)
    model = onnx.load(out_path, load_external_data=False)  # weights, if external, stay where they are
    if keep_excluded_in_float(model, exclude):
        onnx.save(model, os.fspath(out_path))
    return out_path


def keep_excluded_in_float(model: onnx.ModelProto, exclude: set[str]) -> int:
    """Rewire each excluded node's activation inputs from a Q/DQ pair back to the float tensor the
    pair quantizes; returns how many inputs were rewired.

    ONNX Runtime's quantizer puts one Q/DQ pair on a tensor that a quantized node reads, and every
    reader of that tensor then reads the pair's output, an excluded node too: excluded, but fed
    INT8-rounded values (seen on the tiny decoder, where a Reshape's output feeds one quantized
    and one excluded MatMul). Weights are not touched: an excluded node's own weights are never
    quantized."""
    producer = {output: node for node in model.graph.node for output in node.output}
    rewired = 0
    for node in model.graph.node:
        if node.name not in exclude:
            continue
        for index, name in enumerate(node.input):
            dequantize = producer.get(name)
            if dequantize is None or dequantize.op_type != "DequantizeLinear":
                continue
            quantize = producer.get(dequantize.input[0])
            if quantize is None or quantize.op_type != "QuantizeLinear":
                continue  # a weight's DequantizeLinear reads an initializer
            node.input[index] = quantize.input[0]
            rewired += 1
    return rewired


def _quantize(model_path: Path, out_path: Path, exclude: Iterable[str], cache_path: Path) -> None:
    quantize_static(
        os.fspath(model_path), os.fspath(out_path),
        calibration_data_reader=None,  # ranges come from the cache written by calibrate()
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=list(QUANTIZABLE_OPS),
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=sorted(set(exclude)),
        calibrate_method=CalibrationMethod.MinMax,
        use_external_data_format=_large(model_path),
        calibration_providers=["CPUExecutionProvider"],
        calibration_cache_path=os.fspath(cache_path),
        # Biases stay float: TensorRT fuses them and has no INT32 DequantizeLinear.
        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True, "QuantizeBias": False},
    )


def quantized_nodes(model: onnx.ModelProto) -> int:
    """Compute nodes reading a DequantizeLinear output (i.e. running on INT8 inputs)."""
    dq = {o for n in model.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    return sum(1 for n in model.graph.node if n.op_type in QUANTIZABLE_OPS and n.input[0] in dq)
