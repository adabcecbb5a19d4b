"""Time numpy's post-processing (runtime/output/postprocess.py) and the C++ library's on the same
inputs at the full preset's sizes, in one run, and print both with the ratio.

    .venv/bin/python runtime/cpp/benchmarks/bench_postprocess.py --cpp build/bench_postprocess

Sizes: convnext_large_vit_b's 250 queries (frozenseg/presets.py), 150 classes, mask logits
128x128 (stride 4 of a 512x512 padded input), image and output 512x512. Inputs are
make_postprocess_cases.py's hashed_inputs at that size, which bench_postprocess.cpp rebuilds
bit for bit. Each Python task is timed as the Segmenter runs it: masks_to_output, then the
inference (semantic adds the argmax). Figures are the best of --repeats wall-clock runs (seconds)
and the process CPU time of that run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from frozenseg_runtime.output.postprocess import (
    instance_inference,
    masks_to_output,
    panoptic_inference,
    semantic_inference,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))
from make_postprocess_cases import (  # the C++ bench rebuilds these
    hashed_inputs,
    isthing_flags,
)

QUERIES, CLASSES, MASK, IMAGE = 250, 150, 128, 512
GEOMETRY = ((IMAGE, IMAGE), (IMAGE, IMAGE), (IMAGE, IMAGE))


def python_tasks(probs: np.ndarray, masks: np.ndarray):
    isthing = isthing_flags(CLASSES)

    def up():
        return masks_to_output(masks, *GEOMETRY)

    def semantic():
        scores = semantic_inference(probs, up(), 1e-8)
        return scores.argmax(0).astype(np.int32)

    return {
        "masks_to_output": up,
        "semantic": semantic,
        "panoptic": lambda: panoptic_inference(probs, up(), isthing, 0.0, 0.8, 1e-8),
        "instance": lambda: instance_inference(probs, up(), isthing, 100, True, 1e-8, 1e-6),
    }


def best_of(fn, repeats: int) -> tuple[float, float]:
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


CPP_NAMES = {"masks_to_output": "BM_MasksToOutput", "semantic": "BM_Semantic",
             "panoptic": "BM_Panoptic", "instance": "BM_Instance"}


def cpp_times(binary: str, repeats: int) -> dict[str, tuple[float, float]]:
    out = subprocess.run([binary, "--benchmark_format=json", f"--benchmark_repetitions={repeats}"],
                         check=True, capture_output=True, text=True).stdout
    times: dict[str, tuple[float, float]] = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
        name = b["run_name"]
        wall, cpu = b["real_time"] * scale, b["cpu_time"] * scale
        times[name] = min(times.get(name, (float("inf"), float("inf"))), (wall, cpu))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpp", help="the bench_postprocess binary (omit for numpy only)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    probs, masks = hashed_inputs(QUERIES, CLASSES, MASK, MASK)
    py = {name: best_of(fn, args.repeats) for name, fn in python_tasks(probs, masks).items()}
    cpp = cpp_times(args.cpp, args.repeats) if args.cpp else {}
    print(f"{QUERIES} queries, {CLASSES} classes, logits {MASK}x{MASK} -> {IMAGE}x{IMAGE}; "
          f"best of {args.repeats}; wall s (process CPU s)")
    header = f"{'task':<16}{'numpy':>18}"
    for threads in (1, 2):
        header += f"{f'C++ {threads} thread':>20}{'ratio':>8}"
    print(header)
    for task, (wall, cpu) in py.items():
        line = f"{task:<16}{wall:>9.3f} ({cpu:>6.3f})"
        for threads in (1, 2):
            got = cpp.get(f"{CPP_NAMES[task]}/{threads}/process_time/real_time")
            if got:
                line += f"{got[0]:>11.3f} ({got[1]:>6.3f}){wall / got[0]:>7.1f}x"
        print(line)


if __name__ == "__main__":
    main()
