"""The order of `check`'s work: inputs, the deployment, the reference (cached), then image by
image the three layers, then bars, report and pictures."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_export.check import pictures
from frozenseg_export.check.agreement import AgreementTally
from frozenseg_export.check.choices import NONFINITE_METRIC, TENSOR_METRIC
from frozenseg_export.check.deployed import DeployedPipeline
from frozenseg_export.check.ground_truth import TaskScore
from frozenseg_export.check.inputs import CheckInputs, check_inputs
from frozenseg_export.check.reference import ReferenceCache, ReferenceTensors, default_cache_dir, reference_tensors
from frozenseg_export.check.report import write_report
from frozenseg_export.check.tensors import TensorTally, graph_of, valid_text_rows
from frozenseg_export.check.thresholds import Verdict, judge
from frozenseg_export.nonfinite import locate
from frozenseg_export.reference_chain import TEXT_EMBEDDINGS
from frozenseg_runtime import graphs
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.image.preprocess import PreparedImage, PreprocessConstants, preprocess
from frozenseg_runtime.output.postprocess import TASKS, InferenceConstants, segmentation_result
from frozenseg_runtime.progress import Say, progress

_say = progress("check")
PICTURES_MAX = 8  # comparison pictures written (the first images); figures cover all of them


@dataclass(frozen=True)
class CheckOptions:
    artifacts: str
    images: tuple[str, ...]
    backend: str = "auto"
    precision: str = "fp32"
    runtime: str = "python"
    checkpoint: str | None = None
    vocabulary: str | None = None  # default: the manifest's training vocabulary
    ground_truth: str | None = None
    gt_format: str | None = None
    tasks: tuple[str, ...] = TASKS
    thresholds: dict[str, float] = field(default_factory=dict)
    out: str | None = None
    reference_cache: str | None = None  # None: default folder; "": off
    cpp_library: str | None = None


@dataclass
class CheckOutcome:
    report: dict[str, Any]
    verdicts: list[Verdict]
    files: list[Path]

    @property
    def passed(self) -> bool:
        """No verdict failed (one that is not judgeable here neither passes nor fails)."""
        return not any(v.failed for v in self.verdicts)

    def failures(self) -> list[str]:
        return [v.message() for v in self.verdicts if v.failed]


def _raw(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {n: tensors[f"{graphs.DECODER}/{n}"] for n in graphs.OUTPUTS[graphs.DECODER]}


def _cache(option: str | None) -> ReferenceCache:
    if option == "":
        return ReferenceCache(None)
    return ReferenceCache(Path(option) if option else default_cache_dir())


def run_check(options: CheckOptions, say: Say = _say) -> CheckOutcome:
    started = time.perf_counter()
    inputs = check_inputs(options.artifacts, options.precision, options.images, options.vocabulary,
                          options.checkpoint, options.ground_truth, options.gt_format, options.tasks)
    manifest, vocab = inputs.manifest, inputs.vocabulary
    say(f"{len(inputs.images)} images, {vocab.num_classes} classes, tasks {', '.join(options.tasks)}; "
        f"{options.runtime} runtime at {options.precision}")
    deployment = DeployedPipeline(manifest, Path(options.artifacts), options.backend, options.precision,
                            options.runtime, options.cpp_library)
    try:
        return _check(options, inputs, deployment, started, say)
    finally:
        deployment.close()


def _check(options: CheckOptions, inputs: CheckInputs, deployment: DeployedPipeline, started: float,
           say: Say) -> CheckOutcome:
    manifest, vocab = inputs.manifest, inputs.vocabulary
    c = manifest.constants
    resize = (int(c["preprocessing"]["resize_short"]), int(c["preprocessing"]["resize_max"]))
    deployment.set_vocabulary(vocab)
    constants = PreprocessConstants.from_record(c["preprocessing"])
    prepared = [preprocess(load_image(i.path), constants) for i in inputs.images]
    refs, hits = reference_tensors(manifest, options.checkpoint, prepared, [i.digest for i in inputs.images],
                                   vocab, inputs.train_vocabulary, _cache(options.reference_cache), say)
    constants = InferenceConstants.from_record(c["inference"])
    tallies = {"vs_float32": AgreementTally(vocab.num_classes), "vs_float64": AgreementTally(vocab.num_classes),
               "floor": AgreementTally(vocab.num_classes)}
    tensor_tallies: dict[str, TensorTally] = {}
    scores = ({"reference": TaskScore(inputs.ground_truth), "deployed": TaskScore(inputs.ground_truth)}
              if inputs.ground_truth else {})
    out = Path(options.out) if options.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    label = f"{options.runtime} runtime, {deployment.backend}, {options.precision}"
    loop_started = time.perf_counter()
    first_nonfinite: dict[str, str] | None = None
    for index, (image, prep, load_reference) in enumerate(zip(inputs.images, prepared, refs)):
        pixels = load_image(image.path)
        ref = load_reference()
        deployed = deployment.run(pixels, prep, options.tasks, resize)
        answers = {p: {t: segmentation_result(_raw(getattr(ref, p)), prep, vocab, t, constants)
                       for t in options.tasks} for p in ("float32", "float64")}
        probs = deployed.tensors[f"{graphs.DECODER}/class_probs"]
        tallies["vs_float32"].add(deployed.results, answers["float32"],
                                  (probs, ref.float32[f"{graphs.DECODER}/class_probs"]))
        tallies["vs_float64"].add(deployed.results, answers["float64"],
                                  (probs, ref.float64[f"{graphs.DECODER}/class_probs"]))
        tallies["floor"].add(answers["float32"], answers["float64"],
                             (ref.float32[f"{graphs.DECODER}/class_probs"], ref.float64[f"{graphs.DECODER}/class_probs"]))
        _add_tensors(tensor_tallies, deployed.tensors, deployment.decode_reference_inputs(ref.float32), ref,
                     deployment)
        if first_nonfinite is None:
            first_nonfinite = _locate_nonfinite(tensor_tallies, index, deployment, ref.float32, deployed.tensors,
                                                prep, say)
        for name, score in scores.items():
            score.add(image.stem, (deployed.results if name == "deployed" else answers["float32"])[score.task])
        if out is not None and index < PICTURES_MAX:
            files.append(_comparison(out, index, image.stem, pixels, answers["float32"], deployed.results,
                                     vocab.display_names, label))
        elapsed = time.perf_counter() - loop_started
        left = elapsed / (index + 1) * (len(prepared) - index - 1)
        row = tallies["vs_float32"].per_image[-1]
        say(f"image {index + 1}/{len(prepared)} {image.stem}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in row.items()) + (f"; about {left:.0f} s left" if left else ""))
    figures: dict[str, Any] = {k: t.result() for k, t in tallies.items()}
    tensor_summary = {name: t.summary() for name, t in tensor_tallies.items()}
    worst = max(tensor_summary, key=lambda name: tensor_summary[name]["floor_margin"])
    figures["tensor"] = {TENSOR_METRIC: tensor_summary[worst]["floor_margin"], "worst_output": worst,
                         NONFINITE_METRIC: {"count": sum(t.nonfinite for t in tensor_tallies.values()),
                                            **(first_nonfinite or {})}}
    task_metrics = {name: s.result() for name, s in scores.items()}
    if task_metrics:
        figures["drops"] = _drops(task_metrics)
    manifest_bars = manifest.raw.get("precisions", {}).get(options.precision, {}).get("check_thresholds")
    verdicts = judge(options.precision, figures, manifest_bars, options.thresholds)
    report = {
        "settings": {"artifacts": str(Path(options.artifacts).resolve()), "runtime": options.runtime,
                     "backend": deployment.backend, "precision": options.precision, "tasks": list(options.tasks),
                     "images": [str(i.path) for i in inputs.images], "classes": list(vocab.display_names),
                     "ground_truth": options.ground_truth, "format": options.gt_format,
                     "weights": manifest.raw["weights"], "preset": manifest.raw["preset"]["name"]},
        "reference_cache": {"hits": hits, "images": len(inputs.images)},
        "end_to_end": figures, "tensors": tensor_summary, "task_metrics": task_metrics,
        "per_image": [{"image": i.stem, **row} for i, row in zip(inputs.images, tallies["vs_float32"].per_image)],
        "class_iou_vs_float32": dict(zip(vocab.display_names, tallies["vs_float32"].class_iou())),
        "verdicts": [v.to_dict() for v in verdicts], "passed": not any(v.failed for v in verdicts),
        "tensor_note": ("tensors from the Python runtime on the same graphs, backend and precision "
                        "(the C API returns answers only)") if options.runtime == "cpp" else
                       "tensors from the deployed Python runtime",
        "seconds": round(time.perf_counter() - started, 1),
    }
    if out is not None:
        title = f"{label}: per-output error against the reference"
        files.append(pictures.histogram_picture(out / "tensor_errors.png", tensor_summary, title))
        files.append(pictures.per_image_picture(out / "per_image.png", tallies["vs_float32"].per_image,
                                                f"{label}: agreement with the float32 reference per image"))
        files = write_report(out, report, files) + files
    for v in verdicts:
        say({"passed": "ok    ", "failed": "FAIL  "}.get(v.status, "n/a   ") + v.message())
    return CheckOutcome(report, verdicts, files)


def _add_tensors(tallies: dict[str, TensorTally], chained: dict[str, np.ndarray], decoder: dict[str, np.ndarray],
                 ref: ReferenceTensors, deployment: DeployedPipeline) -> None:
    """Encoders and text against the float64 chain; the decoder on the float32 reference's inputs
    against the float64 decoder on those inputs (tensors.py says why)."""
    assert deployment.state is not None
    mask = deployment.state.synonym_mask
    for name, value in chained.items():
        if name in decoder:
            tallies.setdefault(name, TensorTally(name)).add(decoder[name], ref.float32[name], ref.isolated64[name],
                                                            chained=value)
            continue
        a, b, c = value, ref.float32[name], ref.float64[name]
        if name == TEXT_EMBEDDINGS:  # padding rows are not answers
            a, b, c = (valid_text_rows(x, mask) for x in (a, b, c))
        tallies.setdefault(name, TensorTally(name)).add(a, b, c)


def _locate_nonfinite(tallies: dict[str, TensorTally], index: int, deployment: DeployedPipeline,
                      reference: dict[str, np.ndarray], chained: dict[str, np.ndarray], prepared: PreparedImage,
                      say: Say) -> dict[str, str] | None:
    """When an output first turns non-finite on this image, the node where it is born: the
    deployed precision's ONNX graph run on the same inputs with its intermediates exposed."""
    tally = next((t for t in tallies.values() if t.first_nonfinite_image == index), None)
    if tally is None:
        return None
    hit, graph = tally.name, graph_of(tally.name)
    decoder_inputs = chained if tally.first_nonfinite_source == "deployed pipeline" else reference
    feeds = {graphs.DECODER: lambda: deployment.decoder_feed_from(decoder_inputs),
             graphs.CLIP_IMAGE: lambda: {"image": prepared.clip_input},
             graphs.SAM_IMAGE: lambda: {"image": prepared.sam_input}}
    if graph not in feeds:
        return {"output": hit, "first_node": f"the {graph} graph's node not located (its feed is tokens)"}
    say(f"{hit} is non-finite where the reference is finite: locating the first non-finite node ...")
    return {"output": hit, "image": str(index), "inputs": tally.first_nonfinite_source,
            "first_node": locate(deployment.manifest.root / deployment.manifest.graphs[graph].for_backend(
                                     deployment.backend).file, feeds[graph](), graph,
                                 tally.first_nonfinite_kind)}


def _drops(task_metrics: dict[str, Any]) -> dict[str, float]:
    ref, dep = task_metrics["reference"], task_metrics["deployed"]
    if "miou" in ref:
        return {"task.miou_drop": ref["miou"] - dep["miou"]}
    return {"task.pq_drop": ref["all"]["pq"] - dep["all"]["pq"]}


def _comparison(out: Path, index: int, stem: str, pixels: np.ndarray, reference: dict[str, Any],
                deployed: dict[str, Any], names: tuple[str, ...], label: str) -> Path:
    """A row per checked task: semantic labels, and panoptic or instance answers as classes."""
    rows = []
    for task in reference:
        if task == "semantic":
            rows.append((task, reference[task].semantic_labels, deployed[task].semantic_labels))
        else:
            rows.append((task, _class_map(reference[task], task), _class_map(deployed[task], task)))
    return pictures.comparison_picture(out / f"image{index:03d}_{stem}.png", pixels, rows, names,
                                       f"{stem}: reference vs {label}", label)


def _class_map(result: Any, task: str) -> np.ndarray:
    """Class per pixel of a panoptic or instance answer (-1 where none)."""
    if task == "panoptic":
        lookup = np.full(int(result.panoptic_seg.max(initial=0)) + 1, -1, np.int64)
        for s in result.segments_info:
            lookup[int(s["id"])] = int(s["category_id"])
        return lookup[result.panoptic_seg]
    labels = np.full(result.image_size, -1, np.int64)
    for mask, cls in zip(result.instance_masks[::-1], result.instance_classes[::-1]):
        labels[mask] = cls
    return labels
