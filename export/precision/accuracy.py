"""End-to-end accuracy of a precision: the whole runtime chain against the FP32 chain.

Both chains are the product runtime (Segmenter) on ONNX Runtime CPU, on the same images and
vocabulary; the lowered chain encodes the vocabulary with its own text graph, so every
graph's error reaches the answer the way it would in use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from frozenseg_export.precision.metrics import label_agreement, mask_iou
from frozenseg_runtime.manifest import Manifest
from frozenseg_runtime.output.postprocess import SegmentationResult
from frozenseg_runtime.segmenter import Segmenter
from frozenseg_runtime.text.cache import MEMORY_ONLY
from frozenseg_runtime.text.vocabulary import Vocabulary

# The bars: semantic label agreement and mean query-mask IoU against FP32.
BARS: dict[str, dict[str, float]] = {
    "fp16": {"label_agreement": 0.995, "mask_iou": 0.99},
    "int8": {"label_agreement": 0.98, "mask_iou": 0.95},
}


@dataclass
class ChainResult:
    labels: np.ndarray  # semantic labels at the image size
    masks: np.ndarray  # (Q, h, w) mask logits
    class_probs: np.ndarray  # (Q, K + 1)


def _run(seg: Segmenter, images: Sequence[Any], vocabulary: Vocabulary) -> list[ChainResult]:
    state = seg.encode_vocabulary(vocabulary)
    results = []
    for image in images:
        prepared = seg.prepare(image)
        raw = seg.decode(seg.encode_image(prepared), state)
        results.append(chain_result(raw, seg.postprocess(raw, prepared, "semantic", vocabulary)))
    return results


def chain_result(raw: Mapping[str, np.ndarray], semantic: SegmentationResult) -> ChainResult:
    """What is compared of one image's raw decoder outputs (from any chain) and their semantic
    post-processing."""
    return ChainResult(semantic.semantic_labels, raw["pred_masks"], raw["class_probs"])


def reference_results(manifest: Manifest, images: Sequence[Any], vocabulary: Vocabulary) -> list[ChainResult]:
    with Segmenter.open(manifest.with_precision("fp32"), backend="onnxruntime-cpu", cache_dir=MEMORY_ONLY,
                   memory_arena=False) as seg:
        return _run(seg, images, vocabulary)


def end_to_end_accuracy(manifest: Manifest, images: Sequence[Any], vocabulary: Vocabulary,
                        references: list[ChainResult]) -> tuple[dict[str, Any], list[ChainResult]]:
    """Label agreement, mask IoU and class-probability error of `manifest`'s graphs vs FP32
    (figures for the manifest), and the results themselves (for the report's picture)."""
    with Segmenter.open(manifest, backend="onnxruntime-cpu", cache_dir=MEMORY_ONLY, memory_arena=False) as seg:
        results = _run(seg, images, vocabulary)
    return {**compare_chains(results, references), "vocabulary_classes": len(vocabulary.names)}, results


def compare_chains(results: Sequence[ChainResult], references: Sequence[ChainResult]) -> dict[str, Any]:
    """Label agreement and query-mask IoU (mean and worst image) and the class-probability error
    of one chain's results against another's on the same images."""
    agreement = [label_agreement(r.labels, ref.labels) for r, ref in zip(results, references)]
    iou = [mask_iou(r.masks, ref.masks) for r, ref in zip(results, references)]
    probs = [float(np.abs(r.class_probs.astype(np.float64) - ref.class_probs).max())
             for r, ref in zip(results, references)]
    return {"label_agreement": float(np.mean(agreement)), "mask_iou": float(np.mean(iou)),
            "label_agreement_worst_image": float(min(agreement)), "mask_iou_worst_image": float(min(iou)),
            "class_probs_max_abs": max(probs), "images": len(results)}
