"""A contender in a process of its own, its calls still alternating with the others'.

Why (issue 25, item 6): in one process, PyTorch eager calls that alternated with the Python
runtime's took 26.9 s against 17.3 s for its own consecutive rounds (full preset, 800x800, 2-core
Xeon, `benchmarks/alternation.py`, medians of 3). ONNX Runtime's spinning threads were not the
cause: 27.7 s with spinning off. The baseline's calls fault in fresh pages: 3.1 million minor
faults a call alone, 5.7 million alternating, as the two share glibc's heap and what one frees the
other's next call faults in again. With the runtime's arena off they took 19.6 s. With the
baseline in a process of its own they took 17.8 s alternating against 18.0 s alone, even beside
the runtime with its arenas on (13.3 GB resident, 4.9 GB left on the machine). So `bench` runs
the baseline here: the same pairing, the same machine, no shared heap.

The child process is started with `spawn` (no torch or ONNX Runtime state inherited). Each method
call is a message; the child times its own stages, so the pipe's cost is not in the figures. Its
memory is sampled there (`memory.PeakMemory`), as the parent samples a contender's.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from frozenseg_bench.contenders import Contender, Resize, StageTimes
from frozenseg_bench.memory import MemoryPeak, PeakMemory

# Methods whose work counts for the contender's memory (as run.py counts a contender's).
COUNTED = frozenset({"load", "set_vocabulary", "segment"})


class ContenderProcessError(RuntimeError):
    """The isolated contender raised, or its process died; the message carries its traceback."""


def _serve(connection: Connection, make: Callable[[], Contender], preload: tuple[str, ...]) -> None:
    """The child's loop: import `preload`, build the contender, then answer (method, args) messages
    until close."""
    for module in preload:
        importlib.import_module(module)
    tracker = PeakMemory()
    contender = make()
    while True:
        method, args = connection.recv()
        try:
            if method == "peak_memory":
                result: Any = tracker.peak()
            elif method in COUNTED:
                with tracker.counting():
                    result = getattr(contender, method)(*args)
            else:
                result = getattr(contender, method)(*args)
            connection.send(("ok", result))
        except BaseException as exc:  # the parent re-raises it with the child's traceback
            connection.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        if method == "close":
            tracker.stop()
            return


class IsolatedContender(Contender):
    """`make()`'s contender, run in a child process; names and precision are read from a local
    twin made by the same `make` (constructing a contender loads nothing). `preload`: modules the
    child imports before its memory is sampled, as bench's own process had them imported before
    the baseline loaded there (torch), so that both measure the same things."""

    def __init__(self, make: Callable[[], Contender], preload: tuple[str, ...] = ()) -> None:
        twin = make()
        self.runtime, self.backend, self.precision = twin.runtime, twin.backend, twin.precision
        self.variant = twin.variant
        self._has_cache = twin.has_vocabulary_cache
        twin.close()  # it never loaded; this drops what its constructor made (a cache folder)
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, make, preload),
                                        name=f"frozenseg-bench-{self.key}", daemon=True)
        self._process.start()
        child.close()

    def _call(self, method: str, *args: Any) -> Any:
        try:
            self._connection.send((method, args))
            status, result = self._connection.recv()
        except (EOFError, OSError) as exc:
            raise ContenderProcessError(f"{self.label}'s process ended (exit code "
                                        f"{self._process.exitcode}) during {method}") from exc
        if status == "error":
            raise ContenderProcessError(f"{self.label} in its own process, {method}: {result}")
        return result

    @property
    def has_vocabulary_cache(self) -> bool:
        return self._has_cache

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def load(self) -> None:
        self._call("load")

    def set_vocabulary(self, source: str | os.PathLike) -> None:
        self._call("set_vocabulary", os.fspath(source))

    def segment(self, image: np.ndarray, resize: Resize, task: str) -> StageTimes:
        return self._call("segment", image, resize, task)

    def settings(self) -> dict[str, Any]:
        return {**self._call("settings"), "process": "own"}

    def peak_memory(self) -> MemoryPeak:
        """The child's peak host memory so far, above what it held before loading."""
        return self._call("peak_memory")

    def close(self) -> None:
        if self._process.is_alive():
            try:
                self._call("close")
            finally:
                self._process.join(timeout=60)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._connection.close()
