"""`segment` of the C++ library (through its C API, with ctypes) against the Python runtime, on the
same artifacts, image, vocabulary and backend (ONNX Runtime CPU), in one run: median seconds per
call and the ratio. The C++ build comes from README's test command (build/libfrozenseg.so).

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
                ("max_image_pixels", ctypes.c_int64)]


def _cpp(library: Path, artifacts: str, vocabulary: str, image: str, task: str, repeats: int) -> list[float]:
    lib = ctypes.CDLL(str(library))
    lib.fs_last_error.restype = ctypes.c_char_p
    lib.fs_segmenter_options_default.restype = _Options

    def check(status: int) -> None:
        if status != 0:
            raise RuntimeError(lib.fs_last_error().decode())

    options = lib.fs_segmenter_options_default()
    options.backend, options.cache_dir = b"onnxruntime-cpu", b""
    seg = ctypes.c_void_p()
    check(lib.fs_segmenter_create(artifacts.encode(), ctypes.byref(options), ctypes.byref(seg)))
    check(lib.fs_segmenter_set_vocabulary_text(seg, vocabulary.encode()))
    times = []
    for _ in range(repeats + 1):  # the first call warms up
        result = ctypes.c_void_p()
        start = time.perf_counter()
        check(lib.fs_segment_file(seg, image.encode(), TASKS[task], ctypes.byref(result)))
        times.append(time.perf_counter() - start)
        lib.fs_result_release(result)
    lib.fs_segmenter_destroy(seg)
    return times[1:]


def _python(artifacts: str, vocabulary: str, image: str, task: str, repeats: int) -> list[float]:
    with Segmenter.from_artifacts(artifacts, backend="onnxruntime-cpu", cache_dir=False) as seg:
        seg.set_vocabulary(vocabulary)
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            seg.segment(load_image(image), task=task)
            times.append(time.perf_counter() - start)
    return times[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--image", default="samples/astronaut.jpg")
    ap.add_argument("--vocabulary", default="samples/vocabulary.json")
    ap.add_argument("--library", default="build/libfrozenseg.so")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    report = {}
    for task in TASKS:
        cpp = statistics.median(_cpp(Path(args.library), args.artifacts, args.vocabulary, args.image, task, args.repeats))
        py = statistics.median(_python(args.artifacts, args.vocabulary, args.image, task, args.repeats))
        report[task] = {"cpp_s": round(cpp, 3), "python_s": round(py, 3), "python_over_cpp": round(py / cpp, 2)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
