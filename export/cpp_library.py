"""The C++ library through its C API (ctypes): the calls an embedding application makes.

Tools that judge or time the C++ library (`check --runtime cpp`, `bench`) drive it through the
same exported functions an application links against, so what they measure is what ships. It is
the exporter's, not the runtime's: only those tools load the library. The structures below mirror
runtime/cpp/include/frozenseg/frozenseg.h; tests/cpp/test_cpp_library_binding.py parses that header
and fails when a field, an enum value or a status differs.
ctypes releases the GIL for the length of each foreign call, so threads calling `segment` at once
run the library at once, as an application's threads would.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

from frozenseg_export.errors import STATUS_EXIT_CODES, CppLibraryError
from frozenseg_runtime.errors import BackendError
from frozenseg_runtime.output.postprocess import SegmentationResult
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary

__all__ = ["CppLibraryError", "CppSegmenter", "find_library"]

TASKS = {"semantic": 0, "panoptic": 1, "instance": 2}  # fs_task
PIXEL_RGB = 0
DEFAULT_LIBRARY = Path("build") / "libfrozenseg.so"


class _Options(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_char_p), ("precision", ctypes.c_char_p), ("threads", ctypes.c_int),
                ("cache_dir", ctypes.c_char_p), ("verify", ctypes.c_int), ("cuda_graph", ctypes.c_int),
                ("max_image_pixels", ctypes.c_int64), ("encoder_schedule", ctypes.c_int)]


class _Image(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)), ("height", ctypes.c_int32), ("width", ctypes.c_int32),
                ("stride", ctypes.c_int64), ("format", ctypes.c_int)]


class _SegmentInfo(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int32), ("category_id", ctypes.c_int32), ("isthing", ctypes.c_int32),
                ("score", ctypes.c_float)]


def _declare(lib: ctypes.CDLL) -> None:
    handle, result = ctypes.c_void_p, ctypes.c_void_p
    lib.fs_version.restype = ctypes.c_char_p
    lib.fs_backends.restype = ctypes.c_char_p
    lib.fs_last_error.restype = ctypes.c_char_p
    lib.fs_segmenter_options_default.restype = _Options
    lib.fs_segmenter_create.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Options), ctypes.POINTER(handle)]
    lib.fs_segmenter_destroy.argtypes = [handle]
    lib.fs_segmenter_backend.argtypes = [handle]
    lib.fs_segmenter_backend.restype = ctypes.c_char_p
    lib.fs_segmenter_set_vocabulary_text.argtypes = [handle, ctypes.c_char_p]
    lib.fs_segment_resized.argtypes = [handle, ctypes.POINTER(_Image), ctypes.c_int, ctypes.c_int32,
                                       ctypes.c_int32, ctypes.POINTER(result)]
    lib.fs_result_release.argtypes = [result]
    lib.fs_result_size.argtypes = [result, ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int32)]
    lib.fs_result_semantic_labels.argtypes = [result]
    lib.fs_result_semantic_labels.restype = ctypes.POINTER(ctypes.c_int32)
    lib.fs_result_panoptic.argtypes = [result, ctypes.POINTER(ctypes.POINTER(_SegmentInfo)),
                                       ctypes.POINTER(ctypes.c_size_t)]
    lib.fs_result_panoptic.restype = ctypes.POINTER(ctypes.c_int32)
    lib.fs_result_instances.argtypes = [result, ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
                                        ctypes.POINTER(ctypes.POINTER(ctypes.c_float)),
                                        ctypes.POINTER(ctypes.POINTER(ctypes.c_int32))]
    lib.fs_result_instances.restype = ctypes.c_size_t
    lib.fs_result_num_timings.argtypes = [result]
    lib.fs_result_num_timings.restype = ctypes.c_size_t
    lib.fs_result_timing.argtypes = [result, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p),
                                     ctypes.POINTER(ctypes.c_double)]


def find_library(path: str | os.PathLike | None = None) -> Path:
    """The shared library to load: `path`, else $FROZENSEG_CPP_LIBRARY, else build/libfrozenseg.so."""
    chosen = Path(path or os.environ.get("FROZENSEG_CPP_LIBRARY") or DEFAULT_LIBRARY)
    if not chosen.is_file():
        raise BackendError(f"no C++ library at {chosen}: build it (README, 'C and C++ library') or "
                           f"pass its path (libfrozenseg.so)")
    return chosen


def library_backends(library: str | os.PathLike) -> tuple[str, ...]:
    """The backend names the C++ library at `library` takes, as it says (fs_backends): "auto"
    first; no OpenVINO there."""
    lib = ctypes.CDLL(os.fspath(library))
    lib.fs_backends.restype = ctypes.c_char_p
    return tuple(lib.fs_backends().decode().split(","))


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

    @property
    def backend(self) -> str:
        """The backend this segmenter runs on, `auto` resolved (fs_segmenter_backend)."""
        return self.lib.fs_segmenter_backend(self.handle).decode()

    def _check(self, status: int) -> None:
        if status != 0:
            raise CppLibraryError(status, self.lib.fs_last_error().decode())

    def set_vocabulary(self, source: str) -> None:
        """Classes as text (the library parses it as `parse_vocabulary(str)` does); parsed here
        too, for the names and thing flags a `SegmentationResult` carries."""
        self._check(self.lib.fs_segmenter_set_vocabulary_text(self.handle, source.encode()))
        self.vocabulary: Vocabulary = parse_vocabulary(source)

    def _run(self, image: np.ndarray, resize: tuple[int, int] | None, task: str) -> ctypes.c_void_p:
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        view = _Image(pixels.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), pixels.shape[0], pixels.shape[1],
                      pixels.strides[0], PIXEL_RGB)
        short, longest = resize or (0, 0)
        result = ctypes.c_void_p()
        self._check(self.lib.fs_segment_resized(self.handle, ctypes.byref(view), TASKS[task], short, longest,
                                                ctypes.byref(result)))
        return result

    def segment(self, image: np.ndarray, resize: tuple[int, int] | None, task: str) -> dict[str, float]:
        """Segment an (H, W, 3) uint8 RGB array; the library's own stage times (seconds)."""
        result = self._run(image, resize, task)
        try:
            return self._timings(result)
        finally:
            self.lib.fs_result_release(result)

    def segment_result(self, image: np.ndarray, resize: tuple[int, int] | None, task: str) -> SegmentationResult:
        """Segment an (H, W, 3) uint8 RGB array and copy the task's answer out, in the Python
        runtime's result type."""
        result = self._run(image, resize, task)
        try:
            return self._copy(result, task)
        finally:
            self.lib.fs_result_release(result)

    def _copy(self, result: ctypes.c_void_p, task: str) -> SegmentationResult:
        h, w = ctypes.c_int32(), ctypes.c_int32()
        self._check(self.lib.fs_result_size(result, ctypes.byref(h), ctypes.byref(w)))
        size = (h.value, w.value)
        out = SegmentationResult(task=task, class_names=self.vocabulary.display_names,
                                 isthing=self.vocabulary.isthing, image_size=size, timings=self._timings(result))
        pixels = size[0] * size[1]
        if task == "semantic":
            labels = self.lib.fs_result_semantic_labels(result)
            out.semantic_labels = np.ctypeslib.as_array(labels, (pixels,)).reshape(size).copy()
        elif task == "panoptic":
            segments, count = ctypes.POINTER(_SegmentInfo)(), ctypes.c_size_t()
            ids = self.lib.fs_result_panoptic(result, ctypes.byref(segments), ctypes.byref(count))
            out.panoptic_seg = np.ctypeslib.as_array(ids, (pixels,)).reshape(size).copy()
            out.segments_info = [{"id": s.id, "category_id": s.category_id, "isthing": bool(s.isthing),
                                  "score": float(s.score)} for s in segments[:count.value]]
        else:
            masks = ctypes.POINTER(ctypes.c_uint8)()
            scores, classes = ctypes.POINTER(ctypes.c_float)(), ctypes.POINTER(ctypes.c_int32)()
            n = self.lib.fs_result_instances(result, ctypes.byref(masks), ctypes.byref(scores),
                                             ctypes.byref(classes))
            if n:
                out.instance_masks = np.ctypeslib.as_array(masks, (n * pixels,)).reshape(n, *size).astype(bool)
                out.instance_scores = np.ctypeslib.as_array(scores, (n,)).copy()
                out.instance_classes = np.ctypeslib.as_array(classes, (n,)).astype(np.int64)
            else:
                out.instance_masks = np.zeros((0, *size), bool)
                out.instance_scores = np.zeros(0, np.float32)
                out.instance_classes = np.zeros(0, np.int64)
        return out

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

    def __enter__(self) -> "CppSegmenter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
