"""Inference backends as runners: `activate()`, `infer(feed) -> dict`, `deactivate()`.

One small factory picks the runner by backend name. Backends import their package only when
chosen, and a backend whose package is missing is a clear error naming the package to install.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from frozenseg_runtime.errors import FrozenSegError
from frozenseg_runtime.manifest import GraphSpec

if TYPE_CHECKING:
    from frozenseg_runtime.backends.tensorrt.runner import TensorRTRunner

BACKENDS = ("auto", "onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-trt", "tensorrt")
_ORT_PROVIDERS = {
    "onnxruntime-cpu": ["CPUExecutionProvider"],
    "onnxruntime-cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "onnxruntime-trt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
}
# ONNX Runtime 1.32's NCHWc layout transformer crashes (segfault at session creation) on some
# FP16 graphs with FP32 islands; it only speeds up FP32 convolutions, so lowered graphs skip it.
LOWERED_PRECISION_DISABLED_OPTIMIZERS = ("NchwcTransformer",)
_NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16, "int64": np.int64,
                 "int32": np.int32, "bool": np.bool_}


class BackendError(FrozenSegError, RuntimeError):
    """A backend is unknown, not installed, or not usable on this machine."""


class InputError(FrozenSegError, ValueError):
    """A feed does not match the graph's declared inputs."""


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise BackendError(
            "ONNX Runtime is not installed: pip install onnxruntime (CPU) or onnxruntime-gpu "
            "(CUDA and TensorRT execution providers)"
        ) from exc
    return onnxruntime


def resolve_backend(name: str) -> str:
    """`auto` -> the fastest installed backend; others are checked to be usable."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "tensorrt":  # never picked by `auto`: it needs engines built on this machine
        from frozenseg_runtime.backends.tensorrt.env import TensorRTUnavailableError
        from frozenseg_runtime.backends.tensorrt.env import require_tensorrt

        try:
            require_tensorrt()
        except TensorRTUnavailableError as exc:
            raise BackendError(
                f"the native TensorRT backend cannot run here: {exc}. It also needs engines built "
                f"on this machine with `frozenseg-deploy build`; use onnxruntime-trt or "
                f"onnxruntime-cpu otherwise"
            ) from exc
        return name
    ort = _onnxruntime()
    available = set(ort.get_available_providers())
    if name == "auto":
        for candidate in ("onnxruntime-trt", "onnxruntime-cuda"):
            if _ORT_PROVIDERS[candidate][0] in available:
                return candidate
        return "onnxruntime-cpu"
    provider = _ORT_PROVIDERS[name][0]
    if provider not in available:
        raise BackendError(
            f"backend {name} needs ONNX Runtime's {provider}, which this installation lacks "
            f"(has {sorted(available)}): install onnxruntime-gpu"
        )
    return name


class OnnxRuntimeRunner:
    """One ONNX graph on ONNX Runtime; checks feeds against the manifest before running."""

    def __init__(self, path: str | os.PathLike, spec: GraphSpec, backend: str,
                 threads: int | None = None, memory_arena: bool = True) -> None:
        self.path = Path(path)
        self.memory_arena = memory_arena  # off: memory returns after each run (slower, leaner)
        self.spec = spec
        self.backend = backend
        self.threads = threads
        self.session: Any = None
        self._lock = threading.Lock()

    def activate(self) -> "OnnxRuntimeRunner":
        with self._lock:
            if self.session is None:
                ort = _onnxruntime()
                opts = ort.SessionOptions()
                opts.log_severity_level = 3
                if self.threads:
                    opts.intra_op_num_threads = self.threads
                opts.enable_cpu_mem_arena = self.memory_arena
                disabled = LOWERED_PRECISION_DISABLED_OPTIMIZERS if self.spec.precision != "fp32" else ()
                self.session = ort.InferenceSession(
                    os.fspath(self.path), opts, providers=_ORT_PROVIDERS[self.backend],
                    disabled_optimizers=list(disabled),
                )
        return self

    def deactivate(self) -> None:
        with self._lock:
            self.session = None

    def __enter__(self) -> "OnnxRuntimeRunner":
        return self.activate()

    def __exit__(self, *exc: object) -> None:
        self.deactivate()

    def check_feed(self, feed: Mapping[str, np.ndarray]) -> None:
        for tensor in self.spec.inputs:
            if tensor.name not in feed:
                raise InputError(f"{self.spec.name}: missing input {tensor.name!r}")
            value = feed[tensor.name]
            want = _NUMPY_DTYPES[tensor.dtype]
            if value.dtype != want:
                raise InputError(
                    f"{self.spec.name}: input {tensor.name!r} must be {tensor.dtype}, got {value.dtype}"
                )
            if value.ndim != len(tensor.shape) or any(
                isinstance(d, int) and d != s for d, s in zip(tensor.shape, value.shape)
            ):
                raise InputError(
                    f"{self.spec.name}: input {tensor.name!r} must have shape {list(tensor.shape)}, "
                    f"got {list(value.shape)}"
                )

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.session is None:
            raise RuntimeError(f"{self.spec.name}: call activate() before infer()")
        self.check_feed(feed)
        names = [t.name for t in self.spec.outputs]
        outputs = self.session.run(names, {t.name: feed[t.name] for t in self.spec.inputs})
        return dict(zip(names, outputs))


def make_runner(path: str | os.PathLike, spec: GraphSpec, backend: str,
                threads: int | None = None, memory_arena: bool = True
                ) -> OnnxRuntimeRunner | TensorRTRunner:
    """The runner of a resolved backend name.

    tensorrt: the engine of (spec.name, spec.precision) from the artifacts' engines/index.json,
    whose recorded ONNX sha256 must be spec.sha256 (EngineMismatchError with the rebuild command
    otherwise); `threads` does not apply."""
    if backend in _ORT_PROVIDERS:
        return OnnxRuntimeRunner(path, spec, backend, threads, memory_arena)
    if backend == "tensorrt":
        from frozenseg_runtime.backends.tensorrt.runner import TensorRTRunner

        return TensorRTRunner(path, spec)
    raise BackendError(f"backend {backend!r} has no runner here")
