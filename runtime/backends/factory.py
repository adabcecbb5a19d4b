"""Backend name -> runners: the one place where a deployment's runners are opened (backend,
threads, memory arena, CUDA graphs, encoder schedule), apart from the Segmenter that runs them.
Backends import their package only when chosen."""

from __future__ import annotations

import os
from dataclasses import dataclass

from frozenseg_runtime import graphs
from frozenseg_runtime.backends.base import Runner
from frozenseg_runtime.backends.onnxruntime_runner import PROVIDERS, OnnxRuntimeRunner, available_providers
from frozenseg_runtime.backends.names import AUTO_ORDER, BACKENDS, OPENVINO_CPU
from frozenseg_runtime.backends.openvino_runner import OpenVinoRunner, openvino_available
from frozenseg_runtime.errors import (
    BackendError,
    PrecisionUnavailableError,
    TensorRTUnavailableError,
    UsageError,
)
from frozenseg_runtime.manifest import GraphSpec, Manifest
from frozenseg_runtime.schedule import EncoderPlan, plan_encoders

# Backends that compute a graph in another precision than its file's (GraphSpec.compute_precision).
COMPUTE_PRECISION_BACKENDS = (OPENVINO_CPU,)


def resolve_for(manifest: Manifest, backend: str, among: tuple[str, ...] = BACKENDS) -> str:
    """`backend` resolved for these graphs: `auto` follows the manifest's record and the graphs'
    precisions (`_auto_for`, `_auto_among`), among `among` (e.g. the C++ library's backends)."""
    candidates = tuple(b for b in _auto_among(manifest) if b in among)
    return resolve_backend(_auto_for(manifest) if backend == "auto" else backend, among=candidates,
                           order=manifest.backend_choice.auto_order)


def resolve_backend(name: str, among: tuple[str, ...] = BACKENDS, order: tuple[str, ...] = AUTO_ORDER) -> str:
    """`auto` -> the first usable backend of `order` (the manifest's, `backend_choice`) that is
    `among` (e.g. the C++ library's backends); others are checked to be usable."""
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
    if name == OPENVINO_CPU:
        if not openvino_available():
            raise BackendError(f"backend {OPENVINO_CPU} needs OpenVINO: pip install "
                               f"'frozenseg-deploy[openvino]' (or openvino)")
        return name
    if name == "auto":
        for candidate in order:
            if candidate in among and _installed(candidate):
                return candidate
        raise BackendError(f"no backend of {', '.join(c for c in order if c in among)} is installed: "
                           f"pip install onnxruntime (or onnxruntime-gpu, or openvino)")
    available = available_providers()
    provider = PROVIDERS[name][0]
    if provider not in available:
        raise BackendError(
            f"backend {name} needs ONNX Runtime's {provider}, which this installation lacks "
            f"(has {sorted(available)}): install onnxruntime-gpu"
        )
    return name


def _installed(backend: str) -> bool:
    """Whether `auto` may pick a backend: its package imports (ONNX Runtime: with its provider)."""
    if backend == OPENVINO_CPU:
        return openvino_available()
    try:
        return PROVIDERS[backend][0] in available_providers()
    except BackendError:  # ONNX Runtime not installed
        return False


def make_runner(path: str | os.PathLike, spec: GraphSpec, backend: str,
                threads: int | None = None, memory_arena: bool = False,
                cuda_graph: bool = False, cache_dir: str | os.PathLike | None = None) -> Runner:
    """The runner of a resolved backend name.

    tensorrt: the engine of (spec.name, spec.precision) from the artifacts' engines/index.json,
    whose recorded ONNX sha256 must be spec.sha256 (EngineMismatchError with the rebuild command
    otherwise); `threads` and `memory_arena` do not apply, `cuda_graph` captures each input-shape
    combination once as a CUDA graph. ONNX Runtime: `cuda_graph` does not apply. openvino-cpu:
    `threads` as ONNX Runtime's, compiled blobs under `cache_dir` (the runtime's cache option);
    `memory_arena` and `cuda_graph` do not apply. A graph to be computed in another precision
    than its file's (`spec.compute_precision`, runtime precision bf16) runs only on
    COMPUTE_PRECISION_BACKENDS: elsewhere it is refused, never run in the file's precision."""
    if spec.compute_precision and backend not in COMPUTE_PRECISION_BACKENDS:
        raise PrecisionUnavailableError(
            f"{spec.name}: precision {spec.compute_precision} runs on "
            f"{', '.join(COMPUTE_PRECISION_BACKENDS)} only, not {backend}")
    if backend == OPENVINO_CPU:
        return OpenVinoRunner(path, spec, threads, cache_dir=cache_dir)
    if backend in PROVIDERS:
        return OnnxRuntimeRunner(path, spec, backend, threads, memory_arena)
    if backend == "tensorrt":
        from frozenseg_runtime.backends.tensorrt.runner import TensorRTRunner

        return TensorRTRunner(path, spec, cuda_graph=cuda_graph)
    raise BackendError(f"backend {backend!r} has no runner here")


def _auto_for(manifest: Manifest) -> str:
    """What `auto` means for these graphs: the backend that computes them in another precision
    than their files' (bf16) when any is marked so, else the fastest installed."""
    if any(spec.compute_precision for spec in manifest.graphs.values()):
        return COMPUTE_PRECISION_BACKENDS[0]
    return "auto"


def _auto_among(manifest: Manifest) -> tuple[str, ...]:
    """The backends `auto` may pick for these graphs: those the manifest's `fp32_files_only` does
    not keep from lowered files. Manifests written before stop 33 keep FP16 and INT8 files off
    OpenVINO: its CPU plugin could not compile an INT8 decoder whose constant left operands had
    per-row scales (int8.constant_left_matmuls now keeps those products float). Since then
    OpenVINO runs the INT8 files as INT8 (VNNI) and `check` holds it to the same bars as ONNX
    Runtime."""
    if all(spec.precision == "fp32" for spec in manifest.graphs.values()):
        return BACKENDS
    return tuple(b for b in BACKENDS if b not in manifest.backend_choice.fp32_files_only)


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
                 memory_arena: bool = False, cuda_graph: bool = False,
                 encoder_schedule: str = "auto",
                 cache_dir: str | os.PathLike | None = None) -> OpenedRunners:
    """Resolve the backend, plan the image encoders (schedule.py: their threads), then activate a
    runner per graph; if one fails, those already active are released.

    `threads`: ONNX Runtime's intra-op threads (the image encoders get the plan's);
    `memory_arena=True` keeps ONNX Runtime's CPU arena (off by default: onnxruntime_runner says why);
    `cuda_graph=True` replays TensorRT engines as CUDA graphs (backend "tensorrt" only);
    `cache_dir`: the runtime's cache option, where a backend keeps what it compiles (OpenVINO).
    `auto` follows the graphs (`_auto_for`, `_auto_among`)."""
    backend = resolve_for(manifest, backend)
    plan = plan_encoders(encoder_schedule, backend, threads)
    if cuda_graph and backend != "tensorrt":
        raise UsageError(f"CUDA graphs replay TensorRT engines: use backend 'tensorrt' with "
                         f"cuda_graph (--cuda-graph), not {backend!r}")
    runners: dict[str, Runner] = {}
    image_graphs = graphs.graphs_of_stage(graphs.STAGE_IMAGE)
    try:
        for name, spec in manifest.graphs.items():
            spec = spec.for_backend(backend)  # a variant file made for this backend, if any
            runners[name] = make_runner(manifest.root / spec.file, spec, backend,
                                        plan.image_threads if name in image_graphs else threads,
                                        memory_arena, cuda_graph, cache_dir).activate()
    except BaseException:
        for runner in runners.values():
            runner.deactivate()
        raise
    return OpenedRunners(backend, plan, runners)
