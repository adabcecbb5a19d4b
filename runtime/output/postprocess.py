"""Post-processing of FrozenSeg outputs, without torch: `segmentation_result`, the one call the
Segmenter makes after decoding, and the post-processing's public names (as C++'s
output/postprocess.hpp declares them).

Reproduces the official `FrozenSeg.forward` from the mask upsampling on, with
`semantic_inference`, `panoptic_inference`, `instance_inference` and detectron2's
`sem_seg_postprocess`. Inputs are the model's final `class_probs` (Q, C+1; void last; the official
`mask_cls_probs`) and mask logits (Q, h, w). Everything is float32. One module per job, named as
their C++ counterparts in runtime/cpp/src/output/:

    result.py        TASKS, InferenceConstants, SegmentationResult
    class_scores.py  official_class_scores, sigmoid
    checks.py        the decoder outputs' checks
    mask_resize.py   masks_to_output, and the row sources the tasks read masks from
    semantic.py, panoptic.py, instance.py   the three tasks

Speed without changing a bit: every routine works on bands of output rows of one query at a time, small enough to
stay in the CPU cache, with reused buffers, instead of whole-stack temporaries. `segmentation_result` never builds
the full-resolution stack: it resizes each query's band from the logits when it needs it (`ResizedRows`), and only
the queries the task uses (panoptic: the kept ones; instance: the top-k ones). Each element still goes through the
same float32 operations in the same order as `resize_bilinear`, `sigmoid` and the official reductions, and the
semantic matrix product keeps its fixed chunks (BLAS rounds differently for other shapes).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.image.preprocess import PreparedImage
from frozenseg_runtime.output.checks import check_inputs
from frozenseg_runtime.output.class_scores import official_class_scores, sigmoid
from frozenseg_runtime.output.instance import instance_from_rows, instance_inference
from frozenseg_runtime.output.mask_resize import ResizedRows, masks_to_output
from frozenseg_runtime.output.panoptic import panoptic_from_rows, panoptic_inference
from frozenseg_runtime.output.result import TASKS, InferenceConstants, SegmentationResult
from frozenseg_runtime.output.semantic import argmax_classes, semantic_inference, semantic_scores
from frozenseg_runtime.text.vocabulary import Vocabulary

__all__ = [
    "TASKS",
    "SegmentationResult",
    "InferenceConstants",
    "segmentation_result",
    "sigmoid",
    "official_class_scores",
    "masks_to_output",
    "semantic_inference",
    "panoptic_inference",
    "instance_inference",
]


def segmentation_result(raw: Mapping[str, np.ndarray], prepared: PreparedImage,
                        vocabulary: Vocabulary, task: str,
                        constants: InferenceConstants) -> SegmentationResult:
    """The official post-processing of one task, on the decoder's raw outputs (batch dropped),
    at the output size."""
    if task not in TASKS:
        raise UsageError(f"task must be one of {TASKS}, got {task!r}")
    probs, logits = check_inputs(raw["class_probs"], raw["pred_masks"])
    # The same results as masks_to_output followed by the task's function, without the full-size stack.
    masks = ResizedRows(logits, prepared.padded_size, prepared.image_size, prepared.output_size)
    result = SegmentationResult(task=task, class_names=vocabulary.display_names,
                                isthing=vocabulary.isthing, image_size=prepared.output_size)
    if task == "semantic":
        scores = semantic_scores(probs, masks, constants.log_eps)
        result.semantic_scores = scores
        result.semantic_labels = argmax_classes(scores)
    elif task == "panoptic":
        result.panoptic_seg, result.segments_info = panoptic_from_rows(
            probs, masks, vocabulary.isthing, constants.object_mask_threshold,
            constants.overlap_threshold, constants.log_eps)
    else:
        result.instance_masks, result.instance_scores, result.instance_classes = (
            instance_from_rows(probs, masks, vocabulary.isthing, constants.instance_topk,
                               things_only=True, log_eps=constants.log_eps,
                               score_eps=constants.instance_score_eps))
    return result
