"""Time the Python runtime's post-processing (runtime/output/postprocess.py) on synthetic full-preset outputs.

    .venv/bin/python benchmarks/postprocess_speed.py [--repeats 3] [--sizes 512x512,800x1216]

Inputs look like the full preset's decoder outputs: 250 queries, 150 classes (+ void), mask logits at 1/4 of the
padded input, made of smooth blobs; about 30 queries are confident (a few stuff classes repeat), the rest are
diffuse or void-dominant. Geometry follows the official preprocessing: the image is resized to an 800 short edge,
padded to a multiple of 32, and results come back at the original size (512x512 -> masks 200x200, padded
800x800; 800x1216 -> masks 200x304, padded 800x1216). Timed: `segmentation_result` per task (the Segmenter's
post-processing, from the logits), and the reference's path: `masks_to_output`, then each inference function on
the resized stack. Prints one JSON object: per size and item, the median wall-clock seconds of --repeats runs and
the median process CPU seconds (numpy may use both cores), with the load average at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from frozenseg_runtime.image.preprocess import PreparedImage
from frozenseg_runtime.output.postprocess import (
    TASKS,
    InferenceConstants,
    instance_inference,
    masks_to_output,
    panoptic_inference,
    segmentation_result,
    semantic_inference,
)
from frozenseg_runtime.text.vocabulary import Vocabulary

QUERIES, CLASSES, CONFIDENT = 250, 150, 30
LOG_EPS, SCORE_EPS, TOPK = 1e-8, 1e-6, 100
OBJECT_THRESHOLD, OVERLAP = 0.0, 0.8
Geometry = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]  # mask, padded, image, output


def geometry(output: tuple[int, int], short: int = 800, longest: int = 1333, pad: int = 32) -> Geometry:
    """Sizes for an image of size `output`, as the official resize (short edge, max size) and padding give."""
    h, w = output
    scale = min(short / min(h, w), longest / max(h, w))
    image = (int(h * scale + 0.5), int(w * scale + 0.5))
    padded = (-(-image[0] // pad) * pad, -(-image[1] // pad) * pad)
    return (padded[0] // 4, padded[1] // 4), padded, image, output


def _blob(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A smooth elliptic bump of random centre and radius (values about -1..1 before scaling)."""
    cy, cx = rng.random() * size[0], rng.random() * size[1]
    ry, rx = (0.06 + 0.14 * rng.random()) * size[0], (0.06 + 0.14 * rng.random()) * size[1]
    return 1.0 - ((yy - cy) / ry) ** 2 - ((xx - cx) / rx) ** 2


def synthetic_outputs(seed: int, mask_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """class_probs (Q, C+1), mask logits (Q, h, w) float32 and isthing flags (every third class stuff)."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((QUERIES, CLASSES + 1)).astype(np.float32)
    stuff = [c for c in range(CLASSES) if c % 3 == 2]
    for q in range(CONFIDENT):
        cls = stuff[q % 4] if q % 3 == 0 else int(rng.integers(CLASSES))  # stuff classes 2, 5, 8, 11 repeat
        logits[q, cls] += 8.0 + 2.0 * rng.random()
    logits[CONFIDENT:, -1] += 4.0 * rng.random(QUERIES - CONFIDENT)  # mostly void
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    yy, xx = np.mgrid[0 : mask_size[0], 0 : mask_size[1]].astype(np.float32)
    masks = np.empty((QUERIES,) + mask_size, dtype=np.float32)
    for q in range(QUERIES):
        confident = q < CONFIDENT
        bump = _blob(rng, yy, xx, mask_size)
        masks[q] = (16.0 if confident else 4.0) * bump + (2.0 if confident else -8.0)
    masks += 0.3 * rng.standard_normal(masks.shape).astype(np.float32)
    isthing = [c % 3 != 2 for c in range(CLASSES)]
    return probs.astype(np.float32), masks, isthing


def tasks(probs: np.ndarray, masks: np.ndarray, isthing: list[bool], geo: Geometry) -> dict[str, Callable[[], object]]:
    """`segmentation_result` per task (what the Segmenter runs), then the reference's path: `masks_to_output` and
    each inference function on the resized stack (frozenseg/pipeline.py's postprocess_all_tasks)."""
    _, padded, image, output = geo
    raw = {"class_probs": probs, "pred_masks": masks}
    dummy = np.zeros((1, 3, 1, 1), np.float32)
    prepared = PreparedImage(dummy, dummy, image_size=image, padded_size=padded, output_size=output)
    vocabulary = Vocabulary(names=tuple((f"class {c}",) for c in range(CLASSES)), isthing=tuple(isthing))
    constants = InferenceConstants(OBJECT_THRESHOLD, OVERLAP, TOPK, LOG_EPS, SCORE_EPS)
    stack = masks_to_output(masks, padded, image, output)
    runs: dict[str, Callable[[], object]] = {
        f"segmentation_result_{task}": (lambda task=task: segmentation_result(raw, prepared, vocabulary, task,
                                                                               constants))
        for task in TASKS
    }
    runs["masks_to_output"] = lambda: masks_to_output(masks, padded, image, output)
    runs["semantic_inference"] = lambda: semantic_inference(probs, stack, LOG_EPS)
    runs["panoptic_inference"] = lambda: panoptic_inference(probs, stack, isthing, OBJECT_THRESHOLD, OVERLAP, LOG_EPS)
    runs["instance_inference"] = lambda: instance_inference(probs, stack, isthing, TOPK, True, LOG_EPS, SCORE_EPS)
    return runs


def median_time(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    """Median wall-clock and process CPU seconds over `repeats` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": round(statistics.median(walls), 4), "cpu_s": round(statistics.median(cpus), 4)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="512x512,800x1216", help="output sizes HxW, comma-separated")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    report: dict[str, object] = {"repeats": args.repeats, "load_average": os.getloadavg()[0], "sizes": {}}
    for text in args.sizes.split(","):
        output = tuple(int(v) for v in text.lower().split("x"))
        geo = geometry(output)  # type: ignore[arg-type]
        probs, masks, isthing = synthetic_outputs(args.seed, geo[0])
        entry: dict[str, object] = {"mask": geo[0], "padded": geo[1], "image": geo[2], "output": geo[3]}
        for name, fn in tasks(probs, masks, isthing, geo).items():
            fn()  # warm-up
            entry[name] = median_time(fn, args.repeats)
        report["sizes"][text] = entry  # type: ignore[index]
    report["load_average_end"] = os.getloadavg()[0]
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
