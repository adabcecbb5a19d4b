"""ONNX Runtime backends (CPU, CUDA and TensorRT execution providers) as runners.

Named `onnxruntime_runner` (as C++'s `runner/onnxruntime_runner.cpp`) so that it never shadows
the `onnxruntime` package. The package is imported only
when an ONNX Runtime backend is chosen; a missing one is a clear error naming what to install.

The CPU memory arena is off by default (C++'s RunnerOptions too). Each session keeps an arena of
its own, none gives memory back, and with memory patterns on the second run at a shape allocates
the whole pattern again beside what the first run left: on the full preset at 800x800 a `segment`
peaked at 11.1 GB (7.2 GB after one call), against 6.9 GB for PyTorch eager. With the arena off
it peaks at 6.0 GB and holds 3.0 GB between calls, at the same speed (15.7 s against 15.5 s a
call; issue 25, item 5). `memory_arena=True` keeps it for those who measure otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime.backends.base import BaseRunner
from frozenseg_runtime.errors import BackendError
from frozenseg_runtime.manifest import GraphSpec

PROVIDERS: dict[str, list[str]] = {
    "onnxruntime-cpu": ["CPUExecutionProvider"],
    "onnxruntime-cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "onnxruntime-trt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
}
# ONNX Runtime 1.32's NCHWc layout transformer crashes (segfault at session creation) on some
# FP16 graphs with FP32 islands; it only speeds up FP32 convolutions, so lowered graphs skip it.
LOWERED_PRECISION_DISABLED_OPTIMIZERS = ("NchwcTransformer",)


def import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise BackendError(
            "ONNX Runtime is not installed: pip install onnxruntime (CPU) or onnxruntime-gpu "
            "(CUDA and TensorRT execution providers)"
        ) from exc
    # Telemetry events off, as the C++ library does. The full opt-out (no database under ~/.cache,
    # no uploader thread) is ORT_DISABLE_TELEMETRY=1 before the first session: the
    # frozenseg-deploy command sets it; a program embedding the runtime chooses.
    onnxruntime.disable_telemetry_events()
    return onnxruntime


def available_providers() -> set[str]:
    return set(import_onnxruntime().get_available_providers())


def load_session(path: str | os.PathLike, backend: str, precision: str,
                 threads: int | None = None, memory_arena: bool = False) -> Any:
    """An InferenceSession of one graph with the backend's providers (the loader)."""
    ort = import_onnxruntime()
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
    opts.enable_cpu_mem_arena = memory_arena
    disabled = LOWERED_PRECISION_DISABLED_OPTIMIZERS if precision != "fp32" else ()
    return ort.InferenceSession(os.fspath(path), opts, providers=PROVIDERS[backend],
                                disabled_optimizers=list(disabled))


class OnnxRuntimeRunner(BaseRunner[Any]):
    """One ONNX graph on ONNX Runtime; its session is an `InferenceSession` (`load_session`)."""

    def __init__(self, path: str | os.PathLike, spec: GraphSpec, backend: str,
                 threads: int | None = None, memory_arena: bool = False) -> None:
        super().__init__(spec)
        self.path = Path(path)
        self.memory_arena = memory_arena  # off: memory returns after each run (the module says why)
        self.backend = backend
        self.threads = threads

    def _open(self) -> Any:
        return load_session(self.path, self.backend, self.spec.precision, self.threads,
                            self.memory_arena)

    def _infer(self, session: Any, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = [t.name for t in self.spec.outputs]
        outputs = session.run(names, {t.name: feed[t.name] for t in self.spec.inputs})
        return dict(zip(names, outputs))
