"""The C++ library through its C API (ctypes): the calls an embedding application makes.

ctypes releases the GIL for the length of each foreign call, so threads calling `segment` at once
run the library at once, as an application's threads would.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

TASKS = {"semantic": 0, "panoptic": 1, "instance": 2}
PIXEL_RGB = 0


class _Options(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_char_p), ("precision", ctypes.c_char_p), ("threads", ctypes.c_int),
                ("cache_dir", ctypes.c_char_p), ("verify", ctypes.c_int), ("cuda_graph", ctypes.c_int),
                ("max_image_pixels", ctypes.c_int64), ("encoder_schedule", ctypes.c_int)]


class _Image(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)), ("height", ctypes.c_int32), ("width", ctypes.c_int32),
                ("stride", ctypes.c_int64), ("format", ctypes.c_int)]


class CppLibraryError(RuntimeError):
    """A call of the C API failed; the message is the library's own (fs_last_error)."""


def _declare(lib: ctypes.CDLL) -> None:
    handle, result = ctypes.c_void_p, ctypes.c_void_p
    lib.fs_version.restype = ctypes.c_char_p
    lib.fs_last_error.restype = ctypes.c_char_p
    lib.fs_segmenter_options_default.restype = _Options
    lib.fs_segmenter_create.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Options), ctypes.POINTER(handle)]
    lib.fs_segmenter_destroy.argtypes = [handle]
    lib.fs_segmenter_set_vocabulary_text.argtypes = [handle, ctypes.c_char_p]
    lib.fs_segment_resized.argtypes = [handle, ctypes.POINTER(_Image), ctypes.c_int, ctypes.c_int32,
                                       ctypes.c_int32, ctypes.POINTER(result)]
    lib.fs_result_release.argtypes = [result]
    lib.fs_result_num_timings.argtypes = [result]
    lib.fs_result_num_timings.restype = ctypes.c_size_t
    lib.fs_result_timing.argtypes = [result, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p),
                                     ctypes.POINTER(ctypes.c_double)]


class CppSegmenter:
    """One `fs_segmenter` over an artifacts folder."""

    def __init__(self, library: str | os.PathLike, artifacts: str | os.PathLike, backend: str,
                 precision: str, threads: int = 0) -> None:
        self.lib = ctypes.CDLL(os.fspath(library))
        _declare(self.lib)
        self.version = self.lib.fs_version().decode()
        options = self.lib.fs_segmenter_options_default()
        options.backend, options.precision = backend.encode(), precision.encode()
        options.cache_dir, options.threads = b"", threads  # "": the vocabulary cache in memory only
        self.handle = ctypes.c_void_p()
        self._check(self.lib.fs_segmenter_create(os.fspath(Path(artifacts)).encode(), ctypes.byref(options),
                                                 ctypes.byref(self.handle)))

    def _check(self, status: int) -> None:
        if status != 0:
            raise CppLibraryError(f"status {status}: {self.lib.fs_last_error().decode()}")

    def set_vocabulary(self, source: str) -> None:
        self._check(self.lib.fs_segmenter_set_vocabulary_text(self.handle, source.encode()))

    def segment(self, image: np.ndarray, resize: tuple[int, int], task: str) -> dict[str, float]:
        """Segment an (H, W, 3) uint8 RGB array; the library's own stage times (seconds)."""
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        view = _Image(pixels.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), pixels.shape[0], pixels.shape[1],
                      pixels.strides[0], PIXEL_RGB)
        result = ctypes.c_void_p()
        self._check(self.lib.fs_segment_resized(self.handle, ctypes.byref(view), TASKS[task], resize[0],
                                                resize[1], ctypes.byref(result)))
        try:
            return self._timings(result)
        finally:
            self.lib.fs_result_release(result)

    def _timings(self, result: ctypes.c_void_p) -> dict[str, float]:
        times: dict[str, float] = {}
        stage, seconds = ctypes.c_char_p(), ctypes.c_double()
        for index in range(self.lib.fs_result_num_timings(result)):
            self._check(self.lib.fs_result_timing(result, index, ctypes.byref(stage), ctypes.byref(seconds)))
            times[(stage.value or b"").decode()] = seconds.value
        return times

    def close(self) -> None:
        if self.handle:
            self.lib.fs_segmenter_destroy(self.handle)
            self.handle = ctypes.c_void_p()
