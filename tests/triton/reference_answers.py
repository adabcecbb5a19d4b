"""The Python runtime's answers, computed in the Triton server's Python (numpy 1.x there, 2.x in
the tool's venv: numpy's float32 reductions differ by an ulp between them, so "identical to the
runtime" is judged in the interpreter the server runs). Run by test_serving.py as

    <server env>/bin/python reference_answers.py ARTIFACTS JOBS.json OUT.npz

with PYTHONPATH naming a folder holding `frozenseg_runtime` (the repository's own copy). JOBS is a
list of {"key", "image", "vocabulary", "task", "resize"} (resize null: the manifest's)."""

from __future__ import annotations

import json
import sys

import numpy as np

from frozenseg_runtime.segmenter import Segmenter


def main(artifacts: str, jobs_file: str, out: str) -> None:
    jobs = json.loads(open(jobs_file).read())
    answers: dict[str, np.ndarray] = {}
    # One intra-op thread, as the served graph models (--threads 1).
    with Segmenter.from_artifacts(artifacts, backend="onnxruntime-cpu", cache_dir="", threads=1) as seg:
        for job in jobs:
            seg.set_vocabulary(job["vocabulary"])
            resize = "default" if job["resize"] is None else tuple(job["resize"])
            result = seg.segment(job["image"], task=job["task"], resize=resize)
            key = job["key"]
            if result.task == "semantic":
                answers[f"{key}/semantic_labels"] = result.semantic_labels
            elif result.task == "panoptic":
                answers[f"{key}/panoptic_seg"] = result.panoptic_seg
                answers[f"{key}/segments_info"] = np.array(json.dumps(result.segments_info, default=float))
            else:
                answers[f"{key}/instance_masks"] = result.instance_masks
                answers[f"{key}/instance_scores"] = result.instance_scores
                answers[f"{key}/instance_classes"] = result.instance_classes
    np.savez(out, **answers)


if __name__ == "__main__":
    main(*sys.argv[1:4])
