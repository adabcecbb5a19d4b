"""Parity of exported graphs with the PyTorch reference, through polygraphy's Comparator.

PyTorch and ONNX Runtime run as polygraphy runners on the same feeds; polygraphy checks each
output against `bar × max|reference|` (so "relative error" below is max|a − b| / max|b|, which
stays meaningful where elementwise ratios blow up near zero), and we report max abs, relative
error and cosine similarity per output.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass

import numpy as np
import torch
from polygraphy.backend.base import BaseRunner
from polygraphy.backend.onnxrt import OnnxrtRunner, SessionFromOnnx
from polygraphy.comparator import Comparator, SimpleCompareFunc
from polygraphy.logger import G_LOGGER

G_LOGGER.module_severity = G_LOGGER.ERROR
logging.getLogger("polygraphy").setLevel(logging.ERROR)


class TorchRunner(BaseRunner):
    """A polygraphy runner over a torch module on the CPU (polygraphy's own one needs CUDA)."""

    def __init__(self, module: torch.nn.Module, input_names, output_names, dtypes, name="torch"):
        super().__init__(name=name, prefix="torch-runner")
        self.module = module
        self.input_names = list(input_names)
        self.output_names = list(output_names)
        self.dtypes = dtypes  # input name -> (numpy dtype, rank)

    def activate_impl(self):
        self.module.eval()

    def get_input_metadata_impl(self):
        from polygraphy.common import TensorMetadata

        meta = TensorMetadata()
        for name in self.input_names:
            dtype, rank = self.dtypes[name]
            meta.add(name, dtype, shape=(-1,) * rank)  # dynamic: any shape of that rank
        return meta

    def infer_impl(self, feed_dict):
        start = time.perf_counter()
        with torch.no_grad():
            outs = self.module(*(torch.from_numpy(np.asarray(feed_dict[n])) for n in self.input_names))
        self.inference_time = time.perf_counter() - start
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        return OrderedDict((n, np.ascontiguousarray(o.numpy())) for n, o in zip(self.output_names, outs))

    def deactivate_impl(self):
        pass


@dataclass
class OutputParity:
    output: str
    max_abs: float
    rel_error: float  # max|a - b| / max|b|
    cosine: float
    passed: bool  # polygraphy's verdict at the bar


def metrics(name: str, ours: np.ndarray, ref: np.ndarray) -> tuple[float, float, float]:
    """(max abs, max abs / max |ref|, cosine similarity)."""
    a = ours.astype(np.float64).ravel()
    b = ref.astype(np.float64).ravel()
    max_abs = float(np.abs(a - b).max()) if a.size else 0.0
    scale = float(np.abs(b).max()) if b.size else 0.0
    rel = max_abs / scale if scale > 0 else max_abs
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    cosine = float(a @ b / denom) if denom > 0 else 1.0
    return max_abs, rel, cosine


def compare_graph(
    module: torch.nn.Module,
    onnx_path: str | os.PathLike,
    input_names,
    output_names,
    feeds: list[dict[str, np.ndarray]],
    bars: dict[str, tuple[float, bool]],
) -> list[OutputParity]:
    """Run torch and ONNX Runtime (CPU) on `feeds`; per output the worst figures over feeds.

    bars: output -> (bar, absolute?) — absolute compares max abs, otherwise relative error."""
    ort_runner = OnnxrtRunner(
        SessionFromOnnx(os.fspath(onnx_path), providers=["CPUExecutionProvider"]), name="onnxruntime"
    )
    dtypes = {n: (feeds[0][n].dtype, feeds[0][n].ndim) for n in input_names}
    torch_runner = TorchRunner(module, input_names, output_names, dtypes)
    results = Comparator.run([torch_runner, ort_runner], data_loader=feeds)
    ref_runs, ort_runs = results[0][1], results[1][1]
    # Tolerance per output: absolute, or the bar times the largest reference magnitude.
    atol = {
        n: bars[n][0] if bars[n][1]
        else bars[n][0] * max(float(np.abs(np.asarray(r[n])).max()) for r in ref_runs)
        for n in output_names
    }
    accuracy = Comparator.compare_accuracy(
        results, compare_func=SimpleCompareFunc(atol=atol, rtol=0.0)
    )[0]
    per_iteration = next(iter(accuracy.values()))
    report = []
    for name in output_names:
        refs = [np.asarray(r[name]) for r in ref_runs]
        outs = [np.asarray(r[name]) for r in ort_runs]
        each = [metrics(name, o, r) for o, r in zip(outs, refs)]
        report.append(
            OutputParity(
                name,
                max_abs=max(m[0] for m in each),
                rel_error=max(m[1] for m in each),
                cosine=min(m[2] for m in each),
                passed=all(bool(it[name]) for it in per_iteration),
            )
        )
    return report


def as_dicts(items: list[OutputParity]) -> list[dict]:
    return [asdict(i) for i in items]
