"""Does a PyTorch eager call run slower when it alternates with a runtime call in one process?

    .venv/bin/python benchmarks/alternation.py --artifacts artifacts/default [--resize 800,1333]
        [--rounds 6] [--backend onnxruntime-cpu]

`bench` pairs each runtime call with a baseline call, and at 800x800 on the full preset the paired
baseline calls took 35 s against 26 s for its own consecutive rounds (issue 25, item 6). This
script separates the suspects in one process:

    alone        baseline calls back to back
    alt-spin     baseline, runtime, baseline, ... (ONNX Runtime's default: idle workers spin)
    alt-nospin   the same with session.intra_op.allow_spinning and inter_op = 0
    alone-again  baseline alone once more (drift)

Per call: the median wall seconds, the process's CPU seconds, minor page faults (fresh memory
touched: PyTorch's allocator hands large blocks back to the OS between calls) and involuntary
context switches. Prints one JSON object.

Measured on the tiny preset at 800x1333 on a 2-core Xeon (stop 30): baseline alone 1.21 s,
alternating 1.12 s with spinning, 1.18 s without, alone again 1.16 s. That is no slowdown at this
size. Each eager call took about 300,000 minor faults; the runtime's calls took none. With spinning
off, the runtime used 10 to 28% less CPU at the same wall time.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from frozenseg_bench.contenders import Contender, ReferenceContender, RuntimeContender
from frozenseg_runtime.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]


def timed_call(contender: Contender, image: np.ndarray, resize: tuple[int, int]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    contender.segment(image, resize, "semantic")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"wall_s": wall,
            "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "minor_faults": after.ru_minflt - before.ru_minflt,
            "involuntary_switches": after.ru_nivcsw - before.ru_nivcsw}


def medians(calls: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(call[key] for call in calls), 4) for key in calls[0]}


def without_spinning() -> None:
    """Every ONNX Runtime session made from here on lets its idle threads sleep."""
    import onnxruntime as ort

    original = ort.SessionOptions

    class NoSpinning(original):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.add_session_config_entry("session.inter_op.allow_spinning", "0")

    ort.SessionOptions = NoSpinning


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--resize", default="800,1333", help="shortest edge,longest edge")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--backend", default="onnxruntime-cpu")
    parser.add_argument("--image", type=Path, default=ROOT / "samples" / "astronaut.jpg")
    parser.add_argument("--vocabulary", type=Path, default=ROOT / "samples" / "vocabulary.json")
    args = parser.parse_args(argv)
    short, longest = (int(v) for v in args.resize.split(","))
    resize = (short, longest)
    image = np.asarray(Image.open(args.image).convert("RGB"))

    baseline = ReferenceContender(load_manifest(args.artifacts), "cpu")
    baseline.load()
    baseline.set_vocabulary(args.vocabulary)
    for _ in range(2):
        timed_call(baseline, image, resize)
    report: dict[str, Any] = {"resize": resize, "rounds": args.rounds, "backend": args.backend}
    report["alone"] = medians([timed_call(baseline, image, resize) for _ in range(args.rounds)])
    for phase in ("alt-spin", "alt-nospin"):
        if phase == "alt-nospin":
            without_spinning()
        runtime = RuntimeContender(args.artifacts, args.backend, "fp32")
        runtime.load()
        runtime.set_vocabulary(args.vocabulary)
        for _ in range(2):
            timed_call(runtime, image, resize)
        base_calls, runtime_calls = [], []
        for _ in range(args.rounds):
            base_calls.append(timed_call(baseline, image, resize))
            runtime_calls.append(timed_call(runtime, image, resize))
        report[phase] = medians(base_calls)
        report[f"{phase} (runtime)"] = medians(runtime_calls)
        runtime.close()
    report["alone-again"] = medians([timed_call(baseline, image, resize) for _ in range(args.rounds)])
    baseline.close()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
