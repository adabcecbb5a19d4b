"""One device buffer for the activations of TensorRT contexts that never run at the same time.

Each execution context needs scratch memory for its activations. Every context here is created
with `ExecutionContextAllocationStrategy.USER_MANAGED` and takes that memory from an arena: the
contexts of one runner (one per captured CUDA graph, see schedule.py) always share their runner's
arena, and engines that run one after another share one arena across runners. The buffer is sized
for the shapes actually run (`update_device_memory_size_for_shapes` after the shapes are set) and
grows on demand, up to `device_memory_size_v2` (the profile maximum): on a Jetson, GPU and CPU
share one memory, and the decoder's maximum is far beyond what one image with a small vocabulary
needs. (With TensorRT < 10.10, or an engine built without RUNTIME_ACTIVATION_RESIZE, TensorRT
reports the maximum for any shapes.)

Which graphs share, in the Segmenter (the graph registry's `shares_activations`):
- `clip_text` (run by `set_vocabulary`) and `decoder` (run after both encoders) run one after the
  other: they share (`graphs.activation_sharing_graphs()`, from the graph registry).
- `clip_image` and `sam_image` run at the same time, on two threads and two streams: each keeps
  its own memory, and neither joins an arena.

Sharing is made safe rather than merely likely: a member holds the arena's lock from its first
enqueue to its stream sync, so a thread encoding a vocabulary while another decodes an image is
serialized, never corrupted. Growing the buffer (a larger member attaches) re-points every member
and bumps `generation`, which tells runners to drop CUDA graphs captured on the old address.
The workspace limit given to `build` bounds the tactics' scratch, which is part of this memory.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from frozenseg_runtime.backends.tensorrt import cuda_runtime
from frozenseg_runtime.backends.tensorrt.schedule import next_capacity

if TYPE_CHECKING:
    import tensorrt as trt


def engine_device_memory(engine: trt.ICudaEngine) -> int:
    """Activation bytes a context of `engine` needs at most (the profile max; v2 counts
    weight-streaming scratch)."""
    return int(engine.device_memory_size_v2)


def _bind(context: trt.IExecutionContext, buffer: cuda_runtime.DeviceBuffer) -> None:
    context.set_device_memory(buffer.ptr, buffer.nbytes)


class ActivationArena:
    """Execution contexts whose activations live in one shared, growing device buffer."""

    def __init__(self, name: str = "shared") -> None:
        self.name = name
        self.lock = threading.RLock()  # held by a member from enqueue to sync, and while growing
        self.generation = 0
        self._buffer: cuda_runtime.DeviceBuffer | None = None
        # id(context) -> (context, the most it may need: its engine's device_memory_size_v2,
        # whether fit() has bound it to the buffer)
        self._members: dict[int, tuple[trt.IExecutionContext, int, bool]] = {}

    @property
    def nbytes(self) -> int:
        return 0 if self._buffer is None else self._buffer.nbytes

    @property
    def members(self) -> int:
        return len(self._members)

    def create_context(self, engine: trt.ICudaEngine) -> trt.IExecutionContext:
        """A USER_MANAGED context of `engine`, a member of the arena; fit() gives it memory once
        its shapes are set."""
        import tensorrt as trt  # loaded already: the engine came from it

        # The stubs say IExecutionContext; TensorRT returns None when it cannot make one.
        context: trt.IExecutionContext | None = engine.create_execution_context(
            trt.ExecutionContextAllocationStrategy.USER_MANAGED)
        if context is None:
            raise cuda_runtime.CudaError(f"TensorRT could not create an execution context ({self.name} arena)")
        with self.lock:
            self._members[id(context)] = (context, engine_device_memory(engine), False)
        return context

    def fit(self, context: trt.IExecutionContext) -> None:
        """Give `context` memory for the shapes just set on it: what TensorRT now says it needs,
        growing the buffer if needed (every member re-pointed, `generation` bumped)."""
        needed = int(context.update_device_memory_size_for_shapes())
        with self.lock:
            _, limit, _ = self._members[id(context)]
            self._members[id(context)] = (context, limit, True)
            if needed == 0:  # TensorRT's "error": fall back to the profile maximum
                needed = limit
            current = self.nbytes
            if self._buffer is None or needed > current:
                cap = max(m[1] for m in self._members.values())
                self._grow(next_capacity(needed, current, cap))
            else:
                assert self._buffer is not None
                _bind(context, self._buffer)

    def _grow(self, size: int) -> None:
        new = cuda_runtime.DeviceBuffer(size)
        for context, _, bound in self._members.values():
            if bound:
                _bind(context, new)
        old, self._buffer = self._buffer, new
        self.generation += 1
        if old is not None:
            old.free()

    def release(self, context: trt.IExecutionContext) -> None:
        """Forget a member; the buffer is freed with the last one."""
        with self.lock:
            self._members.pop(id(context), None)
            if not self._members and self._buffer is not None:
                buffer, self._buffer = self._buffer, None
                buffer.free()


_shared: dict[str, ActivationArena] = {}
_shared_lock = threading.Lock()


def shared_arena(key: str) -> ActivationArena:
    """The process-wide arena of `key` (the artifacts folder and device), created on first use."""
    with _shared_lock:
        if key not in _shared:
            _shared[key] = ActivationArena(key)
        return _shared[key]
