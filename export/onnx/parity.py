"""Parity of exported graphs with the PyTorch reference, judged on the float32 noise floor.

Three polygraphy runners see the same feeds: the PyTorch reference in float32, the same reference
in float64 (the truth) and ONNX Runtime on the exported graph. Per output and per feed, the ONNX
graph's error against float64 must stay within a multiple of the float32 reference's own error
against float64 (noise_floor.tensor_bar). "Relative error" is max|a - b| / max|b|, which stays
meaningful where elementwise ratios blow up near zero. An output with NaN or Inf where float64 has a
number fails on that alone, and the failure names the graph's first non-finite node
(`nonfinite.py`).
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
from polygraphy.comparator import Comparator
from polygraphy.logger import G_LOGGER

from frozenseg_export.noise_floor import (
    DEFAULT_BAR,
    as_float64,
    float64_module,
    max_relative_error,
    release_memory,
    tensor_bar,
)
from frozenseg_export.nonfinite import NonFinite, locate, nonfinite_where_finite
from frozenseg_runtime.graphs import ParityBar

G_LOGGER.module_severity = G_LOGGER.ERROR
logging.getLogger("polygraphy").setLevel(logging.ERROR)


class TorchRunner(BaseRunner):
    """A polygraphy runner over a torch module on the CPU (polygraphy's own one needs CUDA).

    With `float64`, it runs a float64 copy of the module on the feeds widened to float64; the
    copy exists only between activate and deactivate."""

    def __init__(self, module: torch.nn.Module, input_names, output_names, dtypes, name="torch",
                 float64: bool = False):
        super().__init__(name=name, prefix="torch-runner")
        self.module = module
        self.input_names = list(input_names)
        self.output_names = list(output_names)
        self.dtypes = dtypes  # input name -> (numpy dtype, rank)
        self.float64 = float64
        self._active: torch.nn.Module = module

    def activate_impl(self):
        self._active = float64_module(self.module) if self.float64 else self.module.eval()

    def get_input_metadata_impl(self):
        from polygraphy.common import TensorMetadata

        meta = TensorMetadata()
        for name in self.input_names:
            dtype, rank = self.dtypes[name]
            meta.add(name, dtype, shape=(-1,) * rank)  # dynamic: any shape of that rank
        return meta

    def infer_impl(self, feed_dict):
        start = time.perf_counter()
        feed = {n: np.asarray(feed_dict[n]) for n in self.input_names}
        if self.float64:
            feed = as_float64(feed)
        with torch.no_grad():
            outs = self._active(*(torch.from_numpy(feed[n]) for n in self.input_names))
        self.inference_time = time.perf_counter() - start
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        return OrderedDict((n, np.ascontiguousarray(o.numpy())) for n, o in zip(self.output_names, outs))

    def deactivate_impl(self):
        self._active = self.module
        if self.float64:
            release_memory()  # the float64 copy is gone: give its pages back before the next runner


@dataclass
class OutputParity:
    """One output's parity over all feeds. Errors are relative (see module doc)."""

    output: str
    rel_error: float  # ONNX vs float64 (the truth), worst feed
    float32_floor: float  # PyTorch float32 vs float64, worst feed
    margin: float  # largest error / bar over the feeds (passes when <= 1)
    per_feed: list[dict[str, float]]  # rel_error, float32_floor and bar of each feed
    max_abs: float  # ONNX vs float64
    cosine: float  # ONNX vs float64, lowest over the feeds
    rel_error_vs_float32: float  # ONNX vs PyTorch float32, for information
    passed: bool
    nonfinite: dict[str, int] | None = None  # NonFinite of the first feed that has any, and its index
    first_nonfinite_node: str | None = None  # where it is born (set by compare_graph)

    def failure(self) -> str:
        if self.nonfinite is not None:
            found = NonFinite(**{k: v for k, v in self.nonfinite.items() if k != "feed"})
            return (f"{self.output} is {found.describe()} (feed {self.nonfinite['feed']}); "
                    f"{self.first_nonfinite_node or 'first non-finite node not located'}")
        worst = max(range(len(self.per_feed)),
                    key=lambda i: self.per_feed[i]["rel_error"] / self.per_feed[i]["bar"])
        f = self.per_feed[worst]
        return (f"{self.output} error {f['rel_error']:.2e} against float64 exceeds its bar "
                f"{f['bar']:.2e} (float32 floor {f['float32_floor']:.2e}, feed {worst})")


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the two flattened tensors; NaN when either holds a non-finite value (never the
    1.0 of two zero tensors, which `nan > 0` would otherwise give)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom > 0 else 1.0


def median_query_max(per_element: np.ndarray) -> float:
    """The median over queries (the first axis) of each query's largest value."""
    return float(np.median(per_element.reshape(per_element.shape[0], -1).max(-1)))


def median_query_error(value: np.ndarray, truth: np.ndarray) -> float:
    """The median query's largest error, in units of the truth's largest magnitude, for a
    (1, Q, ...) decoder output. Where every query's mask is almost uniform (an edge feed's flat
    image), a last-bit difference that crosses a mask threshold steps a whole query, in float32
    PyTorch and ONNX Runtime alike but in different queries; the median query's error is what the
    arithmetic costs (check's tensor layer judges the decoder the same way)."""
    a = np.asarray(value, np.float64)
    b = np.asarray(truth, np.float64)
    scale = float(np.abs(b).max()) if b.size else 0.0
    queries = np.abs(a - b).reshape(a.shape[0] * a.shape[1], -1)  # batch x queries
    return median_query_max(queries) / (scale if scale > 0 else 1.0)


def judge_output(name: str, onnx_runs: list[np.ndarray], float32_runs: list[np.ndarray],
                 truth_runs: list[np.ndarray], bar: ParityBar = DEFAULT_BAR,
                 median_query_feeds: frozenset[int] = frozenset()) -> OutputParity:
    """Per feed: the ONNX error against the truth within the bar of that feed's float32 floor
    (on the feeds in `median_query_feeds`, both measured on the median query); any non-finite
    value where the truth is finite fails the output whatever its figures."""
    nonfinite = next(({**vars(found), "feed": i} for i, (o, t) in enumerate(zip(onnx_runs, truth_runs))
                      if (found := nonfinite_where_finite(o, t)) is not None), None)

    def error(i: int, value: np.ndarray, truth: np.ndarray) -> float:
        return median_query_error(value, truth) if i in median_query_feeds else max_relative_error(value, truth)

    errors = [error(i, o, t) for i, (o, t) in enumerate(zip(onnx_runs, truth_runs))]
    floors = [error(i, f, t) for i, (f, t) in enumerate(zip(float32_runs, truth_runs))]
    bars = [tensor_bar(f, bar) for f in floors]
    return OutputParity(
        output=name,
        rel_error=max(errors),
        float32_floor=max(floors),
        margin=max(e / b for e, b in zip(errors, bars)),
        per_feed=[{"rel_error": e, "float32_floor": f, "bar": b}
                  for e, f, b in zip(errors, floors, bars)],
        max_abs=max(float(np.abs(np.asarray(o, np.float64) - t).max()) if t.size else 0.0
                    for o, t in zip(onnx_runs, truth_runs)),
        cosine=min(cosine_similarity(o, t) for o, t in zip(onnx_runs, truth_runs)),
        rel_error_vs_float32=max(max_relative_error(o, f) for o, f in zip(onnx_runs, float32_runs)),
        passed=nonfinite is None and all(e <= b for e, b in zip(errors, bars)),
        nonfinite=nonfinite,
    )


def compare_graph(
    module: torch.nn.Module,
    onnx_path: str | os.PathLike,
    input_names,
    output_names,
    feeds: list[dict[str, np.ndarray]],
    bar: ParityBar = DEFAULT_BAR,
    median_query_feeds: frozenset[int] = frozenset(),
) -> list[OutputParity]:
    """Run PyTorch float32, PyTorch float64 and ONNX Runtime (CPU) on `feeds`, one runner after
    the other (the float64 copy is freed before ONNX Runtime starts); judge every output."""
    ort_runner = OnnxrtRunner(
        SessionFromOnnx(os.fspath(onnx_path), providers=["CPUExecutionProvider"]), name="onnxruntime"
    )
    dtypes = {n: (feeds[0][n].dtype, feeds[0][n].ndim) for n in input_names}
    float32 = TorchRunner(module, input_names, output_names, dtypes, name="torch-float32")
    float64 = TorchRunner(module, input_names, output_names, dtypes, name="torch-float64",
                          float64=True)
    results = Comparator.run([float32, float64, ort_runner], data_loader=feeds)
    runs = {runner: [{n: np.asarray(it[n]) for n in output_names} for it in iterations]
            for runner, iterations in results.items()}
    f32, f64, ort = runs["torch-float32"], runs["torch-float64"], runs["onnxruntime"]
    judged = [judge_output(name, [r[name] for r in ort], [r[name] for r in f32],
                           [r[name] for r in f64], bar, median_query_feeds) for name in output_names]
    located: dict[int, str] = {}
    for parity in judged:
        if parity.nonfinite is not None:
            feed = parity.nonfinite["feed"]
            if feed not in located:
                kind = "nan" if parity.nonfinite["nan"] else "inf"
                located[feed] = locate(onnx_path, feeds[feed], None, kind)
            parity.first_nonfinite_node = located[feed]
    return judged


def as_dicts(items: list[OutputParity]) -> list[dict]:
    return [asdict(i) for i in items]
