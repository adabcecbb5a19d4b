"""TensorRT engines from the manifest's ONNX graphs, built on the GPU that will run them.

One engine per graph at the requested manifest precision (`mixed` is just another manifest entry:
it picks fp32, fp16 or int8 per graph, and each graph's engine is keyed by its own precision). The
network is always STRONGLY TYPED: the precision lives in the ONNX graph (FP16 casts, INT8 Q/DQ),
TensorRT 11 has no FP16/INT8 builder flags, and strong typing makes TensorRT 10 honour the FP32
islands (LayerNorm, softmax) of our lowered graphs instead of re-choosing types per layer.

Per engine: one optimization profile from the manifest's shape ranges, a workspace limit, the
builder optimization level, and a timing cache shared by all builds and saved after each one.
TF32 is cleared (TensorRT enables it by default, strongly typed or not): an fp32 engine, and the
FP32 islands `quantize` kept by measuring true FP32, must not run MatMul/Conv in TF32 on Ampere
and later (Orin included). Where TensorRT has it (10.10+), RUNTIME_ACTIVATION_RESIZE lets a
context's activation memory follow the shapes it runs rather than the profile max. The workspace
limit also bounds the tactics' run-time scratch, which is part of each context's device memory.
The engine and its metadata sidecar are written atomically into `ARTIFACTS/engines/` and recorded
in `engines/index.json`. A build whose content key (every build input: ONNX digests, precision,
profile, TensorRT version, GPU, workspace, level) matches the engine already there is skipped
unless forced.

tensorrt is imported only by `build_engines`; planning, keys and paths work without it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from frozenseg_export.errors import EngineBuildError
from frozenseg_runtime import graphs
from frozenseg_runtime.atomic import write_atomic, write_bytes_atomic
from frozenseg_runtime.backends.tensorrt.engine_index import (
    engine_file_name,
    engines_dir,
    read_index,
    record_engine,
)
from frozenseg_runtime.backends.tensorrt.engine_metadata import (
    EngineMetadata,
    metadata_path,
    now_utc,
    read_metadata,
    write_metadata,
)
from frozenseg_runtime.backends.tensorrt.env import require_tensorrt
from frozenseg_runtime.backends.tensorrt.loader import process_logger
from frozenseg_runtime.backends.profiles import (
    ShapeRange,
    profile_from_spec,
    profile_shapes,
)
from frozenseg_runtime.errors import EngineMetadataError, UsageError
from frozenseg_runtime.manifest import (
    PRECISIONS,
    GraphSpec,
    Manifest,
    load_manifest,
    sha256_file,
    verify_artifacts,
)
from frozenseg_runtime.progress import Say, progress

if TYPE_CHECKING:
    import tensorrt as trt

DEFAULT_PRECISION = "fp16"
DEFAULT_WORKSPACE_MIB = 4096
DEFAULT_OPT_LEVEL = 3
TIMING_CACHE_NAME = "timing.cache"
MIB = 1 << 20


_say = progress("build")


@dataclass(frozen=True)
class BuildOptions:
    precision: str = DEFAULT_PRECISION  # a manifest precision: fp32, fp16, int8 or mixed
    graphs: tuple[str, ...] = graphs.GRAPHS
    workspace_mib: int = DEFAULT_WORKSPACE_MIB
    opt_level: int = DEFAULT_OPT_LEVEL  # builder optimization level, 0..5
    timing_cache: str | None = None  # default: ARTIFACTS/engines/timing.cache
    force: bool = False

    def __post_init__(self) -> None:
        unknown = [g for g in self.graphs if g not in graphs.GRAPHS]
        if unknown or not self.graphs:
            raise UsageError(f"graphs must be some of {', '.join(graphs.GRAPHS)}, got {list(self.graphs)}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not 0 <= self.opt_level <= 5:
            raise UsageError(f"opt level must be 0..5, got {self.opt_level}")
        if self.workspace_mib < 1:
            raise UsageError(f"workspace must be at least 1 MiB, got {self.workspace_mib}")


@dataclass(frozen=True)
class BuildPlan:
    """One engine to build (or skip): its graph, files and every build input."""

    spec: GraphSpec
    onnx_path: Path
    engine_path: Path
    metadata: EngineMetadata  # engine digest and creation time are filled in by the build


def selected_manifest(artifacts: str | os.PathLike[str], options: BuildOptions) -> Manifest:
    """The manifest at the requested precision, restricted to the requested graphs."""
    manifest = load_manifest(artifacts).with_precision(options.precision)
    selected = {name: manifest.graphs[name] for name in graphs.GRAPHS if name in options.graphs}
    return dataclasses.replace(manifest, graphs=selected)


def timing_cache_path(artifacts: str | os.PathLike[str], options: BuildOptions) -> Path:
    return Path(options.timing_cache) if options.timing_cache else engines_dir(artifacts) / TIMING_CACHE_NAME


def plan_builds(manifest: Manifest, options: BuildOptions, tensorrt_version: str, gpu_name: str,
                compute_capability: str, *, sm_count: int = 0, gpu_memory_bytes: int = 0,
                activation_resize: bool = False) -> list[BuildPlan]:
    """The engines to build for `manifest`'s graphs on this TensorRT and GPU (no tensorrt needed)."""
    folder = engines_dir(manifest.root)
    plans = []
    for name, spec in manifest.graphs.items():
        engine = engine_file_name(name, spec.precision)
        meta = EngineMetadata(
            graph=name,
            precision=spec.precision,
            manifest_precision=options.precision,
            onnx_file=spec.file,
            onnx_sha256=spec.sha256,
            external_data=spec.external_data,
            profiles=profile_from_spec(spec),
            tensorrt_version=tensorrt_version,
            gpu_name=gpu_name,
            compute_capability=compute_capability,
            sm_count=sm_count,
            gpu_memory_bytes=gpu_memory_bytes,
            tf32=False,
            activation_resize=activation_resize,
            workspace_bytes=options.workspace_mib * MIB,
            builder_optimization_level=options.opt_level,
            engine_file=engine,
        )
        plans.append(BuildPlan(spec, manifest.root / spec.file, folder / engine, meta))
    return plans


def up_to_date(plan: BuildPlan) -> EngineMetadata | None:
    """The metadata of the engine already built from the same inputs and intact, else None."""
    sidecar = metadata_path(plan.engine_path)
    if not sidecar.is_file() or not plan.engine_path.is_file():
        return None
    try:
        existing = read_metadata(sidecar)
    except EngineMetadataError:
        return None
    if existing.content_key != plan.metadata.content_key:
        return None
    if plan.engine_path.stat().st_size != existing.engine_bytes:
        return None
    if sha256_file(plan.engine_path) != existing.engine_sha256:
        return None
    return existing


def build_engines(artifacts: str | os.PathLike[str], options: BuildOptions,
                  say: Say = _say) -> list[EngineMetadata]:
    """Build (or keep, when up to date) the engine of each selected graph; returns their metadata."""
    _, device = require_tensorrt()
    import tensorrt as trt  # the real package: require_tensorrt checked it

    manifest = selected_manifest(artifacts, options)
    verify_artifacts(manifest)
    resize = _activation_resize_feature(trt) is not None
    plans = plan_builds(manifest, options, trt.__version__, device.name, device.compute_capability,
                        sm_count=device.sm_count, gpu_memory_bytes=device.total_memory,
                        activation_resize=resize)
    folder = engines_dir(manifest.root)
    folder.mkdir(parents=True, exist_ok=True)
    say(f"TensorRT {trt.__version__} on {device.name} (compute capability "
        f"{device.compute_capability}, {device.sm_count} SMs, {device.total_memory / MIB:.0f} MiB), "
        f"{options.precision}, TF32 off, workspace {options.workspace_mib} MiB (also a bound on "
        f"run-time scratch), optimization level {options.opt_level}, activation memory "
        + ("resized to the shapes run" if resize else "at the profile max (TensorRT < 10.10)"))
    cache = _TimingCache(timing_cache_path(manifest.root, options), say)
    built = []
    for plan in plans:
        label = f"{plan.spec.name} ({plan.spec.precision})"
        existing = None if options.force else up_to_date(plan)
        if existing is not None:
            say(f"{label}: {plan.engine_path.name} is up to date, skipped (--force rebuilds it)")
            if read_index(folder).get((existing.graph, existing.precision)) is None:
                record_engine(folder, existing, metadata_path(plan.engine_path).name)
            built.append(existing)
            continue
        built.append(_build_one(plan, cache, say))
    return built


def _build_one(plan: BuildPlan, cache: _TimingCache, say: Say) -> EngineMetadata:
    import tensorrt as trt  # build_engines checked that it is the real package

    label = f"{plan.spec.name} ({plan.spec.precision})"
    started = time.perf_counter()
    logger = process_logger()
    builder = trt.Builder(logger)
    # Strongly typed only (no EXPLICIT_BATCH: deprecated in 10, gone in 11). TensorRT 11 keeps the
    # flag as always-on; should a later release drop the name, the default network is the same.
    strongly_typed = getattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED", None)
    network = builder.create_network(0 if strongly_typed is None else 1 << int(strongly_typed))
    parser = trt.OnnxParser(network, logger)
    say(f"{label}: parsing {plan.onnx_path.name}")
    if not parser.parse_from_file(str(plan.onnx_path)):  # resolves external data beside the file
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineBuildError(f"TensorRT could not parse {plan.onnx_path}: {errors}")
    _check_network_io(network, plan)

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, plan.metadata.workspace_bytes)
    config.builder_optimization_level = plan.metadata.builder_optimization_level
    if not plan.metadata.tf32:
        config.clear_flag(trt.BuilderFlag.TF32)  # on by default, strongly typed networks too
    feature = _activation_resize_feature(trt)
    if plan.metadata.activation_resize and feature is not None:
        config.set_preview_feature(feature, True)
    profile = builder.create_optimization_profile()
    for name, rng in plan.metadata.profiles.items():
        # Tuples are Dims: TensorRT converts any sequence of ints (its docs say so; the stubs don't).
        profile.set_shape(name, rng.min, rng.opt, rng.max)  # type: ignore[arg-type]
    if config.add_optimization_profile(profile) < 0:
        raise EngineBuildError(f"TensorRT refused the optimization profile of {label} "
                               f"({profile_text(plan.metadata.profiles)}): see its log above")
    cache.attach(config)
    monitor = _progress_monitor(label, say)
    if monitor is not None:
        config.progress_monitor = monitor
    say(f"{label}: building (minutes; level {plan.metadata.builder_optimization_level})"
        + ("" if monitor is not None else ", no progress monitor in this TensorRT"))
    # The stubs say IHostMemory; TensorRT returns None when the build fails.
    serialized: trt.IHostMemory | None = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EngineBuildError(f"TensorRT could not build {label} from {plan.onnx_path} (see its log above)")
    cache.save(config)
    data = memoryview(serialized)  # not copied: an engine can be a large part of a Jetson's memory

    def write_engine(tmp: Path) -> None:
        tmp.write_bytes(data)

    write_atomic(plan.engine_path, write_engine)
    activations = _device_memory(data, logger)
    meta = replace(plan.metadata, engine_sha256=hashlib.sha256(data).hexdigest(),
                   engine_bytes=data.nbytes, device_memory_bytes=activations, created=now_utc())
    sidecar = write_metadata(metadata_path(plan.engine_path), meta)
    record_engine(plan.engine_path.parent, meta, sidecar.name)
    say(f"{label}: wrote {plan.engine_path} ({data.nbytes / MIB:.1f} MiB) in "
        f"{time.perf_counter() - started:.0f} s; a context needs {activations / MIB:.1f} MiB of "
        f"activation memory at the profile max")
    return meta


def _activation_resize_feature(trt: ModuleType) -> Any:
    """PreviewFeature.RUNTIME_ACTIVATION_RESIZE_10_10 where this TensorRT has it (10.10+), else None."""
    return getattr(getattr(trt, "PreviewFeature", None), "RUNTIME_ACTIVATION_RESIZE_10_10", None)


def _device_memory(plan: memoryview, logger: trt.ILogger) -> int:
    """A context's activation bytes at the profile max (device_memory_size_v2), for the sidecar
    and the build log; 0 when the plan cannot be read back here."""
    import tensorrt as trt

    runtime = trt.Runtime(logger)
    engine: trt.ICudaEngine | None = runtime.deserialize_cuda_engine(plan)
    if engine is None:
        return 0
    size = int(engine.device_memory_size_v2)
    del engine
    return size


def profile_text(profiles: Mapping[str, ShapeRange]) -> str:
    """`min a:1x77 opt ... max ...`: a profile as one line, for messages."""
    return "; ".join(f"{which} {profile_shapes(profiles, which)}" for which in ("min", "opt", "max"))


def _check_network_io(network: trt.INetworkDefinition, plan: BuildPlan) -> None:
    """The parsed network's inputs and outputs are the manifest's (fails before a long build)."""
    inputs = sorted(network.get_input(i).name for i in range(network.num_inputs))
    outputs = sorted(network.get_output(i).name for i in range(network.num_outputs))
    want_in = sorted(t.name for t in plan.spec.inputs)
    want_out = sorted(t.name for t in plan.spec.outputs)
    if inputs != want_in or outputs != want_out:
        raise EngineBuildError(f"{plan.onnx_path}: network tensors {inputs} -> {outputs} are not the "
                               f"manifest's {want_in} -> {want_out}")


class _TimingCache:
    """One timing cache for every build of a run, loaded from disk once and saved after each build.

    A cache written by another TensorRT version or GPU is refused (ignore_mismatch=False) and a
    fresh one started, so a stale cache can slow a build down but never mistune it."""

    def __init__(self, path: Path, say: Say) -> None:
        self.path = path
        self.say = say
        self.cache: trt.ITimingCache | None = None

    def attach(self, config: trt.IBuilderConfig) -> None:
        if self.cache is None:
            data = self.path.read_bytes() if self.path.is_file() else b""
            self.cache = self._create(config, data)
            if self.cache is None and data:
                self.say(f"timing cache {self.path} does not fit this TensorRT or GPU: starting a fresh one")
                self.cache = self._create(config, b"")
            if self.cache is None:
                raise EngineBuildError("TensorRT could not create a timing cache")
            if data:
                self.say(f"timing cache: {self.path} ({len(data) / MIB:.1f} MiB)")
        elif not config.set_timing_cache(self.cache, False):
            raise EngineBuildError("TensorRT refused the timing cache it created in this run")

    @staticmethod
    def _create(config: trt.IBuilderConfig, data: bytes) -> trt.ITimingCache | None:
        try:
            cache = config.create_timing_cache(data)
        except Exception:  # noqa: BLE001 - a foreign or corrupt blob: start afresh
            return None
        if cache is None or not config.set_timing_cache(cache, False):
            return None
        return cache

    def save(self, config: trt.IBuilderConfig) -> None:
        cache: trt.ITimingCache | None = config.get_timing_cache()  # None: no cache attached
        if cache is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(self.path, bytes(cache.serialize()))  # a few MiB: a copy is fine


def _progress_monitor(label: str, say: Say) -> trt.IProgressMonitor | None:
    """An IProgressMonitor that reports top-level phases and every 25% of their steps.

    TensorRT calls it from its own threads, hence the lock; it never cancels the build."""
    import tensorrt as trt

    if not hasattr(trt, "IProgressMonitor"):  # TensorRT < 10: builds without progress
        return None

    class _Monitor(trt.IProgressMonitor):
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)  # pybind11 needs the base's own __init__
            self._lock = threading.Lock()
            self._phases: dict[str, tuple[int, int]] = {}  # name -> (steps, last quarter said)

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            if parent_phase is None:
                with self._lock:
                    self._phases[phase_name] = (max(int(num_steps), 1), 0)
                say(f"{label}: {phase_name} ({num_steps} steps)")

        def step_complete(self, phase_name: str, step: int) -> bool:
            with self._lock:
                if phase_name in self._phases:
                    steps, said = self._phases[phase_name]
                    quarter = 4 * (int(step) + 1) // steps
                    if quarter > said and quarter < 4:
                        self._phases[phase_name] = (steps, quarter)
                        say(f"{label}: {phase_name} {25 * quarter}%")
            return True

        def phase_finish(self, phase_name: str) -> None:
            with self._lock:
                self._phases.pop(phase_name, None)

    return _Monitor()
