"""Backend name -> runners: the one place where a deployment's runners are opened (backend,
threads, memory arena, CUDA graphs, encoder schedule), apart from the Segmenter that runs them.
Backends import their package only when chosen."""

from __future__ import annotations

import os
from dataclasses import dataclass

from frozenseg_runtime import graphs
from frozenseg_runtime.backends.base import Runner
from frozenseg_runtime.backends.onnxruntime_runner import PROVIDERS, OnnxRuntimeRunner, available_providers
from frozenseg_runtime.errors import BackendError, TensorRTUnavailableError, UsageError
from frozenseg_runtime.manifest import GraphSpec, Manifest
from frozenseg_runtime.schedule import EncoderPlan, plan_encoders

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


@dataclass(frozen=True)
class OpenedRunners:
    """One active runner per graph of a manifest, with the backend and encoder plan they were
    opened for (the Segmenter needs both to run them)."""

    backend: str  # resolved: never "auto"
    encoder_plan: EncoderPlan
    runners: dict[str, Runner]

    def close(self) -> None:
        for runner in self.runners.values():
            runner.deactivate()


def open_runners(manifest: Manifest, backend: str = "auto", threads: int | None = None,
                 memory_arena: bool = True, cuda_graph: bool = False,
                 encoder_schedule: str = "auto") -> OpenedRunners:
    """Resolve the backend, plan the image encoders (schedule.py: their threads), then activate a
    runner per graph; if one fails, those already active are released.

    `threads`: ONNX Runtime's intra-op threads (the image encoders get the plan's);
    `memory_arena=False` hands ONNX Runtime's memory back after each run (leaner, slower);
    `cuda_graph=True` replays TensorRT engines as CUDA graphs (backend "tensorrt" only)."""
    backend = resolve_backend(backend)
    plan = plan_encoders(encoder_schedule, backend, threads)
    if cuda_graph and backend != "tensorrt":
        raise UsageError(f"CUDA graphs replay TensorRT engines: use backend 'tensorrt' with "
                         f"cuda_graph (--cuda-graph), not {backend!r}")
    runners: dict[str, Runner] = {}
    image_graphs = graphs.graphs_of_stage(graphs.STAGE_IMAGE)
    try:
        for name, spec in manifest.graphs.items():
            runners[name] = make_runner(manifest.graph_path(name), spec, backend,
                                        plan.image_threads if name in image_graphs else threads,
                                        memory_arena, cuda_graph).activate()
    except BaseException:
        for runner in runners.values():
            runner.deactivate()
        raise
    return OpenedRunners(backend, plan, runners)
