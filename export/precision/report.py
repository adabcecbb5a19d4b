"""precision_report.md (the figures) and precision_report.png (what they look like)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from frozenseg_export.precision.search import MIN_GAIN
from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.output.palette import palette
from frozenseg_runtime.text.vocabulary import Vocabulary

TILE = 320  # width of each picture column


def _markdown(precisions: dict[str, Any]) -> str:
    lines = ["# Precision report", "",
             "Every figure is measured on ONNX Runtime CPU against the FP32 graphs of this folder, "
             "and end to end also against the PyTorch reference in float64 (the truth). The FP32 "
             "chain's own distance from float64 is the float32 noise floor: bars against FP32 are "
             "relaxed by it, since FP32 is no truth where float32 itself is unsure.",
             "", "## End to end (runtime chain, semantic task)", ""]
    floor = next((e["end_to_end"]["float32_floor"] for e in precisions.values()
                  if "float32_floor" in e.get("end_to_end", {})), None)
    if floor is not None:
        lines += [f"Float32 floor (FP32 chain against float64): label agreement "
                  f"{floor['label_agreement']:.4%}, mask IoU {floor['mask_iou']:.4f}.", ""]
    lines += ["| precision | label agreement | mask IoU | against float64 | worst image agreement | "
              "class prob max abs | bars (after the floor) | result |",
              "|---|---|---|---|---|---|---|---|"]
    for p, entry in precisions.items():
        e, b = entry.get("end_to_end"), entry["bars"]
        if e is None:
            continue
        v = e.get("vs_float64")
        against = f"{v['label_agreement']:.4%} / {v['mask_iou']:.4f}" if v else "n/a"
        eb = e.get("effective_bars", b)
        lines.append(f"| {p} | {e['label_agreement']:.4%} | {e['mask_iou']:.4f} | {against} | "
                     f"{e['label_agreement_worst_image']:.4%} | {e['class_probs_max_abs']:.2e} | "
                     f"{b['label_agreement']:.1%} / {b['mask_iou']} "
                     f"({eb['label_agreement']:.2%} / {eb['mask_iou']:.4f}) | "
                     f"{'meets' if e['passes'] else 'MISSES'} |")
    lines += ["", "## Per graph (worst relative L2 error of any output, held-out inputs)", "",
              "| precision | graph | error | kept in higher precision (measured) | groups tried |",
              "|---|---|---|---|---|"]
    for p, entry in precisions.items():
        for graph, g in entry["graphs"].items():
            errors = g.get("errors_vs_fp32")
            if errors is None:
                lines.append(f"| {p} | {graph} | (fp32) | | |")
                continue
            search = g.get("fp32_islands") or g.get("excluded_nodes")
            tried = ", ".join(f"{k} {v['gain']:+.0%}" for k, v in search["trials"].items())
            kept = ", ".join(search["kept_groups"]) or "none"
            lines.append(f"| {p} | {graph} | {max(errors.values()):.2e} | {kept} "
                         f"({len(search['nodes'])} nodes) | {tried} |")
    lines += ["", f"A group is kept when keeping it alone removes at least {MIN_GAIN:.0%} of the "
              "fully-lowered graph's error (figures after each group: its own gain).", ""]
    return "\n".join(lines)


def _labels_tile(labels: np.ndarray, names: int) -> Image.Image:
    colours = palette(names)
    return Image.fromarray(colours[np.clip(labels, 0, names - 1)])


def _caption(tile: Image.Image, text: str) -> Image.Image:
    tile = tile.resize((TILE, max(1, round(tile.height * TILE / tile.width))), Image.NEAREST)
    out = Image.new("RGB", (TILE, tile.height + 18), "white")
    out.paste(tile, (0, 18))
    ImageDraw.Draw(out).text((4, 3), text, fill="black", font=ImageFont.load_default())
    return out


def _picture(references: Sequence[Any], results: dict[str, Sequence[Any]],
             images: Sequence[Any], vocabulary: Vocabulary) -> Image.Image:
    """One row per image: the image, FP32 labels, then each precision's labels with the pixels
    that disagree with FP32 painted red."""
    rows = []
    n = len(vocabulary.names)
    for i, image in enumerate(images):
        ref = references[i].labels
        tiles = [_caption(Image.fromarray(load_image(image)), "image"),
                 _caption(_labels_tile(ref, n), "fp32 labels")]
        for p, per_image in results.items():
            labels = per_image[i].labels
            tile = np.asarray(_labels_tile(labels, n)).copy()
            tile[labels != ref] = (255, 0, 0)
            agree = float((labels == ref).mean())
            tiles.append(_caption(Image.fromarray(tile), f"{p}: {agree:.2%} agree (red: differs)"))
        row = Image.new("RGB", (TILE * len(tiles), max(t.height for t in tiles)), "white")
        for j, t in enumerate(tiles):
            row.paste(t, (j * TILE, 0))
        rows.append(row)
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
    return sheet


def write_report(root: Path, precisions: dict[str, Any], references: Sequence[Any],
                 results: dict[str, Sequence[Any]], images: Sequence[Any],
                 vocabulary: Vocabulary) -> list[Path]:
    md = write_bytes_atomic(root / "precision_report.md", _markdown(precisions).encode())
    buffer = io.BytesIO()
    _picture(references, results, images, vocabulary).save(buffer, format="PNG")
    png = write_bytes_atomic(root / "precision_report.png", buffer.getvalue())
    return [md, png]
