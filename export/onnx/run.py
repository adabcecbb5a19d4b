"""`frozenseg-deploy export`: a checkpoint (or synthetic weights) -> verified ONNX graphs + manifest.

Everything is written into a temporary folder beside the destination and moved into place only
when complete, so an interrupted export leaves no half-written artifact. An export whose inputs
(weights, preset, exporter versions) hash to the key of the manifest already in place, with every
file still matching its sha256, is skipped unless forced.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frozenseg_export.errors import ExportError, OnnxExportError
from frozenseg_export.noise_floor import assess_sensitivity, bars_record, sensitivity_warning
from frozenseg_export.onnx import verify
from frozenseg_export.onnx.build import (
    OPSET,
    OnnxFromSubgraph,
    SaveOnnx,
    SlimOnnx,
    check_onnx,
    forbidden_ops,
)
from frozenseg_export.onnx.guards import audit_guards, graph_guards
from frozenseg_export.onnx.manifest_writer import build_manifest, graph_entry, package_versions
from frozenseg_export.onnx.parity import as_dicts
from frozenseg_export.onnx.trt_readiness import TABLE_SOURCE, check_trt_readiness
from frozenseg_export.onnx.units import SPECS
from frozenseg_export.synthetic_images import structured_images
from frozenseg_reference.build import build_frozenseg
from frozenseg_reference.pipeline import default_train_vocabulary
from frozenseg_reference.presets import DEFAULT_PRESET, get_preset
from frozenseg_runtime import graphs
from frozenseg_runtime.atomic import folder_atomic, write_bytes_atomic
from frozenseg_runtime.errors import ArtifactError, ManifestError
from frozenseg_runtime.manifest import (
    MANIFEST_NAME,
    load_manifest,
    sha256_file,
    validate_manifest,
    verify_artifacts,
)
from frozenseg_runtime.progress import Say, progress
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary

_say = progress("export")


@dataclass(frozen=True)
class ExportOptions:
    checkpoint: str | None = None
    preset: str = DEFAULT_PRESET
    seed: int = 0
    synthetic: str = "default"  # statistics of synthetic weights: default or stress
    train_vocabulary: str | None = None
    verify: bool = True
    verify_images: int = 3
    text_graph_max_classes: int | None = 16
    force: bool = False


def source_files() -> list[Path]:
    """Every source file an export depends on: the reference, the exporter (all its stages) and
    the runtime's numpy code that the reference shares."""
    import frozenseg_export
    import frozenseg_reference
    import frozenseg_runtime

    roots = [Path(package.__file__).parent
             for package in (frozenseg_reference, frozenseg_export, frozenseg_runtime)]
    return [path for root in roots for path in sorted(root.rglob("*.py")) if _in_package(path, root)]


def _in_package(path: Path, root: Path) -> bool:
    """Importable: each folder up to the package root has an __init__.py (not runtime/cpp/)."""
    return all((folder / "__init__.py").is_file() for folder in path.parents
               if folder == root or root in folder.parents)


def source_digest() -> str:
    """Hash of the reference and exporter source: changed code means a new export."""
    digest = hashlib.sha256()
    for path in source_files():
        digest.update(f"{path.parent.name}/{path.name}".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def export_key(options: ExportOptions, weights: dict[str, Any], train_vocab: Vocabulary) -> str:
    """Content hash of everything that determines the artifacts."""
    ident = {
        "source": source_digest(),
        "weights": weights,
        "preset": get_preset(options.preset).to_dict(),
        "train_vocabulary": [list(n) for n in train_vocab.names],
        "opset": OPSET,
        "versions": package_versions(),
        "verify": [options.verify, options.verify_images, options.text_graph_max_classes],
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()


def up_to_date(out: Path, key: str) -> bool:
    """The manifest in `out` has this key and every file still matches its sha256."""
    try:
        manifest = load_manifest(out)
    except ManifestError:
        return False
    if manifest.raw.get("export_key") != key:
        return False
    try:
        verify_artifacts(manifest)
    except ArtifactError:
        return False
    return True


def _export_graph(model, name: str, tmp: Path, say: Say) -> tuple[list[Path], dict, dict]:
    t = time.perf_counter()
    translated = OnnxFromSubgraph(SPECS[name])(model)
    proto = translated.model
    say(f"{name}: exported with torch.export in {time.perf_counter() - t:.1f} s "
        f"({len(proto.graph.node)} nodes)")
    t = time.perf_counter()
    proto = SlimOnnx()(proto)
    say(f"{name}: onnxslim in {time.perf_counter() - t:.1f} s ({len(proto.graph.node)} nodes)")
    guards = audit_guards(translated.translation_guards, graph_guards(proto))
    if not guards.passed:
        raise ExportError(guards.failure(name, "onnxscript's optimizer or onnxslim"))
    say(f"{name}: {len(guards.kept) + len(guards.changed)} guard constants (epsilons, floors) "
        f"of PyTorch's translation all kept")
    bad = forbidden_ops(proto)
    if bad:
        raise ExportError(f"{name}: data-dependent ops in the graph: {bad}")
    readiness = check_trt_readiness(proto, name)
    if not readiness.ready:
        raise ExportError(f"{name}: not TensorRT-ready ({TABLE_SOURCE}): {readiness.problems[:10]}")
    files = SaveOnnx(tmp / f"{name}.onnx")(proto)
    del proto
    check_onnx(files[0])
    say(f"{name}: onnx checker (full) and shape inference pass; TensorRT-ready")
    return files, {"table": TABLE_SOURCE, "op_counts": readiness.op_counts,
                   "attributes": readiness.attributes}, guards.to_dict()


def _verify_graph(model, name: str, path: Path, say: Say) -> list[dict]:
    """Parity of one graph on the float32 noise floor; raises naming each failing output."""
    t = time.perf_counter()
    parity = verify.verify_graph(model, name, path)
    tightest = max(parity, key=lambda p: p.margin)
    say(f"{name}: parity vs PyTorch float64 in {time.perf_counter() - t:.1f} s; "
        + ", ".join(f"{p.output} error {p.rel_error:.1e} (float32 floor {p.float32_floor:.1e})"
                    for p in parity)
        + f"; tightest {tightest.output} at {tightest.margin:.0%} of its bar")
    failure = verify.graph_failure(name, parity)
    if failure:
        raise ExportError(failure)
    return as_dicts(parity)


def run_export(out: str | os.PathLike, options: ExportOptions, say: Say = _say) -> Path:
    """Export, check and verify the four graphs into `out`; returns `out`."""
    out = Path(out).resolve()
    started = time.perf_counter()
    train_vocab = (parse_vocabulary(options.train_vocabulary) if options.train_vocabulary
                   else default_train_vocabulary())
    if options.checkpoint is None:
        weights = {"source": "synthetic", "seed": options.seed}
        if options.synthetic != "default":
            weights["mode"] = options.synthetic
        say(f"no --checkpoint: exporting SYNTHETIC weights ({options.synthetic}, seed {options.seed})")
    else:
        say(f"hashing checkpoint {options.checkpoint} ...")
        weights = {"source": "checkpoint", "file": Path(options.checkpoint).name,
                   "sha256": sha256_file(options.checkpoint)}
    key = export_key(options, weights, train_vocab)
    if not options.force and up_to_date(out, key):
        say(f"{out} is up to date (export key {key[:12]}); nothing to do (use --force to redo)")
        return out
    say(f"building preset {options.preset} ...")
    # A checkpoint that does not fit the preset fails here, before any file is written.
    model = build_frozenseg(options.preset, options.checkpoint, seed=options.seed,
                            synthetic=options.synthetic)

    with folder_atomic(out) as tmp:
        entries: dict[str, dict] = {}
        for name in graphs.GRAPHS:
            paths, readiness, guards = _export_graph(model, name, tmp, say)
            parity: list[dict] = []
            if options.verify:
                parity = _verify_graph(model, name, paths[0], say)
            entries[name] = graph_entry(model, name, tmp, paths, OPSET, readiness, parity, guards)
        # The manifest exists before the chained check, which runs the product runtime on it.
        manifest = build_manifest(model, entries, weights, key, train_vocab)
        if options.verify:
            vocabularies = {"8_classes": parse_vocabulary(verify.VOCAB_8),
                            "150_classes": verify.vocabulary_150()}
            chained = verify.verify_chain(
                model, validate_manifest(manifest, root=tmp),
                structured_images(options.verify_images),
                vocabularies, resize=None, say=say,
                text_graph_max_classes=options.text_graph_max_classes,
            )
            for vname, figures in chained.items():
                say(f"chained parity {vname}: label agreement with float64 "
                    f"{figures['semantic_label_agreement']:.6f} (PyTorch float32: "
                    f"{figures['float32_label_agreement']:.6f}), PQ "
                    f"{figures['panoptic_quality']:.4f} (PyTorch float32: "
                    f"{figures['float32_panoptic_quality']:.4f})")
                failure = verify.chain_failure(vname, figures)
                if failure:
                    raise ExportError(failure)
            manifest["parity_chained_onnxruntime_cpu"] = chained
            sensitivity = assess_sensitivity(
                max(f["float32_logit_floor"] for f in chained.values()),
                min(f["float32_label_agreement"] for f in chained.values()))
            if sensitivity.sensitive:
                say(sensitivity_warning(sensitivity))
            # Each graph's floors stand in its own parity entries.
            manifest["noise_floor"] = {**bars_record(), "sensitivity": sensitivity.to_dict()}
        manifest["export_seconds"] = round(time.perf_counter() - started, 1)
        write_bytes_atomic(tmp / MANIFEST_NAME, json.dumps(manifest, indent=1).encode())
    say(f"wrote {out} in {time.perf_counter() - started:.1f} s")
    return out


__all__ = ["ExportError", "ExportOptions", "OnnxExportError", "run_export", "up_to_date"]
