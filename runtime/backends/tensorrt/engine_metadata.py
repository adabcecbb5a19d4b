"""What a TensorRT engine was built from and for, kept in a JSON sidecar next to the engine.

A serialized engine runs only under the TensorRT version that built it and on the GPU model it
was tuned for, and is only meaningful for the ONNX graph it came from. The sidecar records all of
that (plus the build settings) so that:

- the builder can skip an engine whose every build input is unchanged (`content_key`), and
- the runtime refuses a stale or foreign engine before deserializing it, with a message that says
  what differs and the exact command that rebuilds it (`check_engine_compatible`).

Torch-free and tensorrt-free: reading and checking metadata needs neither.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shlex
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.backends.profiles import ShapeRange
from frozenseg_runtime.errors import EngineMetadataError, EngineMismatchError

METADATA_SCHEMA = 1
# Bumped when the way engines are built changes (flags, network creation), so that engines
# built by an older recipe are rebuilt by `build` and refused by the runtime. 2: TF32 cleared
# (recipe 1 left TensorRT's default on, so "fp32" engines ran MatMul/Conv in TF32 on Ampere+).
BUILD_RECIPE = 2
# The build inputs: change any one and the engine is rebuilt.
KEY_FIELDS = (
    "graph", "precision", "onnx_sha256", "external_data", "profiles", "tensorrt_version",
    "gpu_name", "compute_capability", "sm_count", "workspace_bytes", "builder_optimization_level",
    "tf32", "activation_resize",
)
# Two GPUs whose memory differs by more than this fraction are different modules (Orin NX 16 GB
# and Orin Nano 8 GB both have 8 SMs); less is carve-out and firmware noise.
MEMORY_TOLERANCE = 1 / 8


@dataclass(frozen=True)
class EngineMetadata:
    graph: str
    precision: str  # this graph's own precision (fp32, fp16, int8): the index key with `graph`
    onnx_file: str
    onnx_sha256: str
    external_data: tuple[tuple[str, str], ...]  # (file, sha256) of each external-data file
    profiles: dict[str, ShapeRange]  # input name -> range (one optimization profile)
    tensorrt_version: str  # the full version string, e.g. 10.3.0.30
    gpu_name: str
    compute_capability: str  # "major.minor"
    workspace_bytes: int
    builder_optimization_level: int
    sm_count: int = 0  # multiprocessors: Jetson Orin modules all say "Orin", 8.7 (0: not recorded)
    gpu_memory_bytes: int = 0  # total GPU memory, the other tell between modules (0: not recorded)
    tf32: bool = False  # whether BuilderFlag.TF32 was left on (a sidecar without it: recipe 1, on)
    activation_resize: bool = False  # PreviewFeature.RUNTIME_ACTIVATION_RESIZE_10_10 (TensorRT >= 10.10)
    device_memory_bytes: int = 0  # a context's activation memory at the profile max, as built
    build_recipe: int = BUILD_RECIPE  # the recipe of the build that wrote it (a sidecar without it: 1)
    manifest_precision: str = ""  # what the build was asked for: `mixed` picks per-graph precisions
    engine_file: str = ""  # relative to the engines folder
    engine_sha256: str = ""
    engine_bytes: int = 0
    frozenseg_deploy_version: str = field(default_factory=lambda: package_version())
    created: str = ""  # ISO 8601, UTC

    @property
    def content_key(self) -> str:
        return content_key(self)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["external_data"] = [{"file": f, "sha256": s} for f, s in self.external_data]
        data["profiles"] = {name: rng.as_json() for name, rng in self.profiles.items()}
        return {"schema_version": METADATA_SCHEMA, **data, "content_key": self.content_key}

    @classmethod
    def from_json(cls, data: Any, where: str = "engine metadata") -> "EngineMetadata":
        if not isinstance(data, dict) or data.get("schema_version") != METADATA_SCHEMA:
            raise EngineMetadataError(f"{where}: not engine metadata of schema {METADATA_SCHEMA}")
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        missing = sorted(required - data.keys())
        if missing:
            raise EngineMetadataError(f"{where} lacks {missing}")
        try:
            values = {k: v for k, v in data.items() if k in names}
            values["external_data"] = tuple((e["file"], e["sha256"]) for e in data["external_data"])
            values["profiles"] = {n: ShapeRange.from_json(r) for n, r in data["profiles"].items()}
            values["workspace_bytes"] = int(data["workspace_bytes"])
            values["builder_optimization_level"] = int(data["builder_optimization_level"])
            values.setdefault("build_recipe", 1)  # written before the field existed
            values.setdefault("tf32", True)
            for name in ("sm_count", "gpu_memory_bytes", "device_memory_bytes", "build_recipe"):
                if name in data:
                    values[name] = int(data[name])
            for name in ("tf32", "activation_resize"):
                if name in data and not isinstance(data[name], bool):
                    raise TypeError(f"{name} must be true or false, not {data[name]!r}")
            return cls(**values)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EngineMetadataError(f"{where} is malformed: {exc!r}") from exc


def package_version() -> str:
    try:
        return importlib.metadata.version("frozenseg-deploy")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def content_key(meta: EngineMetadata) -> str:
    """sha256 over every build input (the recipe version included), nothing else."""
    ident: dict[str, Any] = {"recipe": BUILD_RECIPE}
    for name in KEY_FIELDS:
        value = getattr(meta, name)
        if name == "profiles":
            value = {n: r.as_json() for n, r in sorted(value.items())}
        elif name == "external_data":
            value = sorted(list(pair) for pair in value)
        ident[name] = value
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


def metadata_path(engine_path: str | os.PathLike[str]) -> Path:
    """The sidecar of an engine: `decoder.fp16.engine` -> `decoder.fp16.engine.json`."""
    path = Path(engine_path)
    return path.with_name(path.name + ".json")


def write_metadata(path: str | os.PathLike[str], meta: EngineMetadata) -> Path:
    return write_bytes_atomic(path, (json.dumps(meta.to_json(), indent=2) + "\n").encode())


def read_metadata(path: str | os.PathLike[str]) -> EngineMetadata:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # bad JSON or UTF-8; absurd nesting
        raise EngineMetadataError(f"cannot read engine metadata {path}: {exc}") from exc
    return EngineMetadata.from_json(data, where=str(path))


def rebuild_command(artifacts: str | os.PathLike[str], precision: str,
                    graphs: Iterable[str] | None = None, force: bool = True) -> str:
    """The exact command that (re)builds engines for these graphs at this precision."""
    words = ["frozenseg-deploy", "build", "--artifacts", os.fspath(artifacts), "--precision", precision]
    if graphs:
        words += ["--graphs", *graphs]
    return shlex.join(words + ["--force"] if force else words)


def memory_matches(recorded: int, running: int) -> bool:
    """Same module by memory size: within MEMORY_TOLERANCE of the recorded size (0: unknown)."""
    return recorded <= 0 or running <= 0 or abs(recorded - running) <= recorded * MEMORY_TOLERANCE


def check_engine_compatible(meta: EngineMetadata, tensorrt_version: str | None = None,
                            gpu_name: str | None = None, compute_capability: str | None = None,
                            onnx_sha256: str | None = None, *, sm_count: int | None = None,
                            gpu_memory_bytes: int | None = None,
                            artifacts: str | os.PathLike[str] = "ARTIFACTS") -> None:
    """Raise EngineMismatchError listing every difference (None: not checked here).

    Engines are not portable across TensorRT versions (the full version string must match; we do
    not build version-compatible engines), nor across GPU models: the compute capability must
    match exactly, and so must the GPU name, the SM count and (within MEMORY_TOLERANCE) the memory,
    since tactics are timed on that model: every Jetson Orin module reports "Orin", 8.7, and an
    engine tuned on 16 SMs is not the one for 8. An engine of an older build recipe is refused
    whatever the machine (recipe 1 left TF32 on)."""
    differences = []
    if meta.build_recipe < BUILD_RECIPE:
        differences.append(f"it was built by build recipe {meta.build_recipe}, this runtime needs "
                           f"{BUILD_RECIPE} (recipe 1 left TF32 on: FP32 layers ran in TF32)")
    if tensorrt_version is not None and meta.tensorrt_version != tensorrt_version:
        differences.append(f"it was built with TensorRT {meta.tensorrt_version}, this is TensorRT "
                           f"{tensorrt_version} (engines are not portable across TensorRT versions)")
    if compute_capability is not None and meta.compute_capability != compute_capability:
        differences.append(f"it was built for compute capability {meta.compute_capability}, this "
                           f"GPU has {compute_capability}")
    if gpu_name is not None and meta.gpu_name != gpu_name:
        differences.append(f"it was built on GPU {meta.gpu_name!r}, this is {gpu_name!r}")
    if sm_count is not None and meta.sm_count and meta.sm_count != sm_count:
        differences.append(f"it was built on a GPU with {meta.sm_count} SMs, this one has {sm_count} "
                           f"(another module of the same family)")
    if gpu_memory_bytes is not None and not memory_matches(meta.gpu_memory_bytes, gpu_memory_bytes):
        differences.append(f"it was built on a GPU with {meta.gpu_memory_bytes / (1 << 30):.1f} GiB, this "
                           f"one has {gpu_memory_bytes / (1 << 30):.1f} GiB (another module of the same family)")
    if onnx_sha256 is not None and meta.onnx_sha256 != onnx_sha256:
        differences.append(f"it was built from an ONNX graph with sha256 {meta.onnx_sha256[:12]}..., "
                           f"the manifest's graph has {onnx_sha256[:12]}... (re-exported or "
                           f"re-quantized since)")
    if differences:
        raise EngineMismatchError(
            f"TensorRT engine {meta.engine_file or meta.graph} ({meta.graph}, {meta.precision}) "
            f"cannot be used: {'; '.join(differences)}. Rebuild it on this machine: "
            f"{rebuild_command(artifacts, meta.manifest_precision or meta.precision, [meta.graph])}"
        )
