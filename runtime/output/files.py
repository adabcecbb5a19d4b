"""Files people can use: label PNG, overlay PNG with class names, COCO panoptic PNG + JSON,
instance masks, and a JSON summary. Every file is written atomically."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.output.postprocess import SegmentationResult
from frozenseg_runtime.output.visualize import overlay


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def label_png(labels: np.ndarray) -> Image.Image:
    """8-bit for up to 256 classes, 16-bit beyond; pixel value = class index."""
    if labels.max(initial=0) < 256 and labels.min(initial=0) >= 0:
        return Image.fromarray(labels.astype(np.uint8))
    return Image.fromarray(labels.astype(np.uint16))


def coco_panoptic_png(panoptic: np.ndarray) -> Image.Image:
    """COCO panoptic encoding: id = R + 256 * G + 256^2 * B."""
    ids = panoptic.astype(np.uint32)
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], -1).astype(np.uint8)
    return Image.fromarray(rgb)


def panoptic_labels(panoptic_seg: np.ndarray, segments_info: list[dict[str, Any]]) -> np.ndarray:
    """Class index per pixel of a panoptic map (-1 where no segment)."""
    labels = np.full(panoptic_seg.shape, -1, np.int64)
    for seg in segments_info:
        labels[panoptic_seg == seg["id"]] = seg["category_id"]
    return labels


def _instance_labels(result: SegmentationResult) -> np.ndarray:
    labels = np.full(result.image_size, -1, np.int64)
    order = np.argsort(result.instance_scores)  # best last, drawn on top
    for i in order:
        if result.instance_scores[i] >= 0.5:
            labels[result.instance_masks[i]] = result.instance_classes[i]
    return labels


def summary(result: SegmentationResult, image_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"image": image_name, "task": result.task,
                           "size": list(result.image_size), "timings_s": result.timings}
    names = result.class_names
    if result.semantic_labels is not None:
        ids, counts = np.unique(result.semantic_labels, return_counts=True)
        total = result.semantic_labels.size
        out["classes"] = [{"id": int(i), "name": names[i], "area_fraction": round(c / total, 5)}
                          for i, c in sorted(zip(ids, counts), key=lambda t: -t[1])]
    if result.panoptic_seg is not None:
        out["segments"] = [
            {**s, "name": names[s["category_id"]],
             "area": int((result.panoptic_seg == s["id"]).sum())} for s in result.segments_info
        ]
    if result.instance_scores is not None:
        out["instances"] = [
            {"class": int(c), "name": names[int(c)], "score": round(float(s), 5),
             "area": int(m.sum())}
            for m, s, c in zip(result.instance_masks, result.instance_scores, result.instance_classes)
        ]
    return out


def save_result(result: SegmentationResult, image: np.ndarray, out_dir: str | os.PathLike,
                stem: str) -> list[Path]:
    """Write the files of one result; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(result.class_names)
    written = []
    if result.semantic_labels is not None:
        written.append(write_bytes_atomic(out / f"{stem}_labels.png", _png(label_png(result.semantic_labels))))
        labels = result.semantic_labels
    elif result.panoptic_seg is not None:
        written.append(write_bytes_atomic(out / f"{stem}_panoptic.png", _png(coco_panoptic_png(result.panoptic_seg))))
        coco = {"file_name": f"{stem}_panoptic.png", "segments_info": [
            {"id": s["id"], "category_id": s["category_id"], "isthing": s["isthing"],
             "score": s.get("score")} for s in result.segments_info]}
        written.append(write_bytes_atomic(out / f"{stem}_panoptic.json", json.dumps(coco, indent=1).encode()))
        labels = panoptic_labels(result.panoptic_seg, result.segments_info)
    else:
        buf = io.BytesIO()
        np.savez_compressed(buf, masks=result.instance_masks, scores=result.instance_scores,
                            classes=result.instance_classes)
        written.append(write_bytes_atomic(out / f"{stem}_instances.npz", buf.getvalue()))
        labels = _instance_labels(result)
    written.append(write_bytes_atomic(out / f"{stem}_overlay.png", _png(overlay(image, labels, names))))
    written.append(write_bytes_atomic(out / f"{stem}_summary.json",
                          json.dumps(summary(result, stem), indent=1).encode()))
    return written
