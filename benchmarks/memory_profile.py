"""Peak host memory of one contender in a process of its own, and where it goes.

    .venv/bin/python benchmarks/memory_profile.py --artifacts artifacts/default \
        --contender pytorch | python:onnxruntime-cpu:fp32 | python:openvino-cpu:fp32 | cpp:onnxruntime-cpu:fp32
        [--resize 800,800] [--calls 2] [--memory-arena] [--threads N]

`bench` measures every contender in one process beside the baseline, as the peak above what the
process held before the contender was loaded. This script is the cross-check a reader can run alone:
a fresh process per contender, nothing else in it, the kernel's own peak (`ru_maxrss`), and the
resident memory at each step (imports, load, vocabulary, each call), so the peak can be placed.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from frozenseg_bench.contenders import Contender, CppContender, ReferenceContender, RuntimeContender
from frozenseg_bench.memory import PeakMemory, resident_bytes
from frozenseg_runtime.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 ** 2


def peak_resident_bytes() -> int:
    """The process's peak resident set so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_contender(spec: str, artifacts: Path, threads: int | None, arena: bool) -> Contender:
    """`pytorch`, or `python|cpp:<backend>:<precision>`."""
    if spec == "pytorch":
        return ReferenceContender(load_manifest(artifacts), "cpu")
    runtime, backend, precision = spec.split(":")
    if runtime == "python":
        return RuntimeContender(artifacts, backend, precision, threads, memory_arena=arena)
    if runtime == "cpp":
        return CppContender(ROOT / "build" / "libfrozenseg.so", artifacts, backend, precision, threads)
    raise SystemExit(f"unknown contender {spec!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--contender", required=True)
    parser.add_argument("--resize", default="800,800", help="shortest edge,longest edge")
    parser.add_argument("--calls", type=int, default=2)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--memory-arena", action="store_true",
                        help="ONNX Runtime's CPU arena on (the runtimes' default is off)")
    parser.add_argument("--image", type=Path, default=ROOT / "samples" / "astronaut.jpg")
    parser.add_argument("--vocabulary", type=Path, default=ROOT / "samples" / "vocabulary.json")
    args = parser.parse_args(argv)
    resize = tuple(int(v) for v in args.resize.split(","))
    image = np.asarray(Image.open(args.image).convert("RGB"))
    contender = make_contender(args.contender, args.artifacts, args.threads, args.memory_arena)
    steps: list[dict[str, Any]] = []

    def step(name: str, seconds: float | None = None) -> None:
        steps.append({"step": name, "resident_mib": round(resident_bytes() / MIB),
                      "peak_mib": round(peak_resident_bytes() / MIB),
                      **({"seconds": round(seconds, 2)} if seconds is not None else {})})

    tracker = PeakMemory()
    step("imports")
    start = time.perf_counter()
    with tracker.counting():
        contender.load()
        step("load", time.perf_counter() - start)
        contender.set_vocabulary(args.vocabulary)
        step("vocabulary")
        for call in range(args.calls):
            start = time.perf_counter()
            contender.segment(image, resize, "semantic")
            step(f"call {call + 1}", time.perf_counter() - start)
    peak = tracker.stop()
    contender.close()
    step("close")
    print(json.dumps({"contender": args.contender, "resize": resize, "memory_arena": args.memory_arena,
                      "peak_mib": round(peak_resident_bytes() / MIB),
                      "peak_above_imports_mib (bench's figure)": round(peak.host_bytes / MIB),
                      "steps": steps}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
