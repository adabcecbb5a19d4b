"""How the two image encoders share the machine: at once, or one after the other.

On a GPU the encoders overlap on two streams, and the stage takes about as long as the slower one.
On a CPU, each ONNX Runtime session already spreads one graph over every core. Two sessions at once
oversubscribe a small CPU: on 2 cores the three graphs took 12.0-19.3 s inside `segment` against
10.1-10.4 s run one after the other. So on a CPU the encoders run one after the other, each with
every core, until the CPU has many cores; there one graph stops scaling and the encoders overlap
with the cores split between them. `plan_encoders` is that rule; the C++ library applies the same
one (runtime/cpp/src/core/schedule.cpp) to the numbers the exporter writes from here into the
manifest (`runtime.encoder_schedule`, `rule_record`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from frozenseg_runtime.errors import UsageError

ENCODER_SCHEDULES = ("auto", "concurrent", "sequential")
CPU_BACKEND = "onnxruntime-cpu"
# Every backend that runs on the CPU cores, to which the rule applies (the manifest records them
# for the C++ library, which has both).
CPU_BACKENDS = (CPU_BACKEND, "openvino-cpu")
# From this many cores up, a CPU runs the encoders at once with the cores split between them. A
# judgment, not a measurement: below it (measured on 2 cores) one after the other is faster.
MANY_CORES = 8


@dataclass(frozen=True)
class EncoderPlan:
    """The schedule of the image encoders and the intra-op threads of each of their sessions."""

    schedule: str  # "concurrent" or "sequential"
    image_threads: int | None  # None: ONNX Runtime's default (every core)


def rule_record() -> dict[str, Any]:
    """The rule's names and numbers, for the manifest's `runtime.encoder_schedule`."""
    # cpu_backend: the one CPU backend readers before openvino-cpu know; cpu_backends: all of them.
    return {"schedules": list(ENCODER_SCHEDULES), "cpu_backend": CPU_BACKEND,
            "cpu_backends": list(CPU_BACKENDS), "many_cores": MANY_CORES}


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, e.g. a container's CPU set)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def plan_encoders(schedule: str, backend: str, threads: int | None = None,
                  cores: int | None = None) -> EncoderPlan:
    """The plan for a resolved backend: `auto` overlaps the encoders on a GPU and on a CPU of at
    least MANY_CORES cores; an explicit schedule is kept. When the encoders overlap on a CPU and no
    thread count was given, each session takes half the cores."""
    if schedule not in ENCODER_SCHEDULES:
        raise UsageError(f"encoder schedule {schedule!r} is not one of {', '.join(ENCODER_SCHEDULES)}")
    cores = usable_cores() if cores is None else cores
    on_cpu = backend in CPU_BACKENDS
    if schedule == "auto":
        schedule = "sequential" if on_cpu and cores < MANY_CORES else "concurrent"
    image_threads = threads
    if on_cpu and schedule == "concurrent" and not threads:
        image_threads = max(1, cores // 2)
    return EncoderPlan(schedule, image_threads)
