"""The measurement plan of `bench`: every contender against the baseline, in one process.

The baseline (PyTorch eager FP32) is loaded first and stays loaded; contenders are loaded one at a
time beside it (two full-size models fit a small machine, more do not). For each contender: its
cold start, its vocabulary encoding on a miss and on a cache hit, then at each resolution a first
call and warm-up, then `runs` rounds that alternate a baseline call with a contender call (the
task in turn semantic, panoptic, instance); then its throughput over a stream of images, and it is
closed. Ratios are taken between the medians of the same rounds.
"""

from __future__ import annotations

import datetime
import functools
import sys
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_bench import memory
from frozenseg_bench.contenders import (
    Contender,
    CppContender,
    ReferenceContender,
    Resize,
    RuntimeContender,
    StageTimes,
    total_seconds,
)
from frozenseg_bench.environment import describe_environment
from frozenseg_bench.isolated import IsolatedContender
from frozenseg_bench.timing import timed
from frozenseg_export.synthetic_images import structured_images
from frozenseg_runtime import graphs
from frozenseg_export.cpp_library import DEFAULT_LIBRARY, CppLibraryError
from frozenseg_runtime.errors import FrozenSegError, UsageError
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.image.preprocess import PreprocessConstants, preprocess
from frozenseg_runtime.manifest import BF16, Manifest, load_manifest
from frozenseg_runtime.output.postprocess import TASKS
from frozenseg_runtime.progress import Say, quiet
from frozenseg_runtime.schedule import plan_encoders
from frozenseg_runtime.text.vocabulary import parse_vocabulary


@dataclass(frozen=True)
class Resolution:
    """A test-time resize: the shortest edge to `short`, the longest at most `max`."""

    name: str
    short: int
    max: int

    @property
    def resize(self) -> Resize:
        return (self.short, self.max)

    @property
    def label(self) -> str:
        return f"{self.name} {self.short}/{self.max}"


OFFICIAL = Resolution("official", 800, 1333)  # FrozenSeg's test-time resize
EDGE = Resolution("edge", 640, 1066)  # an edge setting: 0.8x the official edges


def default_vocabulary() -> Path:
    """ADE20K-150 with the official synonyms (benchmarks/bench/data/ade20k_150.json)."""
    return Path(str(resources.files("frozenseg_bench") / "data" / "ade20k_150.json"))


@dataclass
class BenchOptions:
    artifacts: Path
    out: Path
    image: Path | None = None  # default: a generated 480x640 image
    vocabulary: Path = field(default_factory=default_vocabulary)
    resolutions: tuple[Resolution, ...] = (OFFICIAL, EDGE)
    runs: int = 5
    warmup: int = 1
    stream: int = 4
    stream_workers: int | None = None  # default: as the encoder schedule (run.stream_workers)
    backends: tuple[str, ...] | None = None  # Python runtime backends; default: every usable one
    precisions: tuple[str, ...] | None = None  # default: every precision in the manifest
    cpp_library: Path | None = None  # default: build/libfrozenseg.so where it exists
    cpp_precisions: tuple[str, ...] = ("fp32",)
    pytorch_variants: tuple[str, ...] | None = None  # default: eager; on a GPU also autocast, compile
    checkpoint: str | None = None
    threads: int | None = None
    quick: bool = False
    baseline_process: str = "own"  # "own": the baseline in a child process (isolated.py); "shared"

    def __post_init__(self) -> None:
        if self.baseline_process not in ("own", "shared"):
            raise UsageError(f"--baseline-process must be own or shared, got {self.baseline_process!r}")
        for name in ("runs", "stream", "stream_workers"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.warmup < 0:
            raise UsageError(f"--warmup must be 0 or more, got {self.warmup}")
        names = [r.name for r in self.resolutions]
        if len(set(names)) != len(names):
            raise UsageError(f"resolution names must differ, got {', '.join(names)}")


# -- what runs ---------------------------------------------------------------------------------
def torch_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def runtime_backends() -> tuple[str, ...]:
    """Every backend of the Python runtime that can run here (TensorRT needs built engines too: a
    missing engine is reported as a skip when the contender loads)."""
    from frozenseg_runtime.backends.factory import BACKENDS, resolve_backend

    usable = []
    for backend in BACKENDS[1:]:
        try:
            resolve_backend(backend)
        except FrozenSegError:
            continue
        usable.append(backend)
    return tuple(usable)


def plan_contenders(options: BenchOptions, manifest: Manifest) -> tuple[list[Contender], list[dict[str, str]]]:
    """The contenders of this run (baseline excluded) and the skips with their reasons."""
    device = torch_device()
    skipped: list[dict[str, str]] = []
    contenders: list[Contender] = []
    variants = options.pytorch_variants or (("eager", "autocast", "compile") if device == "cuda" else ("eager",))
    for variant in variants:
        if variant == "eager":
            continue  # the baseline
        if device != "cuda":
            skipped.append({"contender": f"pytorch/{device}/{variant}", "reason": f"PyTorch {variant} is measured "
                            "on a CUDA device only (torch sees none)"})
            continue
        contenders.append(ReferenceContender(manifest, device, variant, options.checkpoint))
    precisions = options.precisions or manifest.precisions
    for precision in precisions:
        if precision not in manifest.precisions and precision != BF16:
            skipped.append({"contender": f"*/{precision}", "reason": f"the artifacts have no {precision} graphs "
                            f"(run frozenseg-deploy quantize --artifacts {options.artifacts})"})
    available = [p for p in precisions if p in manifest.precisions]
    backends = options.backends or runtime_backends()
    for backend in backends:
        contenders += [RuntimeContender(options.artifacts, backend, p, options.threads) for p in available]
    bf16 = _bf16_contender(options, backends)
    if isinstance(bf16, Contender):
        contenders.append(bf16)
    elif bf16 is not None:
        skipped.append(bf16)
    library = options.cpp_library or DEFAULT_LIBRARY
    if library.is_file():
        cpp_backends = [b for b in backends if b in ("onnxruntime-cpu", "openvino-cpu", "tensorrt")]
        contenders += [CppContender(library, options.artifacts, backend, p, options.threads)
                       for backend in cpp_backends for p in options.cpp_precisions if p in manifest.precisions]
    else:
        skipped.append({"contender": "cpp", "reason": f"no C++ library at {library}: build it (README, 'C and "
                        "C++ library') or pass --cpp-library"})
    return contenders, skipped


def _bf16_contender(options: BenchOptions, backends: Sequence[str]) -> Contender | dict[str, str] | None:
    """The runtime precision bf16 on OpenVINO's CPU plugin where the CPU computes bfloat16 natively;
    where it does not, a skip that says so (bf16 is never emulated). None when not asked for."""
    from frozenseg_runtime.backends.cpu_features import BF16_FLAGS, has_native_bf16

    wanted = options.precisions is None or BF16 in options.precisions
    if not wanted or "openvino-cpu" not in backends:
        return None
    if not has_native_bf16():
        return {"contender": f"python/openvino-cpu/{BF16}", "reason": "this CPU has no native bfloat16 "
                f"({' or '.join(BF16_FLAGS)}), and bf16 is never emulated"}
    return RuntimeContender(options.artifacts, "openvino-cpu", BF16, options.threads)


def bench_images(options: BenchOptions) -> tuple[np.ndarray, list[np.ndarray]]:
    """The latency image and the throughput stream (it first, then generated ones of other sizes)."""
    if options.image is not None:
        image = load_image(options.image)
    else:
        image = structured_images(4, seed=11)[0]
        image = np.asarray(np.kron(image, np.ones((2, 2, 1), dtype=np.uint8)))[:480, :640]
    stream = [image, *structured_images(max(0, options.stream - 1), seed=5)]
    return image, stream[: options.stream]


# -- measuring ---------------------------------------------------------------------------------
@dataclass
class Measured:
    """Everything measured of one contender."""

    contender: Contender
    cold_start_s: float = 0.0
    vocabulary: dict[str, float | None] = field(default_factory=dict)
    first_call_s: dict[str, float] = field(default_factory=dict)
    rounds: dict[str, list[tuple[str, StageTimes]]] = field(default_factory=dict)  # resolution -> (task, times)
    paired_baseline: dict[str, list[tuple[str, StageTimes]]] = field(default_factory=dict)
    throughput: dict[str, Any] | None = None
    memory: memory.MemoryPeak | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    text_batch_shapes: list[tuple[int, int]] | None = None



def measure_start(contender: Contender, options: BenchOptions, tracker: memory.PeakMemory, say: Say) -> Measured:
    """Cold start, then the vocabulary on a miss and on a cache hit."""
    measured = Measured(contender)
    with tracker.counting():
        measured.cold_start_s = timed(contender.load)
        say(f"{contender.label}: loaded in {measured.cold_start_s:.1f} s")
        miss = timed(lambda: contender.set_vocabulary(options.vocabulary))
        hit = timed(lambda: contender.set_vocabulary(options.vocabulary)) if contender.has_vocabulary_cache else None
    measured.vocabulary = {"miss_s": miss, "hit_s": hit}
    measured.settings = contender.settings()
    if isinstance(contender, RuntimeContender):
        measured.text_batch_shapes = contender.text_batch_shapes(parse_vocabulary(options.vocabulary))
    say(f"{contender.label}: vocabulary miss {miss:.2f} s" + (f", hit {hit:.4f} s" if hit is not None else ""))
    return measured


def warm_up(measured: Measured, image: np.ndarray, resolution: Resolution, options: BenchOptions,
            tracker: memory.PeakMemory) -> None:
    with tracker.counting():
        first = measured.contender.segment(image, resolution.resize, TASKS[0])
        measured.first_call_s[resolution.name] = total_seconds(first)
        for index in range(options.warmup):
            measured.contender.segment(image, resolution.resize, TASKS[index % len(TASKS)])


def measure_rounds(measured: Measured, baseline: Contender, image: np.ndarray, resolution: Resolution,
                   options: BenchOptions, tracker: memory.PeakMemory, say: Say, is_baseline: bool) -> None:
    """`runs` rounds, a baseline call then a contender call (only the contender's is counted for
    memory); for the baseline itself, its own calls."""
    rounds, paired = measured.rounds.setdefault(resolution.name, []), measured.paired_baseline.setdefault(
        resolution.name, [])
    for index in range(options.runs):
        task = TASKS[index % len(TASKS)]
        if not is_baseline:
            paired.append((task, baseline.segment(image, resolution.resize, task)))
        with tracker.counting():
            rounds.append((task, measured.contender.segment(image, resolution.resize, task)))
        last = total_seconds(rounds[-1][1])
        pair = f"baseline {total_seconds(paired[-1][1]):.2f} s, " if not is_baseline else ""
        say(f"{measured.contender.label}: {resolution.label} round {index + 1}/{options.runs} ({task}): "
            f"{pair}{last:.2f} s")


def measure_throughput(contender: Contender, stream: Sequence[np.ndarray], resolution: Resolution,
                       workers: int, tracker: memory.PeakMemory) -> dict[str, Any]:
    """Images per second over the stream, `workers` calls in flight (one process)."""
    with tracker.counting():
        start = time.perf_counter()
        if workers == 1:
            for image in stream:
                contender.segment(image, resolution.resize, TASKS[0])
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="frozenseg-bench") as pool:
                list(pool.map(lambda image: contender.segment(image, resolution.resize, TASKS[0]), stream))
        seconds = time.perf_counter() - start
    return {"resolution": resolution.name, "images": len(stream), "workers": workers, "seconds": seconds,
            "images_per_s": len(stream) / seconds}


def stream_workers(contender: Contender, options: BenchOptions) -> int:
    """Calls in flight in the throughput stream. PyTorch eager runs one image at a time (its modules
    are not made for concurrent callers); the runtimes take two at once where concurrency pays, by
    the rule of the encoder schedule (runtime/schedule.py): on a GPU, or a CPU of many cores; on a
    small CPU two calls at once oversubscribe it, as two encoders do."""
    if contender.runtime == "pytorch":
        return 1
    if options.stream_workers is not None:
        return options.stream_workers
    return 2 if plan_encoders("auto", contender.backend).schedule == "concurrent" else 1


def run_bench(options: BenchOptions, say: Say = quiet) -> dict[str, Any]:
    """Measure everything, write bench.json, bench.md and the charts into options.out; return the
    report."""
    from frozenseg_bench.report import build_report, write_outputs

    started = datetime.datetime.now(datetime.timezone.utc)
    manifest = load_manifest(options.artifacts)
    image, stream = bench_images(options)
    contenders, skipped = plan_contenders(options, manifest)
    failed: list[dict[str, str]] = []
    environment = describe_environment()
    say(f"{len(contenders)} contenders beside the baseline, {len(options.resolutions)} resolutions, "
        f"{options.runs} rounds each; skipped: {len(skipped)}")
    peaks = None
    if torch_device() == "cpu":
        from frozenseg_bench.cpu_peak import cpu_peaks

        say("probing the CPU's GEMM peak (FP32, BF16, INT8)")
        peaks = cpu_peaks()
        say("CPU peak: " + ", ".join(f"{p} {peak.flop_per_s / 1e9:.0f} G/s" if peak.flop_per_s else f"{p} none"
                                     for p, peak in peaks.items()))
    make_baseline = functools.partial(ReferenceContender, manifest, torch_device(), "eager", options.checkpoint)
    # In a process of its own by default: sharing one heap with a contender slowed the baseline's
    # calls by half (isolated.py says how this was found).
    baseline = (IsolatedContender(make_baseline, preload=("torch",)) if options.baseline_process == "own"
                else make_baseline())
    base_tracker = memory.PeakMemory(memory.device_used_bytes_reader())
    base = measure_start(baseline, options, base_tracker, say)
    try:
        for resolution in options.resolutions:
            warm_up(base, image, resolution, options, base_tracker)
        base.throughput = measure_throughput(baseline, stream, options.resolutions[0], 1, base_tracker)
        say(f"{baseline.label}: throughput {base.throughput['images_per_s']:.3f} images/s")
        for resolution in options.resolutions:
            measure_rounds(base, baseline, image, resolution, options, base_tracker, say, is_baseline=True)
        shared_memory = base_tracker.stop()
        base.memory = baseline.peak_memory() if isinstance(baseline, IsolatedContender) else shared_memory
        measured = [base]
        for number, contender in enumerate(contenders, 1):
            say(f"[{number}/{len(contenders)}] {contender.label}")
            result = _measure_contender(contender, baseline, image, stream, options, say)
            if isinstance(result, Skip):
                (failed if result.failed else skipped).append({"contender": contender.key, "reason": result.reason})
                say(f"{contender.label}: {'FAILED' if result.failed else 'skipped'}: {result.reason}")
            else:
                measured.append(result)
    finally:
        baseline.close()
    text_shapes = next((m.text_batch_shapes for m in measured if m.text_batch_shapes), None)
    say("counting FLOPs (torch FlopCounterMode on the meta device)")
    flops = count_flops(manifest, image, options.resolutions, options.vocabulary, text_shapes)
    report = build_report(
        options=options, manifest=manifest, environment=environment, measured=measured, skipped=skipped, failed=failed,
        flops=flops, image=image, started=started, argv=sys.argv, cpu_peaks=peaks)
    write_outputs(report, options.out, say)
    return report


@dataclass(frozen=True)
class Skip:
    """Why a contender has no figures: it cannot run here (skipped), or it broke (failed)."""

    reason: str
    failed: bool = False


def _measure_contender(contender: Contender, baseline: Contender, image: np.ndarray,
                       stream: Sequence[np.ndarray], options: BenchOptions, say: Say) -> Measured | Skip:
    """A contender measured from load to close, or why it has no figures."""
    tracker = memory.PeakMemory(memory.device_used_bytes_reader())
    try:
        measured = measure_start(contender, options, tracker, say)
        for resolution in options.resolutions:
            warm_up(measured, image, resolution, options, tracker)
            measure_rounds(measured, baseline, image, resolution, options, tracker, say, is_baseline=False)
        measured.throughput = measure_throughput(contender, stream, options.resolutions[0],
                                                 stream_workers(contender, options), tracker)
        say(f"{contender.label}: throughput {measured.throughput['images_per_s']:.3f} images/s")
    except (FrozenSegError, OSError, CppLibraryError) as exc:  # an engine not built, a backend unusable
        return Skip(f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a contender that broke (torch.compile without a compiler, ...): the run goes on
        traceback.print_exc()
        return Skip(f"{type(exc).__name__}: {exc}", failed=True)
    finally:
        contender.close()
        memory.release_freed_memory()
        peak = tracker.stop()
    measured.memory = peak
    return measured


def count_flops(manifest: Manifest, image: np.ndarray, resolutions: Sequence[Resolution], vocabulary: Path,
                text_shapes: list[tuple[int, int]] | None) -> dict[str, Any]:
    """FLOPs per subgraph at each resolution (and of the text encoder over the vocabulary)."""
    from frozenseg_bench.flops import image_flops, meta_model, text_flops

    model = meta_model(manifest.preset["name"])
    vocab = parse_vocabulary(vocabulary)
    shape = (vocab.num_classes, vocab.max_synonyms)
    per_resolution = {}
    constants = PreprocessConstants.from_record(manifest.constants["preprocessing"])
    for resolution in resolutions:
        prepared = preprocess(image, constants, resolution.resize)
        per_resolution[resolution.name] = {
            "input": list(prepared.image_size), "padded": list(prepared.padded_size),
            "flops": image_flops(model, prepared.clip_input.shape, prepared.sam_input.shape, shape)}
    text = text_flops(model, text_shapes) if text_shapes else None
    return {"counter": "torch.utils.flop_counter.FlopCounterMode", "resolutions": per_resolution,
            graphs.CLIP_TEXT: {"flops": text, "prompts": sum(s[0] for s in text_shapes) if text_shapes else None}}


def default_out() -> Path:
    return Path("bench") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")

