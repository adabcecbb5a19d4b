"""The native TensorRT backend: one built engine per graph, run through cuda-python.

`TensorRTRunner` has the interface of `OnnxRuntimeRunner` (activate / infer / deactivate, context
manager, `check_feed`). Per runner:

- the engine comes from `ARTIFACTS/engines/index.json` by (graph, precision); its sidecar must
  name the manifest's ONNX sha256 (checked when the runner is made), and this TensorRT version and
  GPU (checked on activation, before deserializing): `EngineMismatchError` with the rebuild
  command otherwise. The engine file's own sha256 is checked too (a truncated copy fails clearly);
- tensors are bound by name; device buffers are allocated once, at the profile's largest shapes,
  and reused; each call sets the input shapes and reads the output shapes back from the context;
- work runs on the runner's own non-blocking stream, so CLIP and SAM, which the Segmenter runs on
  two threads, run on two streams at once;
- optionally (`cuda_graph=True`) each input-shape combination is captured once as a CUDA graph
  and replayed, which saves the per-kernel launch cost of small, fixed-shape graphs (SAM);
- `clip_text` and `decoder` share one activation buffer (see `trt_arena`) unless told otherwise.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime.backends.tensorrt import cuda_runtime as cuda_rt
from frozenseg_runtime.backends.factory import InputError
from frozenseg_runtime.backends.factory import OnnxRuntimeRunner
from frozenseg_runtime.manifest import GraphSpec
from frozenseg_runtime.backends.tensorrt.arena import SEQUENTIAL_GRAPHS
from frozenseg_runtime.backends.tensorrt.arena import ActivationArena
from frozenseg_runtime.backends.tensorrt.arena import shared_arena
from frozenseg_runtime.backends.tensorrt.engine_index import engines_dir
from frozenseg_runtime.backends.tensorrt.engine_index import find_engine
from frozenseg_runtime.backends.tensorrt.engine_meta import (
    EngineMetadata,
    EngineMismatchError,
    check_engine_compatible,
    read_metadata,
    rebuild_command,
)
from frozenseg_runtime.backends.tensorrt.env import require_tensorrt
from frozenseg_runtime.backends.tensorrt.profiles import ProfileShapeError
from frozenseg_runtime.backends.tensorrt.profiles import ShapeRange
from frozenseg_runtime.backends.tensorrt.profiles import check_feed_shapes
from frozenseg_runtime.backends.tensorrt.profiles import output_max_shapes

MAX_CUDA_GRAPHS = 16  # captured shape combinations kept per runner (oldest dropped first)
_NUMPY = {"float32": np.float32, "float16": np.float16, "int64": np.int64, "int32": np.int32,
          "int8": np.int8, "uint8": np.uint8, "bool": np.bool_}


def artifacts_root(path: str | os.PathLike, spec: GraphSpec) -> Path:
    """The artifacts folder of a graph file: `path` minus the manifest's relative `spec.file`."""
    return Path(path).parents[max(len(Path(spec.file).parts), 1) - 1]


def _trt_dtype_name(trt: Any, dtype: Any) -> str:
    return np.dtype(trt.nptype(dtype)).name


class TensorRTRunner:
    """One graph's TensorRT engine; checks feeds against the manifest and the engine's profile."""

    # The same dtype / rank / fixed-dim checks as the ONNX Runtime runner (they read only self.spec).
    check_feed = OnnxRuntimeRunner.check_feed

    def __init__(self, path: str | os.PathLike, spec: GraphSpec, *,
                 artifacts: str | os.PathLike | None = None, cuda_graph: bool = False,
                 arena: ActivationArena | str | None = "auto", device: int = 0) -> None:
        self.path = Path(path)
        self.spec = spec
        self.artifacts = Path(artifacts) if artifacts is not None else artifacts_root(path, spec)
        self.device = device
        self.cuda_graph = cuda_graph
        entry = find_engine(self.artifacts, spec.name, spec.precision)
        folder = engines_dir(self.artifacts)
        self.engine_path = folder / entry.engine
        self.metadata: EngineMetadata = read_metadata(folder / entry.metadata)
        check_engine_compatible(self.metadata, onnx_sha256=spec.sha256, artifacts=self.artifacts)
        if arena == "auto":
            arena = shared_arena(f"{self.artifacts.resolve()}#cuda{device}") if spec.name in SEQUENTIAL_GRAPHS else None
        self.arena: ActivationArena | None = arena if isinstance(arena, ActivationArena) else None
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        # Dropped in this order: context, engine, then the runtime and logger they came from.
        self._context: Any = None
        self._engine: Any = None
        self._runtime: Any = None
        self._logger: Any = None
        self._stream: cuda_rt.Stream | None = None
        self._buffers: dict[str, cuda_rt.DeviceBuffer] = {}
        self._dtypes: dict[str, Any] = {}
        self.profile: dict[str, ShapeRange] = {}
        self._graphs: OrderedDict[tuple, tuple[int, cuda_rt.CudaGraph]] = OrderedDict()

    # -- lifecycle ----------------------------------------------------------------------------
    def activate(self) -> "TensorRTRunner":
        with self._lock:
            if self._context is None:
                try:
                    self._load()
                except BaseException:
                    self._release()
                    raise
        return self

    def _load(self) -> None:
        trt, device = require_tensorrt(self.device)
        meta = self.metadata
        check_engine_compatible(meta, trt.__version__, device.name, device.compute_capability,
                                self.spec.sha256, artifacts=self.artifacts)
        data = self.engine_path.read_bytes()
        if meta.engine_sha256 and hashlib.sha256(data).hexdigest() != meta.engine_sha256:
            raise EngineMismatchError(
                f"{self.engine_path} does not match the sha256 in its metadata (truncated or "
                f"replaced): rebuild it with "
                f"{rebuild_command(self.artifacts, meta.manifest_precision or meta.precision, [meta.graph])}"
            )
        cuda_rt.set_device(self.device)
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self._engine = self._runtime.deserialize_cuda_engine(data)
        del data
        if self._engine is None:
            raise EngineMismatchError(f"TensorRT could not deserialize {self.engine_path}; rebuild it")
        self._check_io(trt)
        if self.arena is not None:
            self._context = self.arena.create_context(self._engine, trt)
        else:
            self._context = self._engine.create_execution_context()
        if self._context is None:
            raise cuda_rt.CudaError(f"{self.spec.name}: TensorRT could not create an execution context")
        self._stream = cuda_rt.Stream()
        self._allocate()

    def _check_io(self, trt: Any) -> None:
        """The engine's tensors are the manifest's, by name, direction and dtype."""
        engine = self._engine
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        want_in, want_out = [t.name for t in self.spec.inputs], [t.name for t in self.spec.outputs]
        if sorted(inputs) != sorted(want_in) or sorted(outputs) != sorted(want_out):
            raise EngineMismatchError(
                f"{self.engine_path}: engine tensors {inputs} -> {outputs} are not the manifest's "
                f"{want_in} -> {want_out}; rebuild it"
            )
        for t in self.spec.inputs + self.spec.outputs:
            got = _trt_dtype_name(trt, engine.get_tensor_dtype(t.name))
            if got != np.dtype(_NUMPY[t.dtype]).name:
                raise EngineMismatchError(f"{self.engine_path}: tensor {t.name} is {got} in the engine, "
                                          f"{t.dtype} in the manifest; rebuild it")
            self._dtypes[t.name] = _NUMPY[t.dtype]
        for t in self.spec.inputs:
            lo, opt, hi = (tuple(int(d) for d in s) for s in engine.get_tensor_profile_shape(t.name, 0))
            recorded = self.metadata.profiles.get(t.name)
            self.profile[t.name] = ShapeRange(lo, opt, hi, recorded.multiple if recorded else (1,) * len(lo))

    def _allocate(self) -> None:
        """Buffers at the largest shapes: inputs at the profile max, outputs at the larger of the
        manifest's max and what the context reports for max-shaped inputs."""
        context = self._context
        for name, rng in self.profile.items():
            context.set_input_shape(name, rng.max)
        declared = output_max_shapes(self.spec)
        sizes = {name: int(np.prod(rng.max)) for name, rng in self.profile.items()}
        for name, shape in declared.items():
            reported = tuple(context.get_tensor_shape(name))
            volume = int(np.prod(shape))
            if all(d >= 0 for d in reported):
                volume = max(volume, int(np.prod(reported)))
            sizes[name] = volume
        for name, volume in sizes.items():
            self._buffers[name] = cuda_rt.DeviceBuffer(volume * np.dtype(self._dtypes[name]).itemsize)
            if not context.set_tensor_address(name, self._buffers[name].ptr):
                raise cuda_rt.CudaError(f"{self.spec.name}: TensorRT refused the address of {name}")

    def deactivate(self) -> None:
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._stream is not None:
            try:
                self._stream.synchronize()
            finally:
                for _, graph in self._graphs.values():
                    graph.destroy()
        context, self._context = self._context, None
        if context is not None and self.arena is not None:
            self.arena.release(context)
        del context
        for buffer in self._buffers.values():
            buffer.free()
        if self._stream is not None:
            self._stream.destroy()
        self._reset()

    def __enter__(self) -> "TensorRTRunner":
        return self.activate()

    def __exit__(self, *exc: object) -> None:
        self.deactivate()

    # -- inference ----------------------------------------------------------------------------
    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._context is None:
            raise RuntimeError(f"{self.spec.name}: call activate() before infer()")
        self.check_feed(feed)
        arrays = {t.name: np.ascontiguousarray(feed[t.name]) for t in self.spec.inputs}
        try:
            check_feed_shapes({n: a.shape for n, a in arrays.items()}, self.profile)
        except ProfileShapeError as exc:
            raise InputError(f"{self.spec.name}: {exc}") from exc
        with self._lock, (self.arena.lock if self.arena is not None else nullcontext()):
            cuda_rt.set_device(self.device)
            return self._run(arrays)

    def _run(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        context, stream = self._context, self._stream
        for name, array in arrays.items():
            if not context.set_input_shape(name, array.shape):
                raise InputError(f"{self.spec.name}: TensorRT refused shape {list(array.shape)} for {name}")
            cuda_rt.copy_to_device(self._buffers[name].ptr, array, stream)
        outputs = {}
        for t in self.spec.outputs:
            shape = tuple(int(d) for d in context.get_tensor_shape(t.name))
            out = np.empty(shape, self._dtypes[t.name])
            if any(d < 0 for d in shape) or out.nbytes > self._buffers[t.name].nbytes:
                raise RuntimeError(f"{self.spec.name}: output {t.name} has shape {list(shape)}, beyond "
                                   f"its buffer of {self._buffers[t.name].nbytes} bytes")
            outputs[t.name] = out
        self._execute(tuple((n, a.shape) for n, a in arrays.items()))
        for name, out in outputs.items():
            cuda_rt.copy_to_host(out, self._buffers[name].ptr, stream)
        stream.synchronize()
        return outputs

    def _enqueue(self) -> None:
        if not self._context.execute_async_v3(self._stream.handle):
            raise RuntimeError(f"{self.spec.name}: TensorRT execute_async_v3 failed (see its log)")

    def _execute(self, key: tuple) -> None:
        if not self.cuda_graph:
            self._enqueue()
            return
        generation = self.arena.generation if self.arena is not None else 0
        cached = self._graphs.get(key)
        if cached is not None and cached[0] == generation:
            self._graphs.move_to_end(key)
            cached[1].launch(self._stream)
            return
        # A plain run first: after a shape change TensorRT does deferred work in the first
        # enqueue, which must not be captured. This run also produces this call's outputs.
        self._enqueue()
        try:
            graph = cuda_rt.CudaGraph.capture(self._stream, self._enqueue)
        except (cuda_rt.CudaError, RuntimeError) as exc:
            warnings.warn(f"{self.spec.name}: CUDA graph capture failed ({exc}); running without",
                          RuntimeWarning, stacklevel=3)
            self.cuda_graph = False
            return
        if cached is not None:
            cached[1].destroy()
        self._graphs[key] = (generation, graph)
        if len(self._graphs) > MAX_CUDA_GRAPHS:
            _, (_, oldest) = self._graphs.popitem(last=False)
            oldest.destroy()
