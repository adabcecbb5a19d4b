"""Per-stage time of the torch-free runtime on one image, and vocabulary cache miss/hit times.

    python benchmarks/runtime_stages.py --artifacts artifacts/default --image samples/astronaut.jpg

Prints one JSON object (seconds). Run it on an idle machine; the first segment call is a warm-up.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time

from frozenseg_runtime.segmenter import Segmenter


def vocabulary_150() -> list[str]:
    """150 ADE20K-like class names with a synonym on every third class."""
    words = ["wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "window", "grass",
             "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant",
             "curtain", "chair", "car", "water", "painting", "sofa", "shelf"]
    return [f"{words[i % 25]} {i}" + (f", {words[i % 25]} type {i}" if i % 3 == 0 else "")
            for i in range(150)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--image", default="samples/astronaut.jpg")
    ap.add_argument("--backend", default="onnxruntime-cpu")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="frozenseg-vocab-")
    report: dict = {"backend": args.backend}
    try:
        t = time.perf_counter()
        seg = Segmenter.from_artifacts(args.artifacts, backend=args.backend, cache_dir=cache)
        report["load_and_verify_s"] = time.perf_counter() - t
        vocab = vocabulary_150()
        for label in ("vocab150_miss_s", "vocab150_memory_hit_s"):
            t = time.perf_counter()
            seg.set_vocabulary(vocab)
            report[label] = time.perf_counter() - t
        seg.close()
        seg = Segmenter.from_artifacts(args.artifacts, backend=args.backend, cache_dir=cache, verify=False)
        t = time.perf_counter()
        seg.set_vocabulary(vocab)
        report["vocab150_disk_hit_s"] = time.perf_counter() - t
        report["cache_stats"] = seg.cache.stats.as_dict()
        runs = []
        for task in ["semantic"] * args.repeats + ["panoptic"]:
            r = seg.segment(args.image, task=task)
            runs.append({"task": task, **{k: round(v, 3) for k, v in r.timings.items()}})
        report["segment_runs"] = runs
        report["image_size"] = list(r.image_size)
        seg.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    json.dump({k: round(v, 3) if isinstance(v, float) else v for k, v in report.items()},
              sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
