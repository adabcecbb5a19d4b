"""The TensorRT runner's decisions that need no GPU: which execution context serves which input
shapes, when its CUDA graph may be replayed, and how far a reused buffer grows.

CUDA graphs: NVIDIA's guidance (developer guide, "CUDA Graphs"; a maintainer in NVIDIA/TensorRT
issue #3798) is that a graph captured on a context is valid only for the input shapes it was
captured with (setting shapes changes the context's internal state), and that the practice is one
execution context per captured graph, with memory shared across the contexts. So here each context
is dedicated to one shape key for as long as it holds a graph: a hit replays with no
`set_input_shape` and no enqueue in between; a new key takes a fresh context (up to
`MAX_CONTEXTS`) or the least recently used one, whose graph is dropped first. A graph is also
stale once the memory it was captured on moved (`Stamp`). A failed capture turns graphs off for
the runner, as trtexec does, rather than retrying a capture per call.

Buffers: sized for what a call uses and grown on demand, by half again at least (few regrowths),
never beyond the profile's maximum unless a call needs more. Mirrored by
runtime/cpp/src/runner/tensorrt/schedule.hpp; tests/runtime/test_trt_schedule.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import numpy as np

MAX_CONTEXTS = 8  # execution contexts (each with its captured graph) kept per runner with graphs

# A call's input shapes, in the graph's input order: what a context is set to.
ShapeKey = tuple[tuple[str, tuple[int, ...]], ...]
# (activation memory generation, I/O buffer generation) that a graph was captured on.
Stamp = tuple[int, int]


class Action(Enum):
    ENQUEUE = "enqueue"  # execute_async_v3 (graphs off)
    CAPTURE = "capture"  # enqueue once (also this call's outputs), sync, capture, keep the graph
    REPLAY = "replay"  # launch the slot's graph: shapes and memory are those it was captured with


@dataclass(frozen=True)
class Choice:
    """Where a call runs: context `slot`, and what the runner must do to it first."""

    slot: int
    new_context: bool  # create context `slot` (it does not exist yet)
    set_shapes: bool  # set the call's input shapes on it (and size its activation memory)
    drop_graph: bool  # destroy its graph first: it was captured for other shapes


@dataclass
class _Slot:
    key: ShapeKey
    graph: Stamp | None = None  # the stamp its graph was captured on; None: no graph


class ContextSchedule:
    """Execution contexts by shape key, most recently used last; not thread-safe (the runner's
    lock serializes calls)."""

    def __init__(self, cuda_graph: bool, capacity: int = MAX_CONTEXTS) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.cuda_graph = cuda_graph
        # Without graphs one context serves every shape (setting shapes is all a change costs).
        self.capacity = capacity if cuda_graph else 1
        self._slots: list[_Slot] = []
        self._order: list[int] = []  # slot indices, least recently used first

    @property
    def contexts(self) -> int:
        return len(self._slots)

    def key_of(self, slot: int) -> ShapeKey:
        return self._slots[slot].key

    def choose(self, key: ShapeKey) -> Choice:
        """The context for `key`: the one already set to it, a new one, or the least recently
        used (re-set, its graph dropped)."""
        for index, slot in enumerate(self._slots):
            if slot.key == key:
                self._touch(index)
                return Choice(index, new_context=False, set_shapes=False, drop_graph=False)
        if len(self._slots) < self.capacity:
            self._slots.append(_Slot(key))
            self._order.append(len(self._slots) - 1)
            return Choice(len(self._slots) - 1, new_context=True, set_shapes=True, drop_graph=False)
        index = self._order[0]
        dropped = self._slots[index].graph is not None
        self._slots[index] = _Slot(key)
        self._touch(index)
        return Choice(index, new_context=False, set_shapes=True, drop_graph=dropped)

    def action(self, slot: int, stamp: Stamp) -> Action:
        """What to run on `slot` now that its memory is in place (`stamp`)."""
        if not self.cuda_graph:
            return Action.ENQUEUE
        return Action.REPLAY if self._slots[slot].graph == stamp else Action.CAPTURE

    def captured(self, slot: int, stamp: Stamp) -> None:
        self._slots[slot].graph = stamp

    def capture_failed(self) -> list[int]:
        """Graphs off for good (trtexec's answer too); the slots whose graphs must be destroyed.
        The contexts already made stay, and no more are made."""
        self.cuda_graph = False
        self.capacity = max(len(self._slots), 1)
        holding = [i for i, slot in enumerate(self._slots) if slot.graph is not None]
        for index in holding:
            self._slots[index].graph = None
        return holding

    def abandon(self, slot: int, created: bool) -> bool:
        """A call on `slot` failed part-way: its shapes are unknown, so it matches no key again
        (reused, it is re-set); `created`: its context was never made, the slot goes. Returns
        whether it held a graph, which the runner must destroy."""
        had_graph = self._slots[slot].graph is not None
        if created and slot == len(self._slots) - 1:
            self._slots.pop()
            self._order.remove(slot)
        else:
            self._slots[slot] = _Slot(key=())
        return had_graph

    def _touch(self, index: int) -> None:
        self._order.remove(index)
        self._order.append(index)


def shape_key(shapes: Iterable[tuple[str, Iterable[int]]]) -> ShapeKey:
    return tuple((name, tuple(int(d) for d in shape)) for name, shape in shapes)


def tensor_bytes(shape: Iterable[int], dtype: type[np.generic] | np.dtype) -> int:
    """Bytes of a C-contiguous tensor of `shape` (0 for an empty one)."""
    return int(np.prod(tuple(shape), dtype=np.int64)) * np.dtype(dtype).itemsize


def next_capacity(needed: int, current: int, limit: int) -> int:
    """The size a reused buffer of `current` bytes takes for a call that needs `needed`: itself
    when it fits, else at least half again (so a run of growing shapes regrows a few times, not
    every call), capped at `limit` (the profile maximum), and never less than `needed`."""
    if needed <= current:
        return current
    return max(needed, min(max(needed, current + current // 2), limit))
