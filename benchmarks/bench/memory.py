"""Peak host and device memory over a contender's life (load, runs, close).

One process holds the baseline and one contender at a time, so a contender's figure is the peak
of the process's resident memory during its load and its own calls, less what the process held
before it was loaded.
Memory freed by an earlier contender is handed back to the system first (malloc_trim), so that it
is not counted as free room for the next. Device memory is the device's used memory (all of it,
as CUDA reports it), less what was used before: it covers ONNX Runtime and TensorRT allocations,
which the framework's own counters do not see.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

SAMPLE_PERIOD_S = 0.005
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """This process's resident set, read from /proc (Linux)."""
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[1]) * PAGE_SIZE


def release_freed_memory() -> None:
    """Collect garbage and return glibc's free heap to the system."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def device_used_bytes_reader() -> Callable[[], int] | None:
    """A reader of the CUDA device's used memory, or None without a CUDA device and torch."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None

    def used() -> int:
        free, total = torch.cuda.mem_get_info()
        return total - free

    return used


class PeakMemory:
    """Peaks of host and device memory above the level at `begin`, sampled on a thread, counted
    only inside `counting()` blocks: a contender's load and calls are counted, the baseline's
    calls between them are not."""

    def __init__(self, device_reader: Callable[[], int] | None = None) -> None:
        self.device_reader = device_reader
        self._counting = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        release_freed_memory()
        self._host_start = resident_bytes()
        self._device_start = device_reader() if device_reader else None
        self._host_peak, self._device_peak = self._host_start, self._device_start
        self._thread = threading.Thread(target=self._sample, name="frozenseg-bench-memory", daemon=True)
        self._thread.start()

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        self._counting.set()
        try:
            yield
        finally:
            self._take()
            self._counting.clear()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_PERIOD_S):
            if self._counting.is_set():
                self._take()

    def _take(self) -> None:
        with self._lock:
            self._host_peak = max(self._host_peak, resident_bytes())
            if self.device_reader is not None and self._device_peak is not None:
                self._device_peak = max(self._device_peak, self.device_reader())

    def peak(self) -> MemoryPeak:
        """The peaks so far (sampling goes on)."""
        with self._lock:
            device = None
            if self._device_start is not None and self._device_peak is not None:
                device = self._device_peak - self._device_start
            return MemoryPeak(self._host_peak - self._host_start, device)

    def stop(self) -> MemoryPeak:
        self._stop.set()
        self._thread.join()
        return self.peak()


@dataclass(frozen=True)
class MemoryPeak:
    host_bytes: int
    device_bytes: int | None

    def as_dict(self) -> dict[str, float | None]:
        mib = 1024 ** 2
        return {"host_mib": self.host_bytes / mib,
                "device_mib": None if self.device_bytes is None else self.device_bytes / mib}
