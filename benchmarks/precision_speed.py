"""ONNX Runtime latency of each graph at every precision in the manifest, measured in one run.

    python benchmarks/precision_speed.py --artifacts artifacts/default [--repeats 3]

Feeds are real (the FP32 chain on one generated image at the manifest's resize, the sample
vocabulary's text embeddings), identical for every precision. Prints one JSON object: median
seconds per graph and precision, and each precision's speed-up over FP32 in this same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from frozenseg_export.precision.feeds import collect_feeds, measurement_vocabulary
from frozenseg_export.synthetic_images import structured_images
from frozenseg_runtime import graphs
from frozenseg_runtime.backends.factory import make_runner
from frozenseg_runtime.manifest import load_manifest
from frozenseg_runtime.progress import progress


def _median_seconds(runner, feed, repeats: int) -> float:
    runner.infer(feed)  # warm-up: first-run allocations and kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runner.infer(feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--backend", default="onnxruntime-cpu")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--graphs", nargs="+", default=list(graphs.GRAPHS))
    args = ap.parse_args(argv)
    manifest = load_manifest(args.artifacts)
    say = progress("speed")
    feeds = collect_feeds(manifest, {"bench": structured_images(1, seed=11)},
                          measurement_vocabulary(manifest), say, text_feeds=1)["bench"].feeds
    report: dict = {"backend": args.backend, "repeats": args.repeats, "seconds": {}, "speedup_vs_fp32": {}}
    for precision in manifest.precisions:
        if precision == "mixed":
            continue  # made of the other precisions' graphs
        lowered = manifest.with_precision(precision)
        for name in args.graphs:
            spec = lowered.graphs[name]
            runner = make_runner(lowered.graph_path(name), spec, args.backend).activate()
            seconds = _median_seconds(runner, feeds[name][0], args.repeats)
            runner.deactivate()
            report["seconds"].setdefault(name, {})[precision] = seconds
            say(f"{name} {precision}: {seconds:.3f} s")
    for name, by_precision in report["seconds"].items():
        report["speedup_vs_fp32"][name] = {p: by_precision["fp32"] / s for p, s in by_precision.items()}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
