"""`bench`'s results: one JSON document (checked against schema.json), a markdown table, charts.

Every ratio is computed here from the rounds of one run: a contender's median against the median
of the baseline calls that alternated with it.
"""

from __future__ import annotations

import datetime
import json
import statistics
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from frozenseg_bench.contenders import STAGES, total_seconds
from frozenseg_bench.cpu_peak import CpuPeak, stage_precision
from frozenseg_bench.peaks import find_peak, peak_for
from frozenseg_bench.timing import LatencyStats, own_rounds_speedup, ratio
from frozenseg_runtime import graphs
from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.manifest import Manifest
from frozenseg_runtime.output.postprocess import TASKS
from frozenseg_runtime.progress import Say

if TYPE_CHECKING:
    from frozenseg_bench.run import BenchOptions, Measured

SCHEMA_ID = "frozenseg-bench/1"
CPU_BACKENDS = ("onnxruntime-cpu", "openvino-cpu", "cpu")
COUNTED_STAGES = (graphs.CLIP_IMAGE, graphs.SAM_IMAGE, graphs.DECODER)


def load_schema() -> dict[str, Any]:
    return json.loads((resources.files("frozenseg_bench") / "schema.json").read_text())



def _stats(samples: Sequence[float]) -> dict[str, float | int]:
    return LatencyStats.of(samples).as_dict()


def _median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def _accuracy(manifest: Manifest, precision: str) -> dict[str, Any]:
    """Whether a precision meets its accuracy bars (frozenseg-deploy quantize's verdict)."""
    if precision == "fp32":
        return {"meets_bars": True, "label_agreement": None, "mask_iou": None}
    figures = manifest.raw.get("precisions", {}).get(precision, {}).get("end_to_end", {})
    return {"meets_bars": figures.get("passes"), "label_agreement": figures.get("label_agreement"),
            "mask_iou": figures.get("mask_iou")}


def _stage_peaks(measured: "Measured", manifest: Manifest, gpu_peak: Any,
                 cpu_peaks: dict[str, CpuPeak] | None) -> dict[str, float | None]:
    """The peak each counted stage is held to: the GPU's datasheet figure for the contender's
    precision, or on a CPU the measured GEMM peak of the precision its graph computes in."""
    c = measured.contender
    if gpu_peak is not None:
        return {stage: peak_for(gpu_peak, c.precision) for stage in COUNTED_STAGES}
    if cpu_peaks is None or c.backend not in CPU_BACKENDS:
        return {stage: None for stage in COUNTED_STAGES}
    specs = manifest.with_precision(c.precision).graphs  # a CPU contender runs a precision it has
    return {stage: cpu_peaks[stage_precision(c.precision, specs[stage].compute_precision
                                             or specs[stage].precision)].flop_per_s
            for stage in COUNTED_STAGES}


def _resolution_record(measured: "Measured", name: str, flops: dict[str, Any],
                       stage_peaks: dict[str, float | None]) -> dict[str, Any]:
    rounds = measured.rounds[name]
    own = [times for _, times in rounds]
    record: dict[str, Any] = {
        "first_call_s": measured.first_call_s[name],
        "end_to_end": _stats([total_seconds(t) for t in own]),
        "stages": {stage: _stats([t[stage] for t in own]) for stage in STAGES},
        "postprocess_by_task": {task: _stats([t["postprocess"] for k, t in rounds if k == task])
                                for task in TASKS if any(k == task for k, _ in rounds)},
    }
    paired = [times for _, times in measured.paired_baseline.get(name, [])]
    if paired:  # the baseline's own rounds have no partner: its ratios are 1 by definition
        record["speedup"] = {
            "end_to_end": ratio(_median([total_seconds(t) for t in paired]), record["end_to_end"]["p50"]),
            "stages": {stage: ratio(_median([t[stage] for t in paired]), record["stages"][stage]["p50"])
                       for stage in STAGES}}
        record["baseline_end_to_end_p50"] = _median([total_seconds(t) for t in paired])
    else:
        record["speedup"] = {"end_to_end": 1.0, "stages": {stage: 1.0 for stage in STAGES}}
        record["baseline_end_to_end_p50"] = record["end_to_end"]["p50"]
    counted = flops["resolutions"][name]["flops"]
    achieved = {stage: counted[stage] / record["stages"][stage]["p50"] for stage in COUNTED_STAGES}
    record["achieved_flop_per_s"] = achieved
    record["fraction_of_peak"] = {stage: (value / stage_peaks[stage] if stage_peaks[stage] else None)
                                  for stage, value in achieved.items()}
    return record


def _contender_record(measured: "Measured", manifest: Manifest, flops: dict[str, Any],
                      gpu_name: str | None, is_baseline: bool,
                      cpu_peaks: dict[str, CpuPeak] | None = None) -> dict[str, Any]:
    c = measured.contender
    on_gpu = c.backend not in CPU_BACKENDS
    peak = find_peak(gpu_name) if on_gpu and gpu_name else None
    stage_peaks = _stage_peaks(measured, manifest, peak, cpu_peaks)
    if peak is not None:
        peak_record = {"device": peak.name, "flop_per_s": peak_for(peak, c.precision), "source": peak.source}
    elif not on_gpu and cpu_peaks is not None:
        own = cpu_peaks[stage_precision(c.precision)]
        peak_record = {"device": "cpu", "flop_per_s": own.flop_per_s, "source": own.probe}
    else:
        peak_record = None
    text_flops = flops[graphs.CLIP_TEXT]["flops"]
    miss = measured.vocabulary["miss_s"]
    return {
        "key": c.key, "label": c.label, "runtime": c.runtime, "backend": c.backend, "precision": c.precision,
        "variant": c.variant or None, "baseline": is_baseline, "device": "gpu" if on_gpu else "cpu",
        "settings": measured.settings,
        "cold_start_s": measured.cold_start_s,
        "vocabulary": {**measured.vocabulary,
                       "text_flop_per_s": (text_flops / miss if text_flops and miss and c.runtime != "pytorch"
                                           else None)},
        "memory": measured.memory.as_dict() if measured.memory else {"host_mib": None, "device_mib": None},
        "throughput": measured.throughput,
        "accuracy": _accuracy(manifest, c.precision),
        "peak": peak_record,
        "resolutions": {name: _resolution_record(measured, name, flops, stage_peaks) for name in measured.rounds},
    }


ENCODER_PEAK_GOAL = 0.75
SPEEDUP_GOAL = 3.0


def _goals(contenders: list[dict[str, Any]], resolution: str) -> dict[str, Any]:
    """Issue 25's goals, from this run's figures at the first resolution:
    - each image encoder of every FP32 runtime contender at >= 75% of the measured FP32 GEMM peak;
    - the fastest runtime contender that meets its accuracy bars >= 3x the baseline end to end,
      against the baseline's own rounds (the paired ratio is reported beside it);
    - every runtime contender's peak host memory at or below the baseline's."""
    baseline, runtimes = contenders[0], [c for c in contenders[1:] if c["runtime"] != "pytorch"
                                         and resolution in c["resolutions"]]
    fractions = {c["key"]: {stage: c["resolutions"][resolution]["fraction_of_peak"][stage]
                            for stage in (graphs.CLIP_IMAGE, graphs.SAM_IMAGE)}
                 for c in runtimes if c["precision"] == "fp32"}
    measured = [f for per in fractions.values() for f in per.values()]
    passing = [c for c in runtimes if c["accuracy"]["meets_bars"]]
    fastest = max(passing, key=lambda c: own_rounds_speedup(c, baseline, resolution) or 0.0, default=None)
    own = own_rounds_speedup(fastest, baseline, resolution) if fastest else None
    base_memory = baseline["memory"]["host_mib"]
    memory = {c["key"]: c["memory"]["host_mib"] for c in runtimes}
    return {
        "resolution": resolution,
        "encoders_fp32_peak": {
            "target": ENCODER_PEAK_GOAL, "fractions": fractions,
            "met": bool(measured) and all(f is not None and f >= ENCODER_PEAK_GOAL for f in measured)},
        "fastest_passing": {
            "target": SPEEDUP_GOAL, "contender": fastest["key"] if fastest else None,
            "speedup_own_rounds": own,
            "speedup_paired": fastest["resolutions"][resolution]["speedup"]["end_to_end"] if fastest else None,
            "met": bool(own and own >= SPEEDUP_GOAL)},
        "memory": {
            "baseline_host_mib": base_memory, "host_mib": memory,
            "met": bool(memory) and base_memory is not None and all(
                m is not None and m <= base_memory for m in memory.values())},
    }


def build_report(*, options: "BenchOptions", manifest: Manifest, environment: dict[str, Any],
                 measured: list["Measured"], skipped: list[dict[str, str]], failed: list[dict[str, str]],
                 flops: dict[str, Any], image: np.ndarray, started: datetime.datetime, argv: Sequence[str],
                 cpu_peaks: dict[str, CpuPeak] | None = None) -> dict[str, Any]:
    contenders = [_contender_record(m, manifest, flops, environment.get("gpu"), i == 0, cpu_peaks)
                  for i, m in enumerate(measured)]
    vocabulary = vocabulary_summary(options.vocabulary)
    return {
        "schema": SCHEMA_ID,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": list(argv),
        "quick": options.quick,
        "environment": environment,
        "artifacts": {"path": str(options.artifacts), "preset": manifest.preset["name"],
                      "weights": manifest.raw.get("weights", {}).get("source"),
                      "precisions": list(manifest.precisions)},
        "settings": {"runs": options.runs, "baseline_process": options.baseline_process, "warmup": options.warmup,
                     "stream_images": options.stream,
                     "stream_workers": options.stream_workers, "threads": options.threads,
                     "image": {"source": str(options.image) if options.image else "generated",
                               "size": [int(image.shape[0]), int(image.shape[1])]},
                     "vocabulary": vocabulary,
                     "resolutions": [{"name": r.name, "short": r.short, "max": r.max,
                                      **{k: flops["resolutions"][r.name][k] for k in ("input", "padded")}}
                                     for r in options.resolutions]},
        "baseline": contenders[0]["key"],
        "contenders": contenders,
        "skipped": skipped,
        "failed": failed,
        "flops": flops,
        "cpu_peaks": None if cpu_peaks is None else {p: peak.as_dict() for p, peak in cpu_peaks.items()},
        "goals": _goals(contenders, options.resolutions[0].name),
    }


def vocabulary_summary(path: Path) -> dict[str, Any]:
    from frozenseg_runtime.text.vocabulary import parse_vocabulary

    vocab = parse_vocabulary(path)
    return {"source": str(path), "classes": vocab.num_classes,
            "synonyms": sum(len(s) for s in vocab.names)}


def validate_report(report: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError where the report breaks schema.json."""
    import jsonschema

    jsonschema.validate(report, load_schema())


def write_outputs(report: dict[str, Any], out: Path, say: Say) -> None:
    """bench.json, bench.md and the PNG charts in `out`, each written atomically."""
    from frozenseg_bench.charts import write_charts
    from frozenseg_bench.table import markdown

    validate_report(report)
    out.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out / "bench.json", (json.dumps(report, indent=1) + "\n").encode())
    write_bytes_atomic(out / "bench.md", markdown(report).encode())
    charts = write_charts(report, out)
    say(f"wrote {out / 'bench.json'}, {out / 'bench.md'}, " + ", ".join(str(p) for p in charts))
