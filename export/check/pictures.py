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
from frozenseg_runtime.output.visualize import palette

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


def _blend(pixels: np.ndarray, labels: np.ndarray, colours: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """Labels below 0 (no segment) leave the image as it is."""
    colour = colours[np.clip(labels, 0, len(colours) - 1)].astype(np.float32)
    mixed = (1 - alpha) * pixels.astype(np.float32) + alpha * colour
    return np.where((labels >= 0)[..., None], mixed, pixels).astype(np.uint8)


def comparison_picture(path: Path, pixels: np.ndarray, reference: np.ndarray, deployed: np.ndarray,
                       names: Sequence[str], title: str, deployed_label: str) -> Path:
    """Reference labels | deployed labels | disagreement (red) over a grey image."""
    plt = _pyplot()
    pixels, reference, deployed = _shrink(pixels), _shrink(reference), _shrink(deployed)
    colours = palette(len(names))
    grey = np.repeat(pixels.mean(-1, keepdims=True), 3, -1) * 0.6
    differ = reference != deployed
    disagreement = grey.astype(np.uint8)
    disagreement[differ] = (230, 30, 30)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
    panels = [(_blend(pixels, reference, colours), "PyTorch reference (float32)"),
              (_blend(pixels, deployed, colours), deployed_label),
              (disagreement, f"disagreement: {differ.mean():.3%} of pixels")]
    for ax, (image, label) in zip(axes, panels):
        ax.imshow(image)
        ax.set_title(label, fontsize=10)
        ax.axis("off")
    present, counts = np.unique(np.concatenate([reference.ravel(), deployed.ravel()]), return_counts=True)
    top = [int(i) for i in present[np.argsort(-counts)] if i >= 0][:12]
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[i] / 255) for i in top]
    fig.legend(handles, [names[i] for i in top], loc="lower center", ncol=min(6, len(top)), fontsize=8,
               frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
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
