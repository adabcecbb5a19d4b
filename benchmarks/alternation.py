"""Does a PyTorch eager call run slower when it alternates with a runtime call in one process?

    .venv/bin/python benchmarks/alternation.py --artifacts artifacts/default [--resize 800,1333]
        [--rounds 6] [--backend onnxruntime-cpu]

`bench` pairs each runtime call with a baseline call, and at 800x800 on the full preset the paired
baseline calls took 35 s against 26 s for its own consecutive rounds (issue 25, item 6). This
script separates the suspects in one process (--phases picks some):

    alone            baseline calls back to back
    alt-spin         baseline, runtime, baseline, ... (the runtime's arena on, as it was; ONNX
                     Runtime's idle workers spin, its default)
    alt-noarena      the same with the runtime's arena off (its default since issue 25)
    alt-own-process  alt-spin's pairing again, then the baseline in a process of its own
                     (bench's isolated.py): alone, and alternating with the same runtime
    alt-nospin       alt-spin with session.intra_op.allow_spinning and inter_op = 0
    alone-again      baseline alone once more (drift)

Per call: the median wall seconds, the process's CPU seconds, minor page faults (fresh memory
touched: PyTorch's allocator hands large blocks back to the OS between calls) and involuntary
context switches; per phase, the process's resident memory and the machine's available memory as
it starts. Prints one JSON object.

Measured on the full preset at 800x800, 2-core Xeon, 3 rounds (issue 25):

    phase                         baseline s  minor faults a call  resident GiB  available GiB
    alone                         17.3        3.1 M                4.5           17.9
    alt-spin (arena on)           26.9        5.7 M                13.3          9.8
    alt-nospin (arena on)         27.7        6.0 M                13.5          9.6
    alt-noarena                   19.6        5.6 M                5.3           17.7
    own process, alone            18.0
    own process, alternating      17.8        (beside the arena-on runtime: 13.3, 4.9 available)
    alone-again                   17.1        3.1 M                4.1           18.2

Spinning is not the cause; sharing the process is: the paired calls fault in what the other's
calls freed in the one heap. In a process of its own the baseline runs as fast alternating as alone.
On the tiny preset (stop 30) no phase showed a slowdown.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from frozenseg_bench.contenders import Contender, ReferenceContender, RuntimeContender, total_seconds
from frozenseg_bench.isolated import IsolatedContender
from frozenseg_bench.memory import release_freed_memory, resident_bytes
from frozenseg_runtime.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]


# The runtime's settings in each alternating phase (its arena is on where the phase asks for the
# memory the runtime held before issue 25's item 5).
PHASES: dict[str, dict[str, Any]] = {"alt-spin": {"memory_arena": True}, "alt-noarena": {"memory_arena": False},
                                     "alt-own-process": {"memory_arena": True},
                                     "alt-nospin": {"memory_arena": True}}
ALL_PHASES = ("alone", *PHASES, "alone-again")


def timed_call(contender: Contender, image: np.ndarray, resize: tuple[int, int]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    contender.segment(image, resize, "semantic")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"wall_s": wall,
            "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "minor_faults": after.ru_minflt - before.ru_minflt,
            "involuntary_switches": after.ru_nivcsw - before.ru_nivcsw}


def memory_state() -> dict[str, float]:
    """The process's resident memory and the system's available memory, in GiB, as a phase starts."""
    available = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemAvailable:"))
    return {"resident_gib": round(resident_bytes() / 2 ** 30, 2), "available_gib": round(available / 2 ** 20, 2)}


VMSTAT_COUNTERS = ("thp_fault_alloc", "thp_fault_fallback", "compact_stall", "pgmajfault")


def system_counters() -> dict[str, int]:
    """Machine-wide counters a child's call cannot report itself: CPU ticks of every process
    (user, nice, system, irq, softirq) and the kernel's huge-page and compaction events."""
    ticks = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    counters = {"system_cpu_ticks": sum(int(ticks[i]) for i in (0, 1, 2, 5, 6))}
    for line in Path("/proc/vmstat").read_text().splitlines():
        name, value = line.split()
        if name in VMSTAT_COUNTERS:
            counters[name] = int(value)
    return counters


def counter_deltas(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    return {name: float(after[name] - before[name]) for name in before}


def medians(calls: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(call[key] for call in calls), 4) for key in calls[0]}


def without_spinning() -> None:
    """Every ONNX Runtime session made from here on lets its idle threads sleep."""
    import onnxruntime as ort

    original = ort.SessionOptions

    class NoSpinning(original):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.add_session_config_entry("session.inter_op.allow_spinning", "0")

    ort.SessionOptions = NoSpinning


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--resize", default="800,1333", help="shortest edge,longest edge")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--backend", default="onnxruntime-cpu")
    parser.add_argument("--image", type=Path, default=ROOT / "samples" / "astronaut.jpg")
    parser.add_argument("--vocabulary", type=Path, default=ROOT / "samples" / "vocabulary.json")
    parser.add_argument("--phases", nargs="+", default=list(ALL_PHASES), choices=ALL_PHASES)
    parser.add_argument("--probe-first", action="store_true",
                        help="run bench's CPU GEMM probe before anything else, as bench does")
    args = parser.parse_args(argv)
    if args.probe_first:
        from frozenseg_bench.cpu_peak import cpu_peaks

        cpu_peaks()
    short, longest = (int(v) for v in args.resize.split(","))
    resize = (short, longest)
    image = np.asarray(Image.open(args.image).convert("RGB"))

    manifest = load_manifest(args.artifacts)
    baseline = ReferenceContender(manifest, "cpu")
    baseline.load()
    baseline.set_vocabulary(args.vocabulary)
    for _ in range(2):
        timed_call(baseline, image, resize)
    report: dict[str, Any] = {"resize": resize, "rounds": args.rounds, "backend": args.backend}
    if "alone" in args.phases:
        report["alone"] = {**medians([timed_call(baseline, image, resize) for _ in range(args.rounds)]),
                           **memory_state()}
    for phase, options in PHASES.items():
        if phase not in args.phases:
            continue
        if phase == "alt-nospin":
            without_spinning()
        runtime = RuntimeContender(args.artifacts, args.backend, "fp32", **options)
        runtime.load()
        runtime.set_vocabulary(args.vocabulary)
        for _ in range(2):
            timed_call(runtime, image, resize)
        state = memory_state()
        base_calls, runtime_calls = [], []
        for _ in range(args.rounds):
            base_calls.append(timed_call(baseline, image, resize))
            runtime_calls.append(timed_call(runtime, image, resize))
        report[phase] = {**medians(base_calls), **state}
        report[f"{phase} (runtime)"] = medians(runtime_calls)
        if phase == "alt-own-process":  # the same pairing, the baseline in a process of its own
            isolated = IsolatedContender(functools.partial(ReferenceContender, manifest, "cpu"))
            isolated.load()
            isolated.set_vocabulary(args.vocabulary)
            for _ in range(2):
                isolated.segment(image, resize, "semantic")
            own, paired, own_system, paired_system = [], [], [], []
            for _ in range(args.rounds):
                before = system_counters()
                own.append(total_seconds(isolated.segment(image, resize, "semantic")))
                own_system.append(counter_deltas(before, system_counters()))
            for _ in range(args.rounds):
                before = system_counters()
                paired.append(total_seconds(isolated.segment(image, resize, "semantic")))
                paired_system.append(counter_deltas(before, system_counters()))
                runtime_calls.append(timed_call(runtime, image, resize))
            report["own-process alone"] = {"wall_s": round(statistics.median(own), 4), **medians(own_system)}
            report["own-process alternating"] = {"wall_s": round(statistics.median(paired), 4),
                                                 **medians(paired_system), **memory_state()}
            isolated.close()
        runtime.close()
        release_freed_memory()
    if "alone-again" in args.phases:
        report["alone-again"] = {**medians([timed_call(baseline, image, resize) for _ in range(args.rounds)]),
                                 **memory_state()}
    baseline.close()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
