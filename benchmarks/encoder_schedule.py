"""The image stage (CLIP and SAM encoders) under each schedule, in one process on ONNX Runtime CPU:
one after the other with every core each, at once with the cores split between them, and at once
with every core each (oversubscribed: what `segment` did before runtime/schedule.py). One
Segmenter at a time (three full-preset ones do not fit in 24 GB), in the order A B C C B A so that
drift falls on all alike, each warmed up once per load; prints median seconds and the ratios.

    .venv/bin/python benchmarks/encoder_schedule.py --artifacts artifacts/default [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.schedule import plan_encoders, usable_cores
from frozenseg_runtime.segmenter import Segmenter
from frozenseg_runtime.text.cache import MEMORY_ONLY


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--image", default="samples/astronaut.jpg")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    cores = usable_cores()
    configs = {  # name -> (schedule, threads given to the Segmenter)
        "sequential": ("sequential", None),
        "concurrent_split": ("concurrent", None),
        "concurrent_all_cores": ("concurrent", cores),
    }
    times: dict[str, list[float]] = {name: [] for name in configs}
    encoders: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
    image = load_image(args.image)
    for name in [*configs, *reversed(configs)]:
        schedule, threads = configs[name]
        with Segmenter.from_artifacts(args.artifacts, backend="onnxruntime-cpu", cache_dir=MEMORY_ONLY, verify=False,
                                      encoder_schedule=schedule, threads=threads) as seg:
            prepared = seg.prepare(image)
            seg.encode_image(prepared)  # warm-up
            for _ in range(args.repeats):
                timings: dict[str, float] = {}
                start = time.perf_counter()
                seg.encode_image(prepared, timings)
                times[name].append(time.perf_counter() - start)
                encoders[name].append(timings)
    median = {name: statistics.median(values) for name, values in times.items()}
    report = {
        "cores": cores,
        "auto_plan": plan_encoders("auto", "onnxruntime-cpu").schedule,
        "image_size": list(prepared.image_size),
        "stage_s": {name: round(v, 3) for name, v in median.items()},
        "encoders_s": {name: {k: round(statistics.median(t[k] for t in runs), 3) for k in runs[0]}
                       for name, runs in encoders.items()},
        "speedup_over_oversubscribed": {name: round(median["concurrent_all_cores"] / v, 2)
                                        for name, v in median.items()},
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
