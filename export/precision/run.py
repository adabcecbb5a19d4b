"""`frozenseg-deploy quantize`: FP16 and INT8 variants of the exported graphs, measured.

For each requested precision and graph: the FP32 islands (FP16) or excluded nodes (INT8) are
chosen by measurement on real graph inputs, the lowered graph is written beside the FP32 one,
and its accuracy is measured per graph and end to end on ONNX Runtime CPU against FP32. The
choices and figures go into the manifest's `precisions` section (read by the runtime and the
TensorRT builder) and into precision_report.md / precision_report.png.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from frozenseg_export.check.thresholds import default_bars
from frozenseg_export.errors import QuantizeError
from frozenseg_export.noise_floor import release_memory
from frozenseg_export.nonfinite import locate, nonfinite_where_finite
from frozenseg_export.onnx.guards import audit_guards, graph_guards
from frozenseg_export.precision import fp16 as fp16_graph
from frozenseg_export.precision import int8 as int8_graph
from frozenseg_export.precision import int8_cpu
from frozenseg_export.precision.accuracy import (
    BARS,
    compare_chains,
    end_to_end_accuracy,
    reference_results,
)
from frozenseg_export.precision.feeds import (
    GraphFeeds,
    collect_feeds,
    image_files,
    measurement_vocabulary,
)
from frozenseg_export.precision.floor import (
    check_reference_weights,
    effective_bars,
    float64_results,
)
from frozenseg_export.precision.metrics import output_errors
from frozenseg_export.precision.node_groups import (
    FP32_ISLAND_CANDIDATES,
    INT8_EXCLUSION_CANDIDATES,
    candidate_groups,
)
from frozenseg_export.precision.report import write_report
from frozenseg_export.precision.search import choose_groups
from frozenseg_export.synthetic_images import edge_images, structured_images
from frozenseg_runtime import graphs
from frozenseg_runtime.atomic import write_atomic, write_bytes_atomic
from frozenseg_runtime.backends.names import choice_record
from frozenseg_runtime.backends.onnxruntime_runner import LOWERED_PRECISION_DISABLED_OPTIMIZERS
from frozenseg_runtime.manifest import (
    GRAPH_PRECISIONS,
    LOWERED_PRECISIONS,
    MANIFEST_NAME,
    QUANTIZED_PRECISIONS,
    Manifest,
    load_manifest,
    sha256_file,
    validate_manifest,
    verify_artifacts,
)
from frozenseg_runtime.progress import Say, progress

_say = progress("quantize")


@dataclass(frozen=True)
class QuantizeOptions:
    precisions: tuple[str, ...] = QUANTIZED_PRECISIONS
    calibration_images: str | None = None
    calibration_count: int = 8
    eval_images: str | None = None  # default: generated structured images
    eval_count: int = 2
    mixed: dict[str, str] = field(default_factory=graphs.mixed_default)
    cache_dir: str | None = None  # calibration ranges; default DIR/calibration-cache
    checkpoint: str | None = None  # the exported checkpoint, for the float64 reference


def _needed(options: QuantizeOptions) -> dict[str, set[str]]:
    """Which graphs each lowered precision must produce."""
    unknown = [p for p in options.precisions if p not in QUANTIZED_PRECISIONS]
    if unknown:
        raise QuantizeError(f"unknown precision {unknown}; choose from {', '.join(QUANTIZED_PRECISIONS)}")
    bad = {g: p for g, p in options.mixed.items() if g not in graphs.GRAPHS or p not in GRAPH_PRECISIONS}
    if bad or set(options.mixed) != set(graphs.GRAPHS):
        raise QuantizeError(f"--mixed must give each of {', '.join(graphs.GRAPHS)} one of fp32, fp16, "
                            f"int8; got {options.mixed}")
    needed: dict[str, set[str]] = {p: set() for p in LOWERED_PRECISIONS}
    for p in options.precisions:
        if p in LOWERED_PRECISIONS:
            needed[p] |= set(graphs.GRAPHS)
        else:
            for graph, q in options.mixed.items():
                if q in LOWERED_PRECISIONS:
                    needed[q].add(graph)
    if needed["int8"] and not options.calibration_images:
        raise QuantizeError("INT8 needs --calibration-images DIR (a few representative photos)")
    return needed


class _Session:
    """A CPU ONNX Runtime session over a model held in memory or on disk."""

    def __init__(self, model: onnx.ModelProto | Path) -> None:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.enable_cpu_mem_arena = False  # many short-lived sessions: give memory back each run
        source = os.fspath(model) if isinstance(model, Path) else model.SerializeToString()
        self.session = ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"],
                                            disabled_optimizers=list(LOWERED_PRECISION_DISABLED_OPTIMIZERS))
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        return [dict(zip(self.outputs, self.session.run(self.outputs, feed))) for feed in feeds]


def _worst(errors: dict[str, float]) -> float:
    return max(errors.values())


def refuse_nonfinite(graph: str, precision: str, path: Path, feeds: list[dict[str, np.ndarray]],
                     outputs: list[dict[str, np.ndarray]], references: list[dict[str, np.ndarray]]) -> None:
    """A lowered graph's outputs must be finite wherever the FP32 graph's are (export verified
    those against float64); otherwise stop, naming the output and the first non-finite node. An
    FP32 graph that is itself non-finite on a feed stops it too: export never saw that input."""
    for i, (out, ref) in enumerate(zip(outputs, references)):
        for name, value in out.items():
            reference = np.asarray(ref[name])
            if np.issubdtype(reference.dtype, np.floating) and not np.isfinite(reference).all():
                raise QuantizeError(
                    f"{graph}: the FP32 graph's {name} is not finite on feed {i} of the measurement "
                    f"images, so {precision} cannot be judged there; re-export and check the FP32 "
                    f"graph on these images ({int((~np.isfinite(reference)).sum())} values)")
            found = nonfinite_where_finite(value, reference)
            if found is None:
                continue
            raise QuantizeError(f"{graph} {precision}: {name} is {found.describe()} (the FP32 graph's) on "
                                f"feed {i}; " + locate(path, feeds[i], path.name, "nan" if found.nan else "inf"))


def audit_lowered_guards(graph: str, precision: str, fp32: onnx.ModelProto, lowered: Path) -> dict[str, Any]:
    """Every guard constant of the FP32 graph must survive lowering with a non-zero value."""
    audit = audit_guards(graph_guards(fp32), graph_guards(onnx.load(lowered, load_external_data=False)))
    if not audit.passed:
        raise QuantizeError(audit.failure(graph, f"lowering to {precision}"))
    return audit.to_dict()


def _final_measurement(graph: str, precision: str, path: Path,
                       measured_sets: dict[str, tuple[list[dict[str, np.ndarray]], list[dict[str, np.ndarray]]]]
                       ) -> dict[str, dict[str, float]]:
    """Errors of a written lowered graph against FP32 on each named set of (feeds, FP32 outputs),
    refusing any non-finite output where FP32 is finite."""
    session = _Session(path)
    errors = {}
    for label, (feeds, truth) in measured_sets.items():
        outputs = session.run(feeds)
        refuse_nonfinite(graph, precision, path, feeds, outputs, truth)
        errors[label] = output_errors(outputs, truth)
    return errors


def _save_model(model: onnx.ModelProto, path: Path) -> list[Path]:
    """Write atomically; graphs over protobuf's 2 GB limit keep their weights beside them."""
    if model.ByteSize() < 1_800_000_000:
        write_bytes_atomic(path, model.SerializeToString())
        return [path]
    data = path.with_name(path.name + ".data")
    write_atomic(path, lambda tmp: onnx.save_model(
        model, tmp, save_as_external_data=True, all_tensors_to_one_file=True, location=data.name))
    return [path, data]


def _files_entry(files: list[Path], precision: str, source_sha256: str) -> dict[str, Any]:
    return {"file": files[0].name, "sha256": sha256_file(files[0]),
            "external_data": [{"file": f.name, "sha256": sha256_file(f)} for f in files[1:]],
            "bytes": sum(f.stat().st_size for f in files),
            "precision": precision, "source_sha256": source_sha256}


def lower_fp16(manifest: Manifest, graph: str, search: GraphFeeds, evaluation: GraphFeeds,
               edge: GraphFeeds, say: Say) -> dict[str, Any]:
    """Choose FP32 islands by measurement, write `<graph>.fp16.onnx`, measure it."""
    path = manifest.graph_path(graph)
    model = onnx.load(path)
    reference = _Session(path)
    search_refs = reference.run(search.feeds[graph])
    groups = candidate_groups(model, FP32_ISLAND_CANDIDATES)

    def evaluate(fp32_nodes: set[str]) -> float:
        lowered = _Session(fp16_graph.to_fp16(model, fp32_nodes))
        return _worst(output_errors(lowered.run(search.feeds[graph]), search_refs))

    result = choose_groups(groups, evaluate, say, f"{graph} fp16")
    lowered = fp16_graph.to_fp16(model, result.nodes)
    files = _save_model(lowered, path.with_name(f"{graph}.fp16.onnx"))
    guards = audit_lowered_guards(graph, "fp16", model, files[0])
    measured = _final_measurement(graph, "fp16", files[0], {
        label: (feeds.feeds[graph], reference.run(feeds.feeds[graph]))
        for label, feeds in (("held-out", evaluation), ("edge", edge))})
    errors = measured["held-out"]
    say(f"{graph} fp16: wrote {files[0].name}; held-out error {_worst(errors):.3e}, edge feeds "
        f"{_worst(measured['edge']):.3e}; every output finite where FP32's is; guard constants kept")
    return {**_files_entry(files, "fp16", manifest.graphs[graph].sha256),
            "fp32_islands": result.to_dict(),
            "compatibility_fp32_ops": list(fp16_graph.COMPATIBILITY_OPS),
            "errors_vs_fp32": errors, "edge_errors_vs_fp32": measured["edge"], "guards": guards}


def lower_int8(manifest: Manifest, graph: str, calibration: GraphFeeds, evaluation: GraphFeeds,
               edge: GraphFeeds, cache_dir: Path, say: Say) -> dict[str, Any]:
    """Calibrate (or reuse cached ranges), choose exclusions by measurement, write and measure."""
    path = manifest.graph_path(graph)
    model = onnx.load(path, load_external_data=False)
    reference = _Session(path)
    calib_refs = reference.run(calibration.feeds[graph])
    eval_refs = reference.run(evaluation.feeds[graph])
    edge_refs = reference.run(edge.feeds[graph])
    del reference  # calibration is the memory peak of the whole step (~13 GB for SAM ViT-B)
    release_memory()
    groups = candidate_groups(model, INT8_EXCLUSION_CANDIDATES)
    cache = int8_graph.calibration_cache_path(cache_dir, graph, manifest.graphs[graph].sha256,
                                              calibration.digest(graph))
    cache_dir.mkdir(parents=True, exist_ok=True)
    feeds = calibration.feeds[graph]
    label = f"{graph} int8"
    int8_graph.calibrate(path, feeds, cache, say, label)
    always_float = int8_graph.constant_left_matmuls(model)

    with tempfile.TemporaryDirectory(prefix="frozenseg-int8-", dir=path.parent) as tmp:
        def evaluate(excluded: set[str]) -> float:
            out = Path(tmp) / f"{graph}.trial.onnx"
            int8_graph.quantize_int8(path, out, feeds, excluded, cache, say, label, always_float=always_float)
            return _worst(output_errors(_Session(out).run(feeds), calib_refs))

        result = choose_groups(groups, evaluate, say, label)
        final = Path(tmp) / f"{graph}.int8.onnx"
        int8_graph.quantize_int8(path, final, feeds, result.nodes, cache, say, label, always_float=always_float)
        files = _save_model(onnx.load(final), path.with_name(f"{graph}.int8.onnx"))
    guards = audit_lowered_guards(graph, "int8", model, files[0])
    measured_sets = {"held-out": (evaluation.feeds[graph], eval_refs), "edge": (edge.feeds[graph], edge_refs)}
    measured = _final_measurement(graph, "int8", files[0], measured_sets)
    errors = measured["held-out"]
    quantized = int8_graph.quantized_nodes(onnx.load(files[0], load_external_data=False))
    say(f"{label}: wrote {files[0].name} ({quantized} INT8 nodes); held-out error {_worst(errors):.3e}, "
        f"edge feeds {_worst(measured['edge']):.3e}; every output finite where FP32's is; guard constants kept")
    return {**_files_entry(files, "int8", manifest.graphs[graph].sha256),
            "excluded_nodes": result.to_dict(), "float_nodes": sorted(always_float),
            "int8_nodes": quantized,
            "settings": int8_graph.SETTINGS, "calibration_cache": cache.name,
            "calibration_inputs": len(feeds), "errors_vs_fp32": errors,
            "edge_errors_vs_fp32": measured["edge"], "guards": guards,
            "variants": [cpu_variant(graph, files[0], measured_sets, say)]}


def cpu_variant(graph: str, int8_file: Path,
                measured_sets: dict[str, tuple[list[dict[str, np.ndarray]], list[dict[str, np.ndarray]]]],
                say: Say) -> dict[str, Any]:
    """Write `<graph>.int8-cpu.onnx` beside the int8 file (int8_cpu: the same values with uint8
    activations, which ONNX Runtime's CPU backend runs instead) and measure it as the int8 file."""
    model = onnx.load(int8_file)
    moved = int8_cpu.uint8_activations(model)
    files = _save_model(model, int8_file.with_name(f"{graph}.{int8_cpu.SUFFIX}.onnx"))
    measured = _final_measurement(graph, "int8", files[0], measured_sets)
    say(f"{graph} int8: wrote {files[0].name} ({moved} activations in uint8) for "
        f"{', '.join(int8_cpu.BACKENDS)}; held-out error {_worst(measured['held-out']):.3e}")
    return {**_files_entry(files, "int8", sha256_file(int8_file)),
            "backends": list(int8_cpu.BACKENDS), "activations": int8_cpu.ACTIVATIONS,
            "errors_vs_fp32": measured["held-out"], "edge_errors_vs_fp32": measured["edge"]}


TEMPORARY_PATTERNS = ("frozenseg-int8-*", ".*.tmp")


def clean_stale_temporaries(root: Path) -> list[Path]:
    """Remove what a killed run left in the folder (trial graphs, half-written files)."""
    stale = [p for pattern in TEMPORARY_PATTERNS for p in root.glob(pattern)]
    for path in stale:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return stale


def _images(folder: str | None, count: int, seed: int) -> list[Any]:
    return image_files(folder, count) if folder else structured_images(count, seed=seed)


def run_quantize(artifacts: str | os.PathLike, options: QuantizeOptions, say: Say = _say) -> dict[str, Any]:
    """Lower, measure, and record; returns the manifest's new `precisions` section."""
    started = time.perf_counter()
    root = Path(artifacts)
    manifest = load_manifest(root)
    verify_artifacts(manifest)
    needed = _needed(options)
    check_reference_weights(manifest, options.checkpoint)
    for path in clean_stale_temporaries(root):
        say(f"removed {path.name}, left by an interrupted run")
    vocabulary = measurement_vocabulary(manifest)
    evaluation_images = _images(options.eval_images, options.eval_count, seed=11)
    say(f"measuring on {len(evaluation_images)} held-out images and a {len(vocabulary.names)}-class vocabulary")
    image_sets = {"held-out": evaluation_images, "edge": edge_images()}
    if options.calibration_images:
        image_sets["calibration"] = image_files(options.calibration_images, options.calibration_count)
        say(f"calibration set: {len(image_sets['calibration'])} images from {options.calibration_images}")
    feeds = collect_feeds(manifest, image_sets, vocabulary, say)
    evaluation, edge = feeds["held-out"], feeds["edge"]
    calibration = feeds.get("calibration", evaluation)
    cache_dir = Path(options.cache_dir) if options.cache_dir else root / "calibration-cache"

    lowered: dict[str, dict[str, dict[str, Any]]] = {"fp16": {}, "int8": {}}
    for graph in graphs.GRAPHS:
        if graph in needed["fp16"]:
            lowered["fp16"][graph] = lower_fp16(manifest, graph, calibration, evaluation, edge, say)
        release_memory()
        if graph in needed["int8"]:
            lowered["int8"][graph] = lower_int8(manifest, graph, calibration, evaluation, edge, cache_dir, say)
        release_memory()

    precisions: dict[str, Any] = dict(manifest.raw.get("precisions", {}))
    for p in options.precisions:
        if p in LOWERED_PRECISIONS:
            precisions[p] = {"graphs": lowered[p], "bars": BARS[p]}
        else:
            precisions[p] = {"graphs": {g: lowered[q][g] if q in LOWERED_PRECISIONS else _fp32_entry(manifest, g)
                                        for g, q in options.mixed.items()},
                             "bars": BARS["int8" if "int8" in options.mixed.values() else "fp16"]}
        # The bars `frozenseg-deploy check` judges this precision by (overridable there).
        precisions[p]["check_thresholds"] = default_bars(p, options.mixed)

    raw = with_backend_choice_refreshed({**manifest.raw, "precisions": precisions})
    updated = validate_manifest(raw, root)
    say("end-to-end accuracy against FP32 ...")
    refs = reference_results(updated, evaluation_images, vocabulary)
    release_memory()
    say("float32 noise floor: the PyTorch reference in float64 on the same images ...")
    truth = float64_results(updated, options.checkpoint, evaluation_images, vocabulary, say)
    floor = compare_chains(refs, truth)
    say(f"fp32 against float64: label agreement {floor['label_agreement']:.4%}, mask IoU "
        f"{floor['mask_iou']:.4f} (the floor every precision is read against)")
    results = {}
    for p in options.precisions:
        figures, results[p] = end_to_end_accuracy(updated.with_precision(p), evaluation_images,
                                                  vocabulary, refs)
        bars = effective_bars(precisions[p]["bars"], floor)
        figures["float32_floor"] = floor
        figures["vs_float64"] = compare_chains(results[p], truth)
        figures["effective_bars"] = bars
        figures["passes"] = (figures["label_agreement"] >= bars["label_agreement"]
                             and figures["mask_iou"] >= bars["mask_iou"])
        precisions[p]["end_to_end"] = figures
        say(f"{p}: label agreement {figures['label_agreement']:.4%}, mask IoU "
            f"{figures['mask_iou']:.4f} against fp32 (against float64: "
            f"{figures['vs_float64']['label_agreement']:.4%}, {figures['vs_float64']['mask_iou']:.4f}) "
            f"-> {'meets' if figures['passes'] else 'MISSES'} its bars "
            f"({bars['label_agreement']:.2%}, {bars['mask_iou']:.4f} after the floor)")
    validate_manifest(raw, root)
    write_bytes_atomic(root / MANIFEST_NAME, (json.dumps(raw, indent=1) + "\n").encode())
    report = write_report(root, precisions, refs, results, evaluation_images, vocabulary)
    say(f"wrote {', '.join(p.name for p in report)} and manifest.json in "
        f"{time.perf_counter() - started:.0f} s")
    return precisions


def with_backend_choice_refreshed(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` with `runtime.backend_choice` set to this runtime's rule (`choice_record()`) when
    every INT8 file it lists runs anywhere (`_int8_files_run_anywhere`); otherwise, or when it has
    no runtime section to hold the record, `raw` unchanged."""
    if "runtime" not in raw or not _int8_files_run_anywhere(raw.get("precisions", {})):
        return raw
    return {**raw, "runtime": {**raw["runtime"], "backend_choice": choice_record()}}


def _int8_files_run_anywhere(precisions: dict[str, Any]) -> bool:
    """Whether every INT8 file the manifest lists keeps constant-left MatMuls float (`float_nodes`,
    written since stop 33), so that OpenVINO compiles it and `auto` may give it lowered files: the
    manifest's `runtime.backend_choice` is then refreshed to this runtime's rule. An older INT8
    file left in place (another precision re-quantized alone) keeps the record it was written with."""
    entries = [entry for section in precisions.values() for entry in section.get("graphs", {}).values()]
    return all("float_nodes" in entry for entry in entries if entry.get("precision") == "int8")


def _fp32_entry(manifest: Manifest, graph: str) -> dict[str, Any]:
    spec = manifest.graphs[graph]
    return {"file": spec.file, "sha256": spec.sha256, "precision": "fp32", "source_sha256": spec.sha256,
            "external_data": [{"file": f, "sha256": d} for f, d in spec.external_data]}
