"""Tensor level: how far each deployed subgraph output is from the reference's.

Each subgraph is judged on the inputs the float32 reference gave it: the encoders on the same
pre-processed image and tokens; the decoder on the float32 reference's encoder outputs and text
embeddings (not on the deployed encoders' outputs), against the float64 decoder on those same
inputs. Chained, a decoder that thresholds its mask logits (masked attention, mask pooling) turns
the encoders' last-bit differences into step changes that are nobody's error; the chained figures
are reported beside, and the answers they lead to are the end-to-end layer's job.

Numpy in float64 rather than polygraphy's comparator: the outputs come from whole pipelines, not
runners, and polygraphy's `SimpleCompareFunc` takes ~3 s per full-size mask tensor and gives no
quantile of the absolute error; export's parity (`onnx/parity.py`) uses it where it does fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from frozenseg_export.nonfinite import nonfinite_where_finite
from frozenseg_export.onnx.parity import cosine_similarity, median_query_max
from frozenseg_runtime import graphs

# Error histogram bins (absolute error, log-spaced); zero errors land in the first bin.
HISTOGRAM_EDGES = np.concatenate([[0.0], np.logspace(-12, 2, 57)])


def error_stats(value: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """max and mean absolute error, the 99th percentile, relative error and cosine similarity."""
    return _compare(value, reference)[0]


def _compare(value: np.ndarray, reference: np.ndarray, per_query: bool | None = None,
             histogram: bool = False) -> tuple[dict[str, float], np.ndarray | None]:
    """`error_stats` (plus `judged` when `per_query` is given) and the error histogram, from one
    float64 difference: full-size mask tensors are too large to subtract again for each figure."""
    a = np.asarray(value, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        stats = {"max_abs": 0.0, "mean_abs": 0.0, "p99_abs": 0.0, "relative": 0.0, "cosine": 1.0}
        return ({**stats, "judged": 0.0} if per_query is not None else stats,
                np.zeros(len(HISTOGRAM_EDGES) - 1, np.int64) if histogram else None)
    with np.errstate(invalid="ignore"):
        diff = np.abs(a - b)
    if not np.isfinite(diff).all():
        # Both non-finite: the reference has no number either. Deployed non-finite where the
        # reference is finite: an infinite error, so that no figure can pass (`tensor.nonfinite`
        # names it).
        diff = np.where(np.isfinite(a) | np.isfinite(b), diff, 0.0)
        diff = np.where(np.isfinite(diff), diff, np.inf)
    finite_b = b[np.isfinite(b)]
    scale = float(np.abs(finite_b).max()) if finite_b.size else 0.0
    stats = {"max_abs": float(diff.max()), "mean_abs": float(diff.mean()),
             "p99_abs": float(np.quantile(diff, 0.99, method="higher")),  # inf stays inf, never NaN
             "relative": float(diff.max()) / scale if scale > 0 else float(diff.max()),  # max_relative_error
             "cosine": cosine_similarity(a, b)}
    if per_query is not None:
        stats["judged"] = _judged(diff / (scale if scale > 0 else 1.0), per_query)
    counts = np.histogram(np.clip(diff.ravel(), 0.0, HISTOGRAM_EDGES[-1]), HISTOGRAM_EDGES)[0] if histogram else None
    return stats, counts


def graph_of(tensor: str) -> str:
    return tensor.split("/", 1)[0]


def judged_error(value: np.ndarray, truth: np.ndarray, per_query: bool) -> float:
    """The error a bar judges, in units of the truth's largest magnitude: the largest element's,
    or for the decoder's outputs (`per_query`: first axis = queries) the median query's largest.

    The decoder thresholds mask logits (masked attention in every layer, `mask_pooling` with
    its empty-mask switch of the ensemble), so a last-bit difference that crosses a threshold
    steps a whole query's outputs. Which queries step is luck: on the full preset float32 PyTorch
    and ONNX Runtime each step a few of 250, different ones, while every other query stays within
    a few float32 ulps. A maximum would fail an exact deployment whenever float32 happened to step
    fewer; the median query's error is what the arithmetic costs, and a wrong weight moves it.
    Maxima are reported beside it; whether the steps change an answer is the end-to-end layer's
    to judge."""
    return _compare(value, truth, per_query)[0]["judged"]


def _judged(diff: np.ndarray, per_query: bool) -> float:
    """`judged_error` of an elementwise error already in units of the truth's range."""
    if per_query and diff.ndim >= 2:
        return median_query_max(diff)
    return float(diff.max())


@dataclass
class TensorTally:
    """One output over many images: the worst figure of each kind, and a histogram of errors."""

    name: str
    vs_float32: list[dict[str, float]] = field(default_factory=list)
    vs_float64: list[dict[str, float]] = field(default_factory=list)
    floor: list[dict[str, float]] = field(default_factory=list)  # reference float32 vs float64
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(len(HISTOGRAM_EDGES) - 1, np.int64))
    floor_histogram: np.ndarray = field(default_factory=lambda: np.zeros(len(HISTOGRAM_EDGES) - 1, np.int64))

    chained_vs_float32: list[dict[str, float]] = field(default_factory=list)
    nonfinite: int = 0  # deployed values NaN or Inf where float64 is finite, over every image
    first_nonfinite_image: int | None = None
    first_nonfinite_kind: str = "nan"  # "nan" or "inf", what nonfinite.first_nonfinite_node looks for
    first_nonfinite_source: str = "reference inputs"  # or "deployed pipeline" (the chained decoder)

    def add(self, deployed: np.ndarray, float32: np.ndarray, float64: np.ndarray,
            chained: np.ndarray | None = None) -> None:
        """`deployed` and `float32` computed from the same inputs, `float64` the truth for those
        inputs; `chained`, for the decoder, the deployed pipeline's own output (its inputs came
        from the deployed encoders), compared with `float32` for information."""
        for source, value in (("reference inputs", deployed), ("deployed pipeline", chained)):
            found = nonfinite_where_finite(value, float64) if value is not None else None
            if found is None:
                continue
            self.nonfinite += found.count
            if self.first_nonfinite_image is None:
                self.first_nonfinite_image = len(self.floor)
                self.first_nonfinite_kind = "nan" if found.nan else "inf"
                self.first_nonfinite_source = source
        if chained is not None:
            self.chained_vs_float32.append(error_stats(chained, float32))
        per_query = graph_of(self.name) == graphs.DECODER
        stats, counts = _compare(deployed, float32, histogram=True)
        self.vs_float32.append(stats)
        self.histogram += counts
        self.vs_float64.append(_compare(deployed, float64, per_query)[0])
        stats, counts = _compare(float32, float64, per_query, histogram=True)
        self.floor.append(stats)
        self.floor_histogram += counts

    def margin(self) -> float:
        """The worst image's judged error against float64 (`judged_error`), over the graph's
        parity bar on the same figure of the float32 floor (pooled over images): at most 1 where a
        float32 deployment is as exact as float32 allows."""
        bar = graphs.REGISTRY[graph_of(self.name)].parity
        worst = max(d["judged"] for d in self.vs_float64)
        return worst / bar.bar(max(f["judged"] for f in self.floor))

    def summary(self) -> dict[str, object]:
        def worst(rows: list[dict[str, float]]) -> dict[str, float] | None:
            return {k: (min if k == "cosine" else max)(r[k] for r in rows) for k in rows[0]} if rows else None

        return {"vs_float32": worst(self.vs_float32), "vs_float64": worst(self.vs_float64),
                "chained_vs_float32": worst(self.chained_vs_float32),
                "float32_floor": worst(self.floor), "floor_margin": self.margin(), "images": len(self.floor),
                "nonfinite": self.nonfinite,
                "histogram": {"edges": HISTOGRAM_EDGES.tolist(), "deployed_vs_float32": self.histogram.tolist(),
                              "float32_vs_float64": self.floor_histogram.tolist()}}


def valid_text_rows(embeddings: np.ndarray, synonym_mask: np.ndarray) -> np.ndarray:
    """The real synonyms' rows of a (K, S, E) padded embedding tensor (padding is not an answer)."""
    return np.asarray(embeddings)[np.asarray(synonym_mask, bool)]
