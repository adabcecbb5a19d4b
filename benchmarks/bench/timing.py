"""Latency statistics and ratios (run.py alternates the calls; a ratio is taken between medians of
the same rounds, so that drift on the machine falls on both alike)."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LatencyStats:
    """Seconds over a fixed number of runs after warm-up."""

    n: int
    mean: float
    p50: float
    p90: float
    p99: float
    min: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> "LatencyStats":
        if not samples:
            raise ValueError("no samples to summarise")
        ordered = sorted(samples)
        return cls(n=len(ordered), mean=statistics.fmean(ordered), p50=percentile(ordered, 50),
                   p90=percentile(ordered, 90), p99=percentile(ordered, 99), min=ordered[0],
                   max=ordered[-1])

    def as_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "mean": self.mean, "p50": self.p50, "p90": self.p90, "p99": self.p99,
                "min": self.min, "max": self.max}


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile of sorted samples, interpolated linearly between ranks (numpy's
    default), so that p99 of few runs is honest about lying near the largest."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {q}")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def ratio(baseline: float | None, contender: float | None) -> float | None:
    """How many times faster the contender is (baseline seconds over contender seconds)."""
    if baseline is None or contender is None or contender <= 0:
        return None
    return baseline / contender


def own_rounds_speedup(contender: dict[str, Any], baseline: dict[str, Any], resolution: str) -> float | None:
    """A report contender's end to end against the baseline's own consecutive rounds (p50s)."""
    own = baseline["resolutions"].get(resolution, {}).get("end_to_end", {}).get("p50")
    mine = contender["resolutions"].get(resolution, {}).get("end_to_end", {}).get("p50")
    return ratio(own, mine)
