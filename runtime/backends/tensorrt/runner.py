"""The native TensorRT backend's runner: one built engine per graph, run through cuda-python.

`TensorRTRunner` is a `backends.base.BaseRunner` (its lifecycle, lock and feed check), whose
session is the engine with its contexts and buffers. Finding the engine, checking it and deserializing it is `loader.py`'s; the decisions
that need no GPU (which context serves which shapes, when a graph replays, how far a buffer grows)
are `schedule.py`'s. Here:

- tensors are bound by name; device buffers and pinned host staging buffers are sized for the
  shapes a call uses and grown on demand (never beyond the profile's max unless a call needs
  more), so a Jetson does not hold the decoder's 768 MiB worst case for a 10-class vocabulary;
- every context is USER_MANAGED and takes its activations from an arena (`arena.py`), sized for
  the shapes run: the runner's own, or the one `clip_text` and `decoder` share;
- work runs on the runner's own non-blocking stream, so CLIP and SAM, which the Segmenter runs on
  two threads, run on two streams at once; copies go through pinned memory, so they are
  asynchronous DMA rather than the driver's staged, synchronous copies of pageable memory;
- optionally (`cuda_graph=True`) each input-shape combination gets its own execution context,
  captured once as a CUDA graph and replayed (NVIDIA: a graph is valid only for the shapes it was
  captured with; one context per graph, memory shared), which saves the per-kernel launch cost of
  small, fixed-shape graphs (SAM).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from frozenseg_runtime.backends.base import BaseRunner
from frozenseg_runtime.backends.tensorrt import cuda_runtime
from frozenseg_runtime.backends.tensorrt.arena import ActivationArena, shared_arena
from frozenseg_runtime.backends.tensorrt.loader import (
    LoadedEngine,
    artifacts_root,
    load_engine,
    locate_engine,
    shape_tuple,
)
from frozenseg_runtime.backends.profiles import check_feed_shapes, output_max_shapes
from frozenseg_runtime.backends.tensorrt.schedule import (
    Action,
    Choice,
    ContextSchedule,
    ShapeKey,
    next_capacity,
    shape_key,
    tensor_bytes,
)
from frozenseg_runtime.errors import InputError, ProfileShapeError
from frozenseg_runtime.graphs import activation_sharing_graphs
from frozenseg_runtime.manifest import GraphSpec

if TYPE_CHECKING:
    import tensorrt as trt

__all__ = ["TensorRTRunner", "ShapeKey"]


@dataclass
class _Session:
    """What an active runner holds: the engine, its contexts (one per captured shape key), their
    graphs, the stream, and the device and pinned buffers every context is bound to."""

    loaded: LoadedEngine
    arena: ActivationArena
    stream: cuda_runtime.Stream
    schedule: ContextSchedule
    limits: dict[str, int]  # tensor -> bytes at the profile max: where growth stops
    contexts: list[trt.IExecutionContext] = field(default_factory=list)
    graphs: dict[int, cuda_runtime.CudaGraph] = field(default_factory=dict)  # slot -> its graph
    buffers: dict[str, cuda_runtime.DeviceBuffer] = field(default_factory=dict)
    pinned: dict[str, cuda_runtime.PinnedBuffer] = field(default_factory=dict)
    io_generation: int = 0  # bumped when a device buffer moves: graphs captured on it are stale


class TensorRTRunner(BaseRunner[_Session]):
    """One graph's TensorRT engine; checks feeds against the manifest and the engine's profile."""

    def __init__(self, path: str | os.PathLike[str], spec: GraphSpec, *,
                 artifacts: str | os.PathLike[str] | None = None, cuda_graph: bool = False,
                 arena: ActivationArena | str | None = "auto", device: int = 0) -> None:
        super().__init__(spec)
        self.path = Path(path)
        self.artifacts = Path(artifacts) if artifacts is not None else artifacts_root(path, spec)
        self.device = device
        self.cuda_graph = cuda_graph
        self.record = locate_engine(spec, self.artifacts)
        if arena == "auto":
            shares = spec.name in activation_sharing_graphs()
            arena = shared_arena(f"{self.artifacts.resolve()}#cuda{device}") if shares else None
        # Shared with other runners (None: this runner's contexts share an arena of their own).
        self.arena: ActivationArena | None = arena if isinstance(arena, ActivationArena) else None

    # -- lifecycle ----------------------------------------------------------------------------
    def _open(self) -> _Session:
        loaded = load_engine(self.record, self.spec, self.device)
        with ExitStack() as undo:  # frees what was made if a later step fails
            undo.callback(loaded.release)
            arena = self.arena or ActivationArena(f"{self.spec.name}#cuda{self.device}")
            stream = cuda_runtime.Stream()
            undo.callback(stream.destroy)
            limits = {name: tensor_bytes(rng.max, loaded.dtypes[name]) for name, rng in loaded.profile.items()}
            limits.update({name: tensor_bytes(shape, loaded.dtypes[name])
                           for name, shape in output_max_shapes(self.spec).items()})
            session = _Session(loaded, arena, stream, ContextSchedule(self.cuda_graph), limits)
            undo.pop_all()
        return session

    def device_memory(self) -> dict[str, int]:
        """Device bytes this runner holds now: activations (its arena, shared or not) and I/O."""
        session = self._session
        if session is None:
            return {"activations": 0, "io": 0, "contexts": 0}
        return {"activations": session.arena.nbytes, "io": sum(b.nbytes for b in session.buffers.values()),
                "contexts": len(session.contexts)}

    def _close(self, session: _Session) -> None:
        """Wait for the work in flight, then free the graphs, the contexts (leaving the arena),
        the buffers and stream, and the engine last (a context must not outlive its engine)."""
        try:
            session.stream.synchronize()
        finally:
            for graph in session.graphs.values():
                graph.destroy()
            session.graphs.clear()
            while session.contexts:  # each gone before the arena may free the memory it ran in
                context = session.contexts.pop()
                session.arena.release(context)
                del context
            _free(session.buffers)
            _free(session.pinned)
            session.stream.destroy()
            session.loaded.release()

    # -- inference ----------------------------------------------------------------------------
    def max_shape(self, input_name: str) -> tuple[int, ...]:
        """The largest shape of an input the engine accepts: its optimization profile's max."""
        session = self._session
        ranges = session.loaded.profile if session is not None else self.record.metadata.profiles
        return ranges[input_name].max

    def _infer(self, session: _Session, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        arrays = {t.name: np.ascontiguousarray(feed[t.name]) for t in self.spec.inputs}
        try:
            check_feed_shapes({n: a.shape for n, a in arrays.items()}, session.loaded.profile)
        except ProfileShapeError as exc:
            raise InputError(f"{self.spec.name}: {exc}") from exc
        with self._lock, (self.arena.lock if self.arena is not None else nullcontext()):
            session = self._active_session()  # deactivate() may have run meanwhile
            cuda_runtime.set_device(self.device)
            return self._run(session, arrays)

    def _run(self, session: _Session, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        choice = session.schedule.choose(shape_key((n, a.shape) for n, a in arrays.items()))
        try:
            return self._run_on(session, choice, arrays)
        except BaseException:
            # The slot's shapes or graph are now unknown: never replay it, re-set it when reused.
            created = choice.new_context and len(session.contexts) <= choice.slot
            if session.schedule.abandon(choice.slot, created) and choice.slot in session.graphs:
                session.graphs.pop(choice.slot).destroy()
            raise

    def _run_on(self, session: _Session, choice: Choice, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if choice.drop_graph:
            session.graphs.pop(choice.slot).destroy()
        if choice.new_context:
            session.contexts.append(self._new_context(session))
        context = session.contexts[choice.slot]
        if choice.set_shapes:
            for name, array in arrays.items():
                if not context.set_input_shape(name, array.shape):
                    raise InputError(f"{self.spec.name}: TensorRT refused shape {list(array.shape)} for {name}")
        shapes = {name: array.shape for name, array in arrays.items()}
        for t in self.spec.outputs:
            shape = shape_tuple(context.get_tensor_shape(t.name))
            if any(d < 0 for d in shape):
                raise RuntimeError(f"{self.spec.name}: TensorRT left output {t.name} at shape {list(shape)}")
            shapes[t.name] = shape
        self._fit_buffers(session, shapes)
        if choice.set_shapes:
            session.arena.fit(context)  # after the shapes: TensorRT sizes activations for them
        stream = session.stream
        for name, array in arrays.items():
            staged = session.pinned[name].view(array.shape, session.loaded.dtypes[name])
            np.copyto(staged, array, casting="no")
            cuda_runtime.copy_to_device(session.buffers[name].ptr, session.pinned[name].ptr, array.nbytes, stream)
        self._execute(session, choice.slot, context)
        outputs = {}
        for t in self.spec.outputs:
            dtype = session.loaded.dtypes[t.name]
            nbytes = tensor_bytes(shapes[t.name], dtype)
            cuda_runtime.copy_to_host(session.pinned[t.name].ptr, session.buffers[t.name].ptr, nbytes, stream)
        stream.synchronize()
        for t in self.spec.outputs:
            outputs[t.name] = session.pinned[t.name].view(shapes[t.name], session.loaded.dtypes[t.name]).copy()
        return outputs

    def _new_context(self, session: _Session) -> trt.IExecutionContext:
        """A context bound to every buffer allocated so far (later growth re-binds them all)."""
        context = session.arena.create_context(session.loaded.engine)
        try:
            for name, buffer in session.buffers.items():
                if not context.set_tensor_address(name, buffer.ptr):
                    raise cuda_runtime.CudaError(f"{self.spec.name}: TensorRT refused the address of {name}")
        except BaseException:
            session.arena.release(context)
            raise
        return context

    def _fit_buffers(self, session: _Session, shapes: Mapping[str, tuple[int, ...]]) -> None:
        """Device and pinned buffers large enough for this call's tensors, grown (never shrunk)
        by `next_capacity`; a device buffer that moves is re-bound on every context."""
        for name, shape in shapes.items():
            needed = tensor_bytes(shape, session.loaded.dtypes[name])
            pinned = session.pinned.get(name)
            if pinned is None or needed > pinned.nbytes:
                size = next_capacity(needed, pinned.nbytes if pinned else 0, session.limits[name])
                session.pinned[name] = cuda_runtime.PinnedBuffer(size)
                if pinned is not None:
                    pinned.free()
            buffer = session.buffers.get(name)
            if buffer is not None and needed <= buffer.nbytes:
                continue
            size = next_capacity(needed, buffer.nbytes if buffer else 0, session.limits[name])
            if buffer is not None:
                session.stream.synchronize()  # nothing in flight may still use the old block
            grown = cuda_runtime.DeviceBuffer(size)
            session.buffers[name] = grown
            session.io_generation += 1
            if buffer is not None:
                buffer.free()
            for context in session.contexts:
                if not context.set_tensor_address(name, grown.ptr):
                    raise cuda_runtime.CudaError(f"{self.spec.name}: TensorRT refused the address of {name}")

    def _enqueue(self, context: trt.IExecutionContext, stream: cuda_runtime.Stream) -> None:
        if not context.execute_async_v3(stream.handle):
            raise RuntimeError(f"{self.spec.name}: TensorRT execute_async_v3 failed (see its log)")

    def _execute(self, session: _Session, slot: int, context: trt.IExecutionContext) -> None:
        stream = session.stream
        stamp = (session.arena.generation, session.io_generation)
        action = session.schedule.action(slot, stamp)
        if action is Action.REPLAY:
            session.graphs[slot].launch(stream)
            return
        # A plain run first: it produces this call's outputs, and TensorRT's deferred work after
        # a shape or memory change happens here, not in the capture.
        self._enqueue(context, stream)
        if action is Action.ENQUEUE:
            return
        stale = session.graphs.pop(slot, None)
        if stale is not None:
            stale.destroy()
        stream.synchronize()  # trtexec and Triton wait here: nothing of the warm-up is captured
        try:
            graph = cuda_runtime.CudaGraph.capture(stream, lambda: self._enqueue(context, stream))
        except (cuda_runtime.CudaError, RuntimeError) as exc:
            warnings.warn(f"{self.spec.name}: CUDA graph capture failed ({exc}); running without",
                          RuntimeWarning, stacklevel=4)
            for index in session.schedule.capture_failed():
                session.graphs.pop(index).destroy()
            return
        session.graphs[slot] = graph
        session.schedule.captured(slot, stamp)


def _free(buffers: Mapping[str, cuda_runtime.DeviceBuffer | cuda_runtime.PinnedBuffer]) -> None:
    for buffer in buffers.values():
        buffer.free()
