"""The native TensorRT backend's runner: one built engine per graph, run through cuda-python.

`TensorRTRunner` is a `backends.base.Runner` (activate / infer / deactivate, context manager,
`max_shape`). Finding the engine, checking it and deserializing it is `loader.py`'s; here:

- tensors are bound by name; device buffers are allocated once, at the profile's largest shapes,
  and reused; each call sets the input shapes and reads the output shapes back from the context;
- work runs on the runner's own non-blocking stream, so CLIP and SAM, which the Segmenter runs on
  two threads, run on two streams at once;
- optionally (`cuda_graph=True`) each input-shape combination is captured once as a CUDA graph
  and replayed, which saves the per-kernel launch cost of small, fixed-shape graphs (SAM);
- `clip_text` and `decoder` share one activation buffer (see `arena.py`) unless told otherwise.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from frozenseg_runtime.backends.base import check_feed
from frozenseg_runtime.backends.tensorrt import cuda_runtime
from frozenseg_runtime.backends.tensorrt.arena import (
    ActivationArena,
    shared_arena,
)
from frozenseg_runtime.backends.tensorrt.loader import (
    LoadedEngine,
    artifacts_root,
    load_engine,
    locate_engine,
    shape_tuple,
)
from frozenseg_runtime.backends.tensorrt.profiles import check_feed_shapes, output_max_shapes
from frozenseg_runtime.errors import InputError, ProfileShapeError
from frozenseg_runtime.graphs import activation_sharing_graphs
from frozenseg_runtime.manifest import GraphSpec

if TYPE_CHECKING:
    import tensorrt as trt

MAX_CUDA_GRAPHS = 16  # captured shape combinations kept per runner (oldest dropped first)

# The input shapes of one call: what a captured CUDA graph is valid for.
ShapeKey = tuple[tuple[str, tuple[int, ...]], ...]


@dataclass
class _Session:
    """What an active runner holds: the engine, one execution context, its stream and buffers."""

    loaded: LoadedEngine
    context: trt.IExecutionContext
    stream: cuda_runtime.Stream
    buffers: dict[str, cuda_runtime.DeviceBuffer]


class TensorRTRunner:
    """One graph's TensorRT engine; checks feeds against the manifest and the engine's profile."""

    def __init__(self, path: str | os.PathLike[str], spec: GraphSpec, *,
                 artifacts: str | os.PathLike[str] | None = None, cuda_graph: bool = False,
                 arena: ActivationArena | str | None = "auto", device: int = 0) -> None:
        self.path = Path(path)
        self.spec = spec
        self.artifacts = Path(artifacts) if artifacts is not None else artifacts_root(path, spec)
        self.device = device
        self.cuda_graph = cuda_graph
        self.record = locate_engine(spec, self.artifacts)
        if arena == "auto":
            shares = spec.name in activation_sharing_graphs()
            arena = shared_arena(f"{self.artifacts.resolve()}#cuda{device}") if shares else None
        self.arena: ActivationArena | None = arena if isinstance(arena, ActivationArena) else None
        self._lock = threading.Lock()
        self._session: _Session | None = None
        self._graphs: OrderedDict[ShapeKey, tuple[int, cuda_runtime.CudaGraph]] = OrderedDict()

    # -- lifecycle ----------------------------------------------------------------------------
    def activate(self) -> TensorRTRunner:
        with self._lock:
            if self._session is None:
                self._session = self._open()
        return self

    def _open(self) -> _Session:
        loaded = load_engine(self.record, self.spec, self.device)
        with ExitStack() as undo:  # frees what was made if a later step fails
            context = self._create_context(loaded.engine)
            undo.callback(self._leave_arena, context)
            stream = cuda_runtime.Stream()
            undo.callback(stream.destroy)
            buffers: dict[str, cuda_runtime.DeviceBuffer] = {}
            undo.callback(_free_buffers, buffers)
            self._allocate(context, loaded, buffers)
            undo.pop_all()
        return _Session(loaded, context, stream, buffers)

    def _create_context(self, engine: trt.ICudaEngine) -> trt.IExecutionContext:
        if self.arena is not None:
            return self.arena.create_context(engine)
        # The stubs say IExecutionContext; TensorRT returns None when it cannot make one.
        context: trt.IExecutionContext | None = engine.create_execution_context()
        if context is None:
            raise cuda_runtime.CudaError(f"{self.spec.name}: TensorRT could not create an execution context")
        return context

    def _leave_arena(self, context: trt.IExecutionContext) -> None:
        if self.arena is not None:
            self.arena.release(context)

    def _allocate(self, context: trt.IExecutionContext, loaded: LoadedEngine,
                  buffers: dict[str, cuda_runtime.DeviceBuffer]) -> None:
        """Buffers at the largest shapes: inputs at the profile max, outputs at the larger of the
        manifest's max and what the context reports for max-shaped inputs."""
        for name, rng in loaded.profile.items():
            context.set_input_shape(name, rng.max)
        sizes = {name: int(np.prod(rng.max)) for name, rng in loaded.profile.items()}
        for name, shape in output_max_shapes(self.spec).items():
            reported = shape_tuple(context.get_tensor_shape(name))
            volume = int(np.prod(shape))
            if all(d >= 0 for d in reported):
                volume = max(volume, int(np.prod(reported)))
            sizes[name] = volume
        for name, volume in sizes.items():
            buffers[name] = cuda_runtime.DeviceBuffer(volume * np.dtype(loaded.dtypes[name]).itemsize)
            if not context.set_tensor_address(name, buffers[name].ptr):
                raise cuda_runtime.CudaError(f"{self.spec.name}: TensorRT refused the address of {name}")

    def deactivate(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        """Wait for the work in flight, then free the graphs, the context, the buffers and stream,
        and the engine last (a context must not outlive its engine)."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            session.stream.synchronize()
        finally:
            graphs, self._graphs = list(self._graphs.values()), OrderedDict()
            for _, graph in graphs:
                graph.destroy()
            self._leave_arena(session.context)
            del session.context
            _free_buffers(session.buffers)
            session.stream.destroy()
            session.loaded.release()

    def __enter__(self) -> TensorRTRunner:
        return self.activate()

    def __exit__(self, *exc: object) -> None:
        self.deactivate()

    # -- inference ----------------------------------------------------------------------------
    def max_shape(self, input_name: str) -> tuple[int, ...]:
        """The largest shape of an input the engine accepts: its optimization profile's max."""
        session = self._session
        ranges = session.loaded.profile if session is not None else self.record.metadata.profiles
        return ranges[input_name].max

    def check_feed(self, feed: Mapping[str, np.ndarray]) -> None:
        check_feed(self.spec, feed)

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        session = self._active_session()
        self.check_feed(feed)
        arrays = {t.name: np.ascontiguousarray(feed[t.name]) for t in self.spec.inputs}
        try:
            check_feed_shapes({n: a.shape for n, a in arrays.items()}, session.loaded.profile)
        except ProfileShapeError as exc:
            raise InputError(f"{self.spec.name}: {exc}") from exc
        with self._lock, (self.arena.lock if self.arena is not None else nullcontext()):
            session = self._active_session()  # deactivate() may have run meanwhile
            cuda_runtime.set_device(self.device)
            return self._run(session, arrays)

    def _active_session(self) -> _Session:
        session = self._session
        if session is None:
            raise RuntimeError(f"{self.spec.name}: call activate() before infer()")
        return session

    def _run(self, session: _Session, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        context, stream, buffers = session.context, session.stream, session.buffers
        for name, array in arrays.items():
            if not context.set_input_shape(name, array.shape):
                raise InputError(f"{self.spec.name}: TensorRT refused shape {list(array.shape)} for {name}")
            cuda_runtime.copy_to_device(buffers[name].ptr, array, stream)
        outputs = {}
        for t in self.spec.outputs:
            shape = shape_tuple(context.get_tensor_shape(t.name))
            out = np.empty(shape, session.loaded.dtypes[t.name])
            if any(d < 0 for d in shape) or out.nbytes > buffers[t.name].nbytes:
                raise RuntimeError(f"{self.spec.name}: output {t.name} has shape {list(shape)}, beyond "
                                   f"its buffer of {buffers[t.name].nbytes} bytes")
            outputs[t.name] = out
        self._execute(session, tuple((n, a.shape) for n, a in arrays.items()))
        for name, out in outputs.items():
            cuda_runtime.copy_to_host(out, buffers[name].ptr, stream)
        stream.synchronize()
        return outputs

    def _enqueue(self, session: _Session) -> None:
        if not session.context.execute_async_v3(session.stream.handle):
            raise RuntimeError(f"{self.spec.name}: TensorRT execute_async_v3 failed (see its log)")

    def _execute(self, session: _Session, key: ShapeKey) -> None:
        if not self.cuda_graph:
            self._enqueue(session)
            return
        generation = self.arena.generation if self.arena is not None else 0
        cached = self._graphs.get(key)
        if cached is not None and cached[0] == generation:
            self._graphs.move_to_end(key)
            cached[1].launch(session.stream)
            return
        # A plain run first: after a shape change TensorRT does deferred work in the first
        # enqueue, which must not be captured. This run also produces this call's outputs.
        self._enqueue(session)
        try:
            graph = cuda_runtime.CudaGraph.capture(session.stream, lambda: self._enqueue(session))
        except (cuda_runtime.CudaError, RuntimeError) as exc:
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


def _free_buffers(buffers: dict[str, cuda_runtime.DeviceBuffer]) -> None:
    for buffer in buffers.values():
        buffer.free()
