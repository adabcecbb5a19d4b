"""Finding, checking and deserializing one graph's TensorRT engine; `runner.py` runs it.

Loading is apart from running (polygraphy's backend/<name>/{loader,runner}.py), in two steps that
fail at different times:

- `locate_engine`, when a runner is made (no TensorRT needed): the engine of (graph, precision)
  in `ARTIFACTS/engines/index.json`, whose sidecar must name the manifest's ONNX sha256;
- `load_engine`, on activation: the sidecar must also name this TensorRT version and GPU (checked
  before deserializing), the engine file must have the sha256 it records (a truncated copy fails
  clearly), and the deserialized engine's tensors must be the manifest's.

Each refusal is an `EngineMismatchError` (`EngineMissingError` when nothing was built) that names
the command rebuilding the engine.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from frozenseg_runtime.backends.base import NUMPY_DTYPES
from frozenseg_runtime.backends.tensorrt import cuda_runtime
from frozenseg_runtime.backends.tensorrt.engine_index import engines_dir, find_engine
from frozenseg_runtime.backends.tensorrt.engine_metadata import (
    EngineMetadata,
    check_engine_compatible,
    read_metadata,
    rebuild_command,
)
from frozenseg_runtime.backends.tensorrt.env import require_tensorrt
from frozenseg_runtime.backends.profiles import ShapeRange
from frozenseg_runtime.errors import EngineMismatchError
from frozenseg_runtime.manifest import GraphSpec

if TYPE_CHECKING:
    import tensorrt as trt


def artifacts_root(path: str | os.PathLike[str], spec: GraphSpec) -> Path:
    """The artifacts folder of a graph file: `path` minus the manifest's relative `spec.file`."""
    return Path(path).parents[max(len(Path(spec.file).parts), 1) - 1]


@dataclass(frozen=True)
class EngineRecord:
    """A built engine as the artifacts record it: its file and its metadata sidecar."""

    path: Path
    metadata: EngineMetadata
    artifacts: Path

    def rebuild_command(self) -> str:
        meta = self.metadata
        return rebuild_command(self.artifacts, meta.manifest_precision or meta.precision, [meta.graph])


def locate_engine(spec: GraphSpec, artifacts: Path) -> EngineRecord:
    """The engine recorded for `spec`, built from the manifest's ONNX graph."""
    entry = find_engine(artifacts, spec.name, spec.precision)
    folder = engines_dir(artifacts)
    metadata = read_metadata(folder / entry.metadata)
    check_engine_compatible(metadata, onnx_sha256=spec.sha256, artifacts=artifacts)
    return EngineRecord(folder / entry.engine, metadata, artifacts)


class LoadedEngine:
    """A deserialized engine, its tensors' profile and dtypes, and what it must not outlive."""

    def __init__(self, engine: trt.ICudaEngine, runtime: trt.Runtime, logger: trt.ILogger,
                 profile: dict[str, ShapeRange], dtypes: dict[str, type[np.generic]]) -> None:
        self.engine = engine
        self.profile = profile  # input name -> the range of the engine's optimization profile
        self.dtypes = dtypes  # input and output name -> numpy dtype
        self._runtime = runtime
        self._logger = logger

    def release(self) -> None:
        """Drop the engine, then the runtime and logger it came from (TensorRT's order)."""
        del self.engine
        del self._runtime
        del self._logger


def load_engine(record: EngineRecord, spec: GraphSpec, device: int) -> LoadedEngine:
    """Deserialize `record`'s engine on `device` once it is known to fit this TensorRT and GPU."""
    _, gpu = require_tensorrt(device)
    import tensorrt as trt  # the real package: require_tensorrt checked it

    meta = record.metadata
    check_engine_compatible(meta, trt.__version__, gpu.name, gpu.compute_capability, spec.sha256,
                            sm_count=gpu.sm_count, gpu_memory_bytes=gpu.total_memory,
                            artifacts=record.artifacts)
    data = record.path.read_bytes()
    if meta.engine_sha256 and hashlib.sha256(data).hexdigest() != meta.engine_sha256:
        raise EngineMismatchError(
            f"{record.path} does not match the sha256 in its metadata (truncated or replaced): "
            f"rebuild it with {record.rebuild_command()}"
        )
    cuda_runtime.set_device(device)
    logger = process_logger()
    runtime = trt.Runtime(logger)
    # The stubs say ICudaEngine; TensorRT returns None for a plan it cannot read.
    engine: trt.ICudaEngine | None = runtime.deserialize_cuda_engine(data)
    del data
    if engine is None:
        raise EngineMismatchError(f"TensorRT could not deserialize {record.path}; rebuild it")
    profile, dtypes = _engine_io(engine, spec, record)
    return LoadedEngine(engine, runtime, logger, profile, dtypes)


_logger: trt.ILogger | None = None
_logger_lock = threading.Lock()


def process_logger() -> trt.ILogger:
    """The one TensorRT logger of this process (the builder's too): TensorRT may keep the first
    logger it is given for the whole process, and NVIDIA's samples use one global logger."""
    global _logger
    import tensorrt as trt

    with _logger_lock:
        if _logger is None:
            _logger = trt.Logger(trt.Logger.WARNING)
        return _logger


def _engine_io(engine: trt.ICudaEngine, spec: GraphSpec, record: EngineRecord
               ) -> tuple[dict[str, ShapeRange], dict[str, type[np.generic]]]:
    """The engine's tensors are the manifest's, by name, direction and dtype: (profile, dtypes)."""
    import tensorrt as trt

    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
    outputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
    want_in, want_out = [t.name for t in spec.inputs], [t.name for t in spec.outputs]
    if sorted(inputs) != sorted(want_in) or sorted(outputs) != sorted(want_out):
        raise EngineMismatchError(
            f"{record.path}: engine tensors {inputs} -> {outputs} are not the manifest's "
            f"{want_in} -> {want_out}; rebuild it"
        )
    dtypes: dict[str, type[np.generic]] = {}
    for t in spec.inputs + spec.outputs:
        got = np.dtype(trt.nptype(engine.get_tensor_dtype(t.name))).name
        if got != np.dtype(NUMPY_DTYPES[t.dtype]).name:
            raise EngineMismatchError(f"{record.path}: tensor {t.name} is {got} in the engine, "
                                      f"{t.dtype} in the manifest; rebuild it")
        dtypes[t.name] = NUMPY_DTYPES[t.dtype]
    profile: dict[str, ShapeRange] = {}
    for t in spec.inputs:
        lo, opt, hi = (shape_tuple(s) for s in engine.get_tensor_profile_shape(t.name, 0))
        recorded = record.metadata.profiles.get(t.name)
        profile[t.name] = ShapeRange(lo, opt, hi, recorded.multiple if recorded else (1,) * len(lo))
    return profile, dtypes


def shape_tuple(shape: trt.Dims) -> tuple[int, ...]:
    """A TensorRT shape as ints (-1 where a dim is not known yet)."""
    return tuple(int(shape[i]) for i in range(len(shape)))
