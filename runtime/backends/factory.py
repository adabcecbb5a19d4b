"""Backend name -> runner. Backends import their package only when chosen."""

from __future__ import annotations

import os

from frozenseg_runtime.backends.base import Runner
from frozenseg_runtime.backends.onnxruntime_runner import PROVIDERS, OnnxRuntimeRunner, available_providers
from frozenseg_runtime.errors import BackendError, TensorRTUnavailableError
from frozenseg_runtime.manifest import GraphSpec

BACKENDS = ("auto", "onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-trt", "tensorrt")


def resolve_backend(name: str) -> str:
    """`auto` -> the fastest installed backend; others are checked to be usable."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "tensorrt":  # never picked by `auto`: it needs engines built on this machine
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
    available = available_providers()
    if name == "auto":
        for candidate in ("onnxruntime-trt", "onnxruntime-cuda"):
            if PROVIDERS[candidate][0] in available:
                return candidate
        return "onnxruntime-cpu"
    provider = PROVIDERS[name][0]
    if provider not in available:
        raise BackendError(
            f"backend {name} needs ONNX Runtime's {provider}, which this installation lacks "
            f"(has {sorted(available)}): install onnxruntime-gpu"
        )
    return name


def make_runner(path: str | os.PathLike, spec: GraphSpec, backend: str,
                threads: int | None = None, memory_arena: bool = True,
                cuda_graph: bool = False) -> Runner:
    """The runner of a resolved backend name.

    tensorrt: the engine of (spec.name, spec.precision) from the artifacts' engines/index.json,
    whose recorded ONNX sha256 must be spec.sha256 (EngineMismatchError with the rebuild command
    otherwise); `threads` and `memory_arena` do not apply, `cuda_graph` captures each input-shape
    combination once as a CUDA graph. ONNX Runtime: `cuda_graph` does not apply."""
    if backend in PROVIDERS:
        return OnnxRuntimeRunner(path, spec, backend, threads, memory_arena)
    if backend == "tensorrt":
        from frozenseg_runtime.backends.tensorrt.runner import TensorRTRunner

        return TensorRTRunner(path, spec, cuda_graph=cuda_graph)
    raise BackendError(f"backend {backend!r} has no runner here")
