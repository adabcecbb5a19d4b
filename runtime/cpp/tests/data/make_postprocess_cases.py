"""Parity fixtures for the C++ output area (runtime/cpp/src/output), written by the Python runtime.

Run from the repository root:  .venv/bin/python runtime/cpp/tests/data/make_postprocess_cases.py

Writes runtime/cpp/tests/data/postprocess/:
- cases.json: per case the sizes, constants and the Python results that are small (class
  scores, segments, instance scores and classes, sha256 digests of the large arrays);
- <case>_probs.npy, <case>_masks.npy: inputs of the stored cases; <case>_semantic.npy: semantic
  scores (compared within 1e-5); <case>_mask0.npy: query 0 of masks_to_output (for diagnostics);
- files/: what save_result writes for the results of case "resized" (one stem per task), plus a
  16-bit label PNG, read back by test_output_files.cpp.

Cases:
- "resized": like tests/runtime/test_runtime_postprocess.py's _structured_inputs (confident
  queries owning rectangles, stuff class 3 twice, void-dominant noise), 12 queries, 6 classes,
  16x24 logits, padded 64x96, image 60x89, output 40x57: all four resize axes and the crop.
- "identity": masks already at the output size (18x22), nothing resized.
- "large": 100 queries, 150 classes, 64x80 logits to an output of 200x240, generated in both
  languages from a counter-based hash (splitmix64) with exactly representable floats, so only
  digests and small lists are stored.

Every input is deterministic; semantic labels come from a BLAS matmul whose last bits depend on
the BLAS build, so the stored cases are checked for clear label margins (top-2 gap > 1e-6, ten
times the rounding) and, for the large case, pixels below that gap are listed as ambiguous.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from frozenseg_runtime.output.files import label_png, save_result
from frozenseg_runtime.output.postprocess import (
    SegmentationResult,
    instance_inference,
    masks_to_output,
    official_class_scores,
    panoptic_inference,
    semantic_inference,
)

OUT = Path(__file__).resolve().parent / "postprocess"
LOG_EPS = 1e-8
SCORE_EPS = 1e-6
TOPK = 100
PANOPTIC_THRESHOLDS = [(0.0, 0.8), (0.5, 0.8), (0.0, 0.0)]
SEMANTIC_MARGIN = 1e-6
TIMINGS = {"decode": 0.25, "postprocess": 0.125}


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def structured_inputs(seed: int, q: int, c: int, h: int, w: int):
    """_structured_inputs of the Python tests, at any size (c >= 5)."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((q, c + 1)).astype(np.float32)
    confident = [0, 1, 3, 3, 4, 2]
    for k, cls in enumerate(confident):
        logits[k, cls] += 6.0 + rng.random()
    logits[len(confident): len(confident) + 4, -1] += 5.0
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    masks = rng.standard_normal((q, h, w)).astype(np.float32) * 2.0 - 4.0
    for k in range(len(confident)):
        r0, c0 = (k // 3) * (h // 2), (k % 3) * (w // 3)
        masks[k, r0 + 2: r0 + h // 2 - 2, c0 + 2: c0 + w // 3 - 2] += 9.0
    return probs.astype(np.float32), masks


def splitmix_bits(seed: int, n: int) -> np.ndarray:
    """24 high bits of splitmix64(seed * 2^32 + i + 1), i < n, as uint32 (test_output_postprocess
    has the same function)."""
    z = (np.arange(n, dtype=np.uint64) + np.uint64(seed * 2**32 + 1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.uint32)


def hashed_inputs(q: int, c: int, h: int, w: int):
    """The "large" case's inputs; every value is exact in float32, so C++ rebuilds them.

    Queries 0-9 are confident and own disjoint grid cells (classes 3 and 3: a stuff merge),
    10-13 are confident and straddle two cells (overlap test), 14-21 are void-dominant.
    """
    probs = (splitmix_bits(1, q * (c + 1)).astype(np.float32) + 1) * np.float32(2.0**-24)
    probs = probs.reshape(q, c + 1)
    classes = [0, 1, 3, 3, 4, 2, 8, 9, 12, 15, 20, 21, 6, 7]
    for k, cls in enumerate(classes):
        probs[k, cls] = 64.0
    probs[len(classes): len(classes) + 8, c] = 64.0
    bits = splitmix_bits(2, q * h * w).reshape(q, h, w)
    masks = (bits >> np.uint32(4)).astype(np.float32) * np.float32(2.0**-17) - np.float32(10.0)
    for k in range(10):
        y0, x0 = (k // 5) * (h // 2), (k % 5) * (w // 5)
        masks[k, y0 + 2: y0 + h // 2 - 2, x0 + 2: x0 + w // 5 - 2] += np.float32(12.0)
    for k in range(10, 14):
        x0 = (k - 10) * (w // 5) + w // 10
        masks[k, 2: 2 + h // 3, x0: x0 + w // 5] += np.float32(12.0)
    return probs, masks


def isthing_flags(c: int) -> list[bool]:
    return [i < 3 or (i >= 6 and i % 2 == 0) for i in range(c)]


def semantic_labels_and_gap(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = scores.argmax(0).astype(np.int32)
    top2 = np.sort(scores, axis=0)[-2:]
    return labels, top2[1] - top2[0]


def run_case(name, probs, masks, geometry, isthing, store_inputs: bool) -> dict:
    padded, image, output = geometry
    up = masks_to_output(masks, padded, image, output)
    case: dict = {
        "name": name,
        "queries": int(probs.shape[0]),
        "columns": int(probs.shape[1]),
        "mask_size": list(masks.shape[1:]),
        "padded": list(padded),
        "image": list(image),
        "output": list(output),
        "isthing": isthing,
        "log_eps": LOG_EPS,
        "score_eps": SCORE_EPS,
        "class_scores_sha256": sha(official_class_scores(probs, LOG_EPS)),
        "masks_to_output_sha256": sha(up),
    }
    if store_inputs:
        np.save(OUT / f"{name}_probs.npy", probs)
        np.save(OUT / f"{name}_masks.npy", masks)
        np.save(OUT / f"{name}_mask0.npy", up[0])
        case["class_scores"] = [float(v) for v in official_class_scores(probs, LOG_EPS).ravel()]

    scores = semantic_inference(probs, up, LOG_EPS)
    labels, gap = semantic_labels_and_gap(scores)
    ambiguous = np.flatnonzero(gap.ravel() <= SEMANTIC_MARGIN)
    if store_inputs:
        assert ambiguous.size == 0, f"{name}: semantic labels within {SEMANTIC_MARGIN} of a tie"
        np.save(OUT / f"{name}_semantic.npy", scores)
    else:
        step = 24001
        case["semantic_sample_step"] = step
        case["semantic_sample"] = [float(v) for v in scores.ravel()[::step]]
    case["semantic_ambiguous"] = [int(i) for i in ambiguous]
    masked = labels.ravel().copy()
    masked[ambiguous] = -1
    case["semantic_labels_sha256"] = sha(masked)
    case["semantic_label_counts"] = np.bincount(labels.ravel(), minlength=probs.shape[1] - 1).tolist()

    case["panoptic"] = []
    for object_threshold, overlap in PANOPTIC_THRESHOLDS:
        seg, info = panoptic_inference(probs, up, isthing, object_threshold, overlap, LOG_EPS)
        case["panoptic"].append({
            "object_mask_threshold": object_threshold,
            "overlap_threshold": overlap,
            "segments": info,
            "seg_sha256": sha(seg.astype(np.int32)),
            "seg_counts": np.bincount(seg.ravel()).tolist(),
        })
    case["instance"] = []
    for things_only in (True, False):
        m, s, c = instance_inference(probs, up, isthing, TOPK, things_only, LOG_EPS, SCORE_EPS)
        case["instance"].append({
            "things_only": things_only,
            "topk": TOPK,
            "scores": [float(v) for v in s],
            "classes": [int(v) for v in c],
            "masks_sha256": sha(m.astype(np.uint8)),
        })
    return case


def test_image(h: int, w: int) -> np.ndarray:
    """The RGB image under the overlays (test_output_files.cpp builds the same)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(7 * x + 3 * y) % 256, (x * y) % 256, (200 - 2 * x) % 256], -1).astype(np.uint8)


CLASS_NAMES = ("person", "car", "café crème", "sky", "a very long class name that is cut", "road")


def write_files(probs, masks, geometry, isthing) -> None:
    """save_result for each task on the "resized" case; the C++ test writes the same results."""
    files = OUT / "files"
    shutil.rmtree(files, ignore_errors=True)
    files.mkdir()
    padded, image_size, output = geometry
    up = masks_to_output(masks, padded, image_size, output)
    image = test_image(*output)
    common = {"class_names": CLASS_NAMES, "isthing": tuple(isthing), "image_size": output,
              "timings": dict(TIMINGS)}
    scores = semantic_inference(probs, up, LOG_EPS)
    semantic = SegmentationResult(task="semantic", semantic_scores=scores,
                                  semantic_labels=scores.argmax(0).astype(np.int32), **common)
    seg, info = panoptic_inference(probs, up, isthing, 0.0, 0.8, LOG_EPS)
    panoptic = SegmentationResult(task="panoptic", panoptic_seg=seg, segments_info=info, **common)
    m, s, c = instance_inference(probs, up, isthing, TOPK, True, LOG_EPS, SCORE_EPS)
    instance = SegmentationResult(task="instance", instance_masks=m, instance_scores=s,
                                  instance_classes=c, **common)
    for stem, result in (("semantic", semantic), ("panoptic", panoptic), ("instance", instance)):
        save_result(result, image, files, stem)
    big = (np.arange(35, dtype=np.int32).reshape(5, 7) * 29) - 3  # -3 .. 983: 16-bit
    label_png(big).save(files / "labels16.png")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.npy"):
        old.unlink()
    resized_geometry = ((64, 96), (60, 89), (40, 57))
    probs, masks = structured_inputs(3, 12, 6, 16, 24)
    cases = [run_case("resized", probs, masks, resized_geometry, isthing_flags(6), True)]
    write_files(probs, masks, resized_geometry, isthing_flags(6))
    p2, m2 = structured_inputs(4, 12, 6, 18, 22)
    cases.append(run_case("identity", p2, m2, ((18, 22),) * 3, isthing_flags(6), True))
    p3, m3 = hashed_inputs(100, 150, 64, 80)
    cases.append(run_case("large", p3, m3, ((256, 320), (250, 301), (200, 240)),
                          isthing_flags(150), False))
    (OUT / "cases.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
