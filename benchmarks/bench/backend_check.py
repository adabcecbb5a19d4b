"""Each GPU backend against ONNX Runtime CPU on the same artifacts: does it give the same answers?

    python -m frozenseg_bench.backend_check --artifacts ARTIFACTS [--precision fp32] [--image IMAGE]

For every usable GPU backend (ONNX Runtime CUDA and TensorRT execution providers, native TensorRT
where engines are built), one image is segmented by it and by ONNX Runtime CPU with the same
vocabulary; the raw decoder outputs are compared (largest difference relative to the largest value
per output) and the semantic labels (share of equal pixels). Prints a table, writes JSON with
--json, exits 1 when a backend misses its bars and 0 otherwise (also when none is usable: each skip
is printed with its reason). Bars as in tests/runtime/test_trt_backend.py: FP32 engines may use
TF32, FP16 ones accumulate in other orders than ONNX Runtime's CPU kernels.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime.errors import FrozenSegError
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.segmenter import Segmenter
from frozenseg_runtime.text.cache import MEMORY_ONLY

GPU_BACKENDS = ("onnxruntime-cuda", "onnxruntime-trt", "tensorrt")
RELATIVE_BARS = {"fp32": 2e-2, "fp16": 5e-2, "int8": 1e-1, "mixed": 1e-1}
LABEL_BARS = {"fp32": 0.99, "fp16": 0.95, "int8": 0.9, "mixed": 0.9}
VOCABULARY = "person,sky,tree,grass,building,road,car,dog,cat,water"


def _outputs(artifacts: Path, backend: str, precision: str, image: np.ndarray) -> tuple[dict[str, np.ndarray],
                                                                                           np.ndarray]:
    with Segmenter.from_artifacts(artifacts, backend=backend, precision=precision, cache_dir=MEMORY_ONLY) as seg:
        state = seg.encode_vocabulary(VOCABULARY)
        prepared = seg.prepare(image)
        raw = seg.decode(seg.encode_image(prepared), state)
        labels = seg.postprocess(raw, prepared, "semantic", state.vocabulary).semantic_labels
    return raw, labels


def compare(reference: tuple[dict[str, np.ndarray], np.ndarray], other: tuple[dict[str, np.ndarray], np.ndarray],
            precision: str) -> dict[str, Any]:
    raw_ref, labels_ref = reference
    raw, labels = other
    relative = {name: float(np.abs(raw[name] - raw_ref[name]).max() / max(float(np.abs(raw_ref[name]).max()), 1e-12))
                for name in raw_ref}
    agreement = float((labels == labels_ref).mean())
    passes = max(relative.values()) <= RELATIVE_BARS[precision] and agreement >= LABEL_BARS[precision]
    return {"relative_difference": relative, "label_agreement": agreement, "passes": passes}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", type=Path, required=True)
    ap.add_argument("--precision", default="fp32", choices=sorted(RELATIVE_BARS))
    ap.add_argument("--image", type=Path, help="default: a generated image")
    ap.add_argument("--json", type=Path, help="write the results here too")
    args = ap.parse_args(argv)
    if args.image:
        image = load_image(args.image)
    else:
        from frozenseg_export.synthetic_images import structured_images

        image = structured_images(1, seed=2)[0]
    reference = _outputs(args.artifacts, "onnxruntime-cpu", args.precision, image)
    results: dict[str, Any] = {}
    for backend in GPU_BACKENDS:
        try:
            results[backend] = compare(reference, _outputs(args.artifacts, backend, args.precision, image),
                                       args.precision)
        except FrozenSegError as exc:
            results[backend] = {"skipped": f"{type(exc).__name__}: {exc}"}
    for backend, result in results.items():
        if "skipped" in result:
            print(f"{backend:18s} {args.precision}: skipped: {result['skipped']}")
        else:
            worst = max(result["relative_difference"].values())
            print(f"{backend:18s} {args.precision}: {'PASS' if result['passes'] else 'FAIL'}  "
                  f"max relative difference {worst:.2e} (bar {RELATIVE_BARS[args.precision]:.0e}), "
                  f"label agreement {result['label_agreement']:.4f} (bar {LABEL_BARS[args.precision]})")
    if args.json:
        args.json.write_text(json.dumps({"precision": args.precision, "results": results}, indent=1) + "\n")
    return 1 if any(r.get("passes") is False for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
