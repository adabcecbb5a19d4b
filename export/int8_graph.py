"""INT8 Q/DQ graphs by ONNX Runtime's static quantizer, calibrated on real graph inputs.

Why ONNX Runtime's quantizer and not NVIDIA Model Optimizer: its Q/DQ output is what TensorRT
reads (symmetric INT8, zero points 0, per-channel weights), it runs and is verified on this
CPU-only machine with the onnxruntime the project already pins, and it caches calibration
ranges. Model Optimizer's ONNX path pins onnxruntime-gpu and its own onnx, which would fork
the environment the FP32 export is verified in.

Settings are what TensorRT requires: symmetric activations and weights, INT8 (signed) for both,
per-channel weights, Conv/MatMul/Gemm only, MinMax calibration.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
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

from .node_groups import QUANTIZABLE_OPS

Feed = dict[str, np.ndarray]
Say = Callable[[str], None]

SETTINGS = {
    "format": "QDQ",
    "activations": "int8 symmetric (zero point 0)",
    "weights": "int8 symmetric, per channel",
    "biases": "float (not quantized)",
    "op_types": list(QUANTIZABLE_OPS),
    "calibration": "MinMax",
    "quantizer": "onnxruntime.quantization.quantize_static",
}


class _FeedReader(CalibrationDataReader):
    """Feeds one calibration input at a time and says how far it is."""

    def __init__(self, feeds: Sequence[Feed], say: Say, label: str) -> None:
        self.feeds = feeds
        self.say = say
        self.label = label
        self.position = 0

    def get_next(self) -> Feed | None:
        if self.position >= len(self.feeds):
            return None
        feed = self.feeds[self.position]
        self.position += 1
        self.say(f"{self.label}: calibrating on input {self.position}/{len(self.feeds)}")
        return feed

    def __len__(self) -> int:
        return len(self.feeds)


def calibration_cache_path(cache_dir: Path, graph: str, model_sha256: str, feeds_digest: str) -> Path:
    """Ranges are keyed by everything they depend on: graph bytes, inputs and settings."""
    key = hashlib.sha256(json.dumps([model_sha256, feeds_digest, SETTINGS], sort_keys=True).encode())
    return cache_dir / f"{graph}-{key.hexdigest()[:24]}.json"


def quantize_int8(model_path: Path, out_path: Path, feeds: Sequence[Feed], exclude: Iterable[str],
                  cache_path: Path, say: Say, label: str) -> Path:
    """Write the Q/DQ graph of `model_path` to `out_path`; ranges come from `cache_path` when
    it exists (same graph, inputs and settings), else from calibrating on `feeds`."""
    large = model_path.stat().st_size > 1_800_000_000
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer warns about pre-processing we skip on purpose
    quantize_static(
        os.fspath(model_path), os.fspath(out_path),
        calibration_data_reader=_FeedReader(feeds, say, label),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=list(QUANTIZABLE_OPS),
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=sorted(set(exclude)),
        calibrate_method=CalibrationMethod.MinMax,
        use_external_data_format=large,
        calibration_providers=["CPUExecutionProvider"],
        calibration_cache_path=os.fspath(cache_path),
        # Biases stay float: TensorRT fuses them and has no INT32 DequantizeLinear.
        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True, "QuantizeBias": False},
    )
    return out_path


def quantized_nodes(model: onnx.ModelProto) -> int:
    """Compute nodes reading a DequantizeLinear output (i.e. running on INT8 inputs)."""
    dq = {o for n in model.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    return sum(1 for n in model.graph.node if n.op_type in QUANTIZABLE_OPS and n.input[0] in dq)
