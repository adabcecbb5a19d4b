"""Tensor level: how far each deployed subgraph output is from the reference's.

Numpy in float64 rather than polygraphy's comparator: the outputs come from whole pipelines, not
runners, and polygraphy's `SimpleCompareFunc` takes ~3 s per full-size mask tensor and gives no
quantile of the absolute error; export's parity (`onnx/parity.py`) uses it where it does fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from frozenseg_export.noise_floor import max_relative_error
from frozenseg_export.onnx.parity import cosine_similarity
from frozenseg_runtime import graphs

# Error histogram bins (absolute error, log-spaced); zero errors land in the first bin.
HISTOGRAM_EDGES = np.concatenate([[0.0], np.logspace(-12, 2, 57)])


def error_stats(value: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """max and mean absolute error, the 99th percentile, relative error and cosine similarity."""
    a = np.asarray(value, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return {"max_abs": 0.0, "mean_abs": 0.0, "p99_abs": 0.0, "relative": 0.0, "cosine": 1.0}
    diff = np.abs(a - b)
    return {"max_abs": float(diff.max()), "mean_abs": float(diff.mean()),
            "p99_abs": float(np.quantile(diff, 0.99)), "relative": max_relative_error(a, b),
            "cosine": cosine_similarity(a, b)}


def graph_of(tensor: str) -> str:
    return tensor.split("/", 1)[0]


@dataclass
class TensorTally:
    """One output over many images: the worst figure of each kind, and a histogram of errors."""

    name: str
    vs_float32: list[dict[str, float]] = field(default_factory=list)
    vs_float64: list[dict[str, float]] = field(default_factory=list)
    floor: list[dict[str, float]] = field(default_factory=list)  # reference float32 vs float64
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(len(HISTOGRAM_EDGES) - 1, np.int64))
    floor_histogram: np.ndarray = field(default_factory=lambda: np.zeros(len(HISTOGRAM_EDGES) - 1, np.int64))

    def add(self, deployed: np.ndarray, float32: np.ndarray, float64: np.ndarray) -> None:
        self.vs_float32.append(error_stats(deployed, float32))
        self.vs_float64.append(error_stats(deployed, float64))
        self.floor.append(error_stats(float32, float64))
        self.histogram += _histogram(deployed, float32)
        self.floor_histogram += _histogram(float32, float64)

    def margin(self) -> float:
        """The worst error against float64 over the images, over the graph's parity bar on the
        worst float32 floor: at most 1 where a float32 deployment is as exact as float32 allows.

        Pooled over images, not image by image: chained outputs pass thresholds (the decoder's
        masked attention binarises mask logits), so on one image float32 may by luck land on
        float64's side of every threshold while an equally exact deployment does not."""
        bar = graphs.REGISTRY[graph_of(self.name)].parity
        return max(d["relative"] for d in self.vs_float64) / bar.bar(max(f["relative"] for f in self.floor))

    def summary(self) -> dict[str, object]:
        def worst(rows: list[dict[str, float]]) -> dict[str, float]:
            return {k: (min if k == "cosine" else max)(r[k] for r in rows) for k in rows[0]}

        return {"vs_float32": worst(self.vs_float32), "vs_float64": worst(self.vs_float64),
                "float32_floor": worst(self.floor), "floor_margin": self.margin(), "images": len(self.floor),
                "histogram": {"edges": HISTOGRAM_EDGES.tolist(), "deployed_vs_float32": self.histogram.tolist(),
                              "float32_vs_float64": self.floor_histogram.tolist()}}


def _histogram(value: np.ndarray, reference: np.ndarray) -> np.ndarray:
    diff = np.abs(np.asarray(value, np.float64) - np.asarray(reference, np.float64)).ravel()
    return np.histogram(np.clip(diff, 0.0, HISTOGRAM_EDGES[-1]), HISTOGRAM_EDGES)[0]


def valid_text_rows(embeddings: np.ndarray, synonym_mask: np.ndarray) -> np.ndarray:
    """The real synonyms' rows of a (K, S, E) padded embedding tensor (padding is not an answer)."""
    return np.asarray(embeddings)[np.asarray(synonym_mask, bool)]
