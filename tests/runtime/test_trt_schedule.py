"""The TensorRT runner's GPU-free decisions (runtime/backends/tensorrt/schedule.py): which
execution context serves which input shapes, when a CUDA graph replays or is dropped, and how far
a reused buffer grows. The C++ runner makes the same decisions (test_runner_tensorrt_artifacts.cpp).
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from frozenseg_runtime.backends.tensorrt import cuda_runtime
from frozenseg_runtime.backends.tensorrt.schedule import (
    MAX_CONTEXTS,
    Action,
    ContextSchedule,
    next_capacity,
    shape_key,
    tensor_bytes,
)

A = shape_key([("image", (1, 3, 320, 320))])
B = shape_key([("image", (1, 3, 384, 320))])
C = shape_key([("image", (1, 3, 640, 640))])
STAMP = (0, 0)


def test_a_graph_replays_only_on_the_context_set_to_its_shapes():
    """NVIDIA (#3798): after a shape change a graph must be re-captured; one context per graph."""
    schedule = ContextSchedule(cuda_graph=True)
    first = schedule.choose(A)
    assert (first.slot, first.new_context, first.set_shapes) == (0, True, True)
    assert schedule.action(0, STAMP) is Action.CAPTURE
    schedule.captured(0, STAMP)
    other = schedule.choose(B)  # another shape: its own context, never context 0 re-set
    assert (other.slot, other.new_context, other.set_shapes) == (1, True, True)
    assert schedule.action(1, STAMP) is Action.CAPTURE
    schedule.captured(1, STAMP)
    again = schedule.choose(A)  # back to A: replayed on context 0 with no set_input_shape
    assert (again.slot, again.new_context, again.set_shapes, again.drop_graph) == (0, False, False, False)
    assert schedule.action(0, STAMP) is Action.REPLAY
    assert schedule.key_of(0) == A and schedule.key_of(1) == B


def test_the_least_recently_used_context_is_re_set_and_its_graph_dropped():
    schedule = ContextSchedule(cuda_graph=True, capacity=2)
    for key in (A, B):
        slot = schedule.choose(key).slot
        schedule.captured(slot, STAMP)
    schedule.choose(A)  # B is now the least recently used
    choice = schedule.choose(C)
    assert (choice.slot, choice.new_context, choice.set_shapes, choice.drop_graph) == (1, False, True, True)
    assert schedule.action(1, STAMP) is Action.CAPTURE  # C's graph is captured afresh
    assert schedule.contexts == 2 and schedule.key_of(1) == C
    assert schedule.choose(A).slot == 0 and schedule.action(0, STAMP) is Action.REPLAY


def test_moved_memory_makes_a_graph_stale():
    """A graph holds the addresses it was captured on: an arena that grew or an I/O buffer that
    moved (a new stamp) means capture again, on the same context (its shapes did not change)."""
    schedule = ContextSchedule(cuda_graph=True)
    schedule.choose(A)
    schedule.captured(0, (0, 0))
    assert schedule.action(0, (1, 0)) is Action.CAPTURE  # activation arena grew
    assert schedule.action(0, (0, 1)) is Action.CAPTURE  # an input or output buffer grew
    choice = schedule.choose(A)
    assert not choice.set_shapes and not choice.drop_graph


def test_a_failed_capture_turns_graphs_off_and_names_the_graphs_to_free():
    schedule = ContextSchedule(cuda_graph=True)
    schedule.choose(A)
    schedule.captured(0, STAMP)
    schedule.choose(B)
    assert schedule.capture_failed() == [0]  # B's capture failed; A's graph is freed too
    assert schedule.action(0, STAMP) is Action.ENQUEUE and schedule.action(1, STAMP) is Action.ENQUEUE
    choice = schedule.choose(C)  # no new context: the two made serve every later shape
    assert not choice.new_context and choice.set_shapes and not choice.drop_graph
    assert schedule.contexts == 2


def test_without_graphs_one_context_serves_every_shape():
    schedule = ContextSchedule(cuda_graph=False)
    assert schedule.choose(A).new_context
    for key in (B, C, A):
        choice = schedule.choose(key)
        assert (choice.slot, choice.new_context, choice.set_shapes) == (0, False, True)
        assert schedule.action(0, STAMP) is Action.ENQUEUE
    assert not schedule.choose(A).set_shapes  # the same shapes again: nothing to set


def test_a_call_that_failed_part_way_is_never_replayed():
    schedule = ContextSchedule(cuda_graph=True)
    schedule.choose(A)
    schedule.captured(0, STAMP)
    schedule.choose(B)
    assert schedule.abandon(1, created=True) is False  # its context was never made: the slot goes
    assert schedule.contexts == 1
    assert schedule.abandon(0, created=False) is True  # shapes unknown now: its graph must go
    choice = schedule.choose(A)
    assert choice.set_shapes and not choice.drop_graph and schedule.action(choice.slot, STAMP) is Action.CAPTURE


def test_capacity_is_bounded():
    schedule = ContextSchedule(cuda_graph=True)
    for side in range(MAX_CONTEXTS + 5):
        schedule.choose(shape_key([("image", (1, 3, 32 * (side + 1), 32))]))
    assert schedule.contexts == MAX_CONTEXTS
    with pytest.raises(ValueError):
        ContextSchedule(cuda_graph=True, capacity=0)


def test_buffers_grow_for_what_is_used_not_the_profile_max():
    """The decoder's text_embeddings at the profile max is 2048 x 128 x 768 float32 = 768 MiB; a
    10-class vocabulary with 2 synonyms needs 60 KiB."""
    limit = tensor_bytes((2048, 128, 768), np.float32)
    assert limit == 768 << 20
    small = tensor_bytes((10, 2, 768), np.float32)
    assert next_capacity(small, 0, limit) == small
    assert next_capacity(small // 2, small, limit) == small  # fits: kept
    assert next_capacity(small + 4, small, limit) == small + small // 2  # half again at least
    assert next_capacity(limit * 3 // 4 + 4, limit * 3 // 4, limit) == limit  # capped at the profile max
    assert next_capacity(limit + 8, limit, limit) == limit + 8  # never less than a call needs
    assert tensor_bytes((0, 768), np.float32) == 0


def test_pinned_views_are_the_buffer_itself():
    """PinnedBuffer.view maps the page-locked block without a copy (checked on host memory)."""
    block = (ctypes.c_char * 64)()
    pinned = cuda_runtime.PinnedBuffer.__new__(cuda_runtime.PinnedBuffer)
    pinned.ptr, pinned.nbytes = ctypes.addressof(block), 64
    view = pinned.view((2, 3), np.float32)
    view[:] = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert np.frombuffer(bytes(block)[:24], np.float32).tolist() == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError):
        pinned.view((5, 5), np.float32)
    pinned.ptr = 0  # not ours to free
