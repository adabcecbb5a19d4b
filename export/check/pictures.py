"""The report's pictures (matplotlib, Agg): what a reader looks at before reading numbers.

Per image, the reference's and the deployed pipeline's labels side by side with a map of where
they disagree; per subgraph output, a histogram of the deployed error next to float32's own error
against float64 (the noise floor); over the images, each end-to-end figure per image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime.atomic import write_atomic
from frozenseg_runtime.output.palette import palette

PANEL_MAX = 480  # longest side of one panel, pixels


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    _pyplot().close(fig)
    return path


def _shrink(array: np.ndarray) -> np.ndarray:
    step = max(1, int(np.ceil(max(array.shape[:2]) / PANEL_MAX)))
    return array[::step, ::step]


def _shrink_any(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`mask` reduced to `shape` (as _shrink does) keeping a pixel red when any pixel it stands
    for is: a few differing pixels must stay visible in a small picture."""
    step = max(1, int(np.ceil(max(mask.shape[:2]) / PANEL_MAX)))
    h, w = shape
    padded = np.zeros((h * step, w * step), bool)
    padded[: mask.shape[0], : mask.shape[1]] = mask[: h * step, : w * step]
    small = padded.reshape(h, step, w, step).any(axis=(1, 3))
    # and grown by two pixels, so that a lone one stays visible once the page is scaled down
    edge = np.pad(small, 2)
    return np.logical_or.reduce([edge[dy:dy + h, dx:dx + w] for dy in range(5) for dx in range(5)])


def _blend(pixels: np.ndarray, labels: np.ndarray, colours: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """Labels below 0 (no segment) leave the image as it is."""
    colour = colours[np.clip(labels, 0, len(colours) - 1)].astype(np.float32)
    mixed = (1 - alpha) * pixels.astype(np.float32) + alpha * colour
    return np.where((labels >= 0)[..., None], mixed, pixels).astype(np.uint8)


def comparison_picture(path: Path, pixels: np.ndarray, rows: Sequence[tuple[str, np.ndarray, np.ndarray]],
                       names: Sequence[str], title: str, deployed_label: str) -> Path:
    """One row per task: reference labels | deployed labels | disagreement (red) over a grey
    image. `rows` holds (task, reference class map, deployed class map); -1 is no segment."""
    plt = _pyplot()
    pixels = _shrink(pixels)
    colours = palette(len(names))
    grey = (np.repeat(pixels.mean(-1, keepdims=True), 3, -1) * 0.6).astype(np.uint8)
    fig, axes = plt.subplots(len(rows), 3, figsize=(13, 4.3 * len(rows)), squeeze=False)
    shown: list[np.ndarray] = []
    for row_axes, (task, reference, deployed) in zip(axes, rows):
        differ_full = reference != deployed
        fraction = differ_full.mean()
        reference, deployed = _shrink(reference), _shrink(deployed)
        disagreement = grey.copy()
        disagreement[_shrink_any(differ_full, disagreement.shape[:2])] = (230, 30, 30)
        panels = [(_blend(pixels, reference, colours), f"{task}: PyTorch reference (float32)"),
                  (_blend(pixels, deployed, colours), f"{task}: {deployed_label}"),
                  (disagreement, f"{task}: {fraction:.3%} of pixels differ")]
        for ax, (image, label) in zip(row_axes, panels):
            ax.imshow(image)
            ax.set_title(label, fontsize=10)
            ax.axis("off")
        shown += [reference.ravel(), deployed.ravel()]
    present, counts = np.unique(np.concatenate(shown), return_counts=True)
    top = [int(i) for i in present[np.argsort(-counts)] if i >= 0][:12]
    if top:  # none when every answer is empty
        handles = [plt.Rectangle((0, 0), 1, 1, color=colours[i] / 255) for i in top]
        fig.legend(handles, [names[i] for i in top], loc="lower center", ncol=min(6, len(top)), fontsize=8,
                   frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return _save(fig, path)


def histogram_picture(path: Path, tensors: Mapping[str, Mapping[str, Any]], title: str) -> Path:
    """One panel per subgraph output: |deployed - float32| and |float32 - float64| counts."""
    plt = _pyplot()
    names = list(tensors)
    cols = 3
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        hist = tensors[name]["histogram"]
        edges = np.asarray(hist["edges"])
        lefts = np.maximum(edges[:-1], 1e-13)
        for key, label, colour in (("deployed_vs_float32", "deployed vs float32", "#d62728"),
                                   ("float32_vs_float64", "float32 vs float64 (floor)", "#7f7f7f")):
            counts = np.asarray(hist[key], np.float64)
            total = counts.sum()
            ax.step(lefts, counts / total if total else counts, where="post", label=label, color=colour)
        ax.set_xscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("absolute error", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def per_image_picture(path: Path, rows: Sequence[Mapping[str, float]], title: str) -> Path:
    """Each end-to-end figure per image, in the order the images were checked."""
    plt = _pyplot()
    metrics = sorted({k for row in rows for k in row})
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = np.arange(1, len(rows) + 1)
    for metric in metrics:
        ax.plot(x, [row.get(metric, np.nan) for row in rows], marker="o", label=metric)
    ax.set_xlabel("image")
    ax.set_ylabel("agreement with the reference")
    ax.set_xticks(x)
    ax.set_ylim(top=1.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)
