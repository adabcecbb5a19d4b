"""`segment` of the C++ library (through its C API, with ctypes) against the Python runtime, on the
same artifacts, image, vocabulary and backend (ONNX Runtime CPU), in one process: both loaded,
calls alternating, median seconds per call and the ratio. The C++ build comes from README's test command (build/libfrozenseg.so).

    .venv/bin/python benchmarks/cpp_segment_speed.py --artifacts artifacts/default \
        --image samples/astronaut.jpg --vocabulary samples/vocabulary.json
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import time
from pathlib import Path

from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.segmenter import Segmenter

TASKS = {"semantic": 0, "panoptic": 1, "instance": 2}


class _Options(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_char_p), ("precision", ctypes.c_char_p), ("threads", ctypes.c_int),
                ("cache_dir", ctypes.c_char_p), ("verify", ctypes.c_int), ("cuda_graph", ctypes.c_int),
                ("max_image_pixels", ctypes.c_int64), ("encoder_schedule", ctypes.c_int)]


class _CppSegmenter:
    """The C++ library through its C API (ctypes): the calls an embedding application makes."""

    def __init__(self, library: Path, artifacts: str, vocabulary: str) -> None:
        lib = self.lib = ctypes.CDLL(str(library))
        lib.fs_last_error.restype = ctypes.c_char_p
        lib.fs_segmenter_options_default.restype = _Options
        options = lib.fs_segmenter_options_default()
        options.backend, options.cache_dir = b"onnxruntime-cpu", b""
        self.seg = ctypes.c_void_p()
        self._check(lib.fs_segmenter_create(artifacts.encode(), ctypes.byref(options), ctypes.byref(self.seg)))
        self._check(lib.fs_segmenter_set_vocabulary_text(self.seg, vocabulary.encode()))

    def _check(self, status: int) -> None:
        if status != 0:
            raise RuntimeError(self.lib.fs_last_error().decode())

    def segment(self, image: str, task: str) -> None:
        result = ctypes.c_void_p()
        self._check(self.lib.fs_segment_file(self.seg, image.encode(), TASKS[task], ctypes.byref(result)))
        self.lib.fs_result_release(result)

    def close(self) -> None:
        self.lib.fs_segmenter_destroy(self.seg)


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--image", default="samples/astronaut.jpg")
    ap.add_argument("--vocabulary", default="samples/vocabulary.json")
    ap.add_argument("--library", default="build/libfrozenseg.so")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    # Both runtimes loaded side by side; each call is warmed up once, then C++ and Python alternate
    # call by call, so that drift on the machine (thermal, other load) falls on both alike.
    cpp = _CppSegmenter(Path(args.library), args.artifacts, args.vocabulary)
    report = {}
    with Segmenter.from_artifacts(args.artifacts, backend="onnxruntime-cpu", cache_dir=False) as py:
        py.set_vocabulary(args.vocabulary)
        for task in TASKS:
            run_cpp = lambda task=task: cpp.segment(args.image, task)
            run_py = lambda task=task: py.segment(load_image(args.image), task=task)
            run_cpp(), run_py()
            times: dict[str, list[float]] = {"cpp": [], "python": []}
            for _ in range(args.repeats):
                times["cpp"].append(_timed(run_cpp))
                times["python"].append(_timed(run_py))
            c, p = statistics.median(times["cpp"]), statistics.median(times["python"])
            report[task] = {"cpp_s": round(c, 3), "python_s": round(p, 3), "python_over_cpp": round(p / c, 2)}
    cpp.close()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
