"""The export manifest: the single contract between the exporter and the runtime.

It names every graph with its sha256, tensors, dtypes and shape ranges, and carries every
constant the runtime needs (normalisation, resize rule, templates, thresholds, training
vocabulary...), so nothing is copied by hand. Versioned and validated on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from frozenseg_runtime.backends.names import BackendChoice, parse_backend_choice
from frozenseg_runtime.errors import ArtifactError, ManifestError
from frozenseg_runtime.graphs import BF16_GRAPHS, GRAPHS, INPUTS, OUTPUTS

# 2: the `runtime` section (the graph registry, the text encoder's prompts per call and the
# encoder-schedule rule, written from graphs.py, segmenter.py and schedule.py for the C++ library).
SCHEMA_VERSION = 2
MANIFEST_NAME = "manifest.json"

# Required keys, by section: what the runtimes and the tools read (`preset`, `weights` and
# `versions`, the provenance, by quantize and the checks; `runtime` by the C++ library, which has
# no copy of graphs.py or schedule.py). The manifest records more (the decoder's baked-in ensemble
# weights, logit scale and pooling epsilon; descriptions of the recipes) for people; nothing is
# read from those.
_REQUIRED = {
    "": ("schema_version", "preset", "constants", "graphs", "versions", "weights", "runtime"),
    "constants.preprocessing": (
        "clip_mean", "clip_std", "sam_mean", "sam_std", "pad_multiple", "sam_size",
        "resize_short", "resize_max",
    ),
    "constants.text": ("templates", "context_length", "bpe_sha256", "sot_token", "eot_token",
                       "pad_token"),
    "constants.inference": (
        "object_mask_threshold", "overlap_threshold", "instance_topk", "log_eps",
        "instance_score_eps",
    ),
    "constants.train_vocabulary": ("names", "isthing"),
    "runtime": ("graphs", "prompts_per_text_call", "encoder_schedule"),
    "runtime.encoder_schedule": ("schedules", "cpu_backend", "many_cores"),
}
_GRAPH_KEYS = ("file", "sha256", "inputs", "outputs", "dims", "opset")
_TENSOR_KEYS = ("name", "dtype", "shape")
TENSOR_DTYPES = ("float32", "float16", "int64", "int32", "bool")  # the backends map each

PRECISIONS = ("fp32", "fp16", "int8", "mixed")  # fp32: the export; the others: `quantize`
QUANTIZED_PRECISIONS = PRECISIONS[1:]
GRAPH_PRECISIONS = PRECISIONS[:3]  # what one graph can be (`mixed` picks one per graph)
LOWERED_PRECISIONS = GRAPH_PRECISIONS[1:]  # what `quantize` lowers a graph to
# A precision of the runtime, not of the files: the FP32 graphs, with BF16_GRAPHS computed in
# bfloat16 by a backend that can (OpenVINO on a CPU with native bfloat16). No file, no `quantize`.
BF16 = "bf16"
RUNTIME_PRECISIONS = PRECISIONS + (BF16,)  # what `segment` and `check` run


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: tuple[int | str, ...]  # ints are fixed; strings name a dim of the graph's `dims`


@dataclass(frozen=True)
class GraphVariant:
    """Another file of one graph that some backends run instead, computing the same values
    (`quantize`'s CPU INT8 file: the Q/DQ graph with uint8 activations, which ONNX Runtime's CPU
    kernels run natively, where TensorRT needs the int8 one)."""

    file: str
    sha256: str
    backends: tuple[str, ...]
    external_data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GraphSpec:
    name: str
    file: str
    sha256: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    dims: dict[str, dict[str, int]]  # dim name -> {min, opt, max[, multiple]}
    opset: int
    external_data: tuple[tuple[str, str], ...] = ()  # (file, sha256) of each external-data file
    precision: str = "fp32"  # fp32, or the reduced precision this graph was lowered to
    # Set by a runtime precision (bf16): what the backend computes this graph in, its file
    # unchanged; a backend that cannot honour it refuses (backends/factory.py). None: the file's.
    compute_precision: str | None = None
    variants: tuple[GraphVariant, ...] = ()  # files some backends run instead (for_backend)

    def for_backend(self, backend: str) -> "GraphSpec":
        """This graph as `backend` runs it: the first variant made for that backend, else itself."""
        for variant in self.variants:
            if backend in variant.backends:
                return self._as(variant)
        return self

    def files(self) -> tuple["GraphSpec", ...]:
        """This graph and each of its variants as a spec of its own (what verification checks)."""
        return (self,) + tuple(self._as(variant) for variant in self.variants)

    def _as(self, variant: GraphVariant) -> "GraphSpec":
        return replace(self, file=variant.file, sha256=variant.sha256,
                       external_data=variant.external_data, variants=())


@dataclass(frozen=True)
class Manifest:
    raw: dict[str, Any]
    graphs: dict[str, GraphSpec]
    root: Path
    backend_choice: BackendChoice  # `auto`'s rule, runtime.backend_choice, checked at load

    @property
    def constants(self) -> dict[str, Any]:
        return self.raw["constants"]

    @property
    def preset(self) -> dict[str, Any]:
        return self.raw["preset"]

    def graph_path(self, name: str) -> Path:
        return self.root / self.graphs[name].file

    @property
    def precisions(self) -> tuple[str, ...]:
        """fp32 (the exported graphs) and every reduced precision written by `quantize`."""
        return ("fp32",) + tuple(self.raw.get("precisions", {}))

    def with_precision(self, precision: str) -> "Manifest":
        """This manifest with each graph swapped for its `precision` variant.

        The variants keep the FP32 graph's inputs, outputs and shape ranges (I/O stays FP32),
        so only the file, digests and precision change. bf16 keeps the FP32 files and marks
        BF16_GRAPHS to be computed in bfloat16."""
        if precision == "fp32":
            return self
        if precision == BF16:
            graphs = {name: replace(spec, compute_precision=BF16) if name in BF16_GRAPHS else spec
                      for name, spec in self.graphs.items()}
            return replace(self, graphs=graphs)
        variants = self.raw.get("precisions", {})
        if precision not in variants:
            raise ManifestError(
                f"precision {precision!r} is not in {self.root / MANIFEST_NAME} (has "
                f"{', '.join(self.precisions)}): run frozenseg-deploy quantize --artifacts "
                f"{self.root} --precision {precision}"
            )
        entries = _section(variants, f"{precision}.graphs")
        graphs = {}
        for name, spec in self.graphs.items():
            entry = entries.get(name)
            where = f"precisions.{precision}.graphs.{name}"
            missing = [k for k in ("file", "sha256", "precision") if not isinstance(entry, dict) or k not in entry]
            if missing:
                raise ManifestError(f"{where} lacks {missing}")
            graphs[name] = replace(spec, file=entry["file"], sha256=entry["sha256"],
                                   external_data=_external(entry, where),
                                   precision=entry["precision"],
                                   variants=_variants(entry, where))
        return replace(self, graphs=graphs)


def _section(data: dict[str, Any], dotted: str) -> dict[str, Any]:
    node: Any = data
    for part in filter(None, dotted.split(".")):
        if not isinstance(node, dict) or part not in node:
            raise ManifestError(f"manifest lacks section {dotted!r}")
        node = node[part]
    if not isinstance(node, dict):
        raise ManifestError(f"manifest section {dotted or 'top level'!r} must be an object")
    return node


def _tensors(items: Any, where: str) -> tuple[TensorSpec, ...]:
    if not isinstance(items, list):
        raise ManifestError(f"{where} must be a list of tensors")
    out = []
    for item in items:
        missing = [k for k in _TENSOR_KEYS if not isinstance(item, dict) or k not in item]
        if missing:
            raise ManifestError(f"{where}: tensor entry {item!r} lacks {missing}")
        if item["dtype"] not in TENSOR_DTYPES:
            raise ManifestError(f"{where}: tensor {item['name']!r} has dtype {item['dtype']!r}; "
                                f"expected one of {', '.join(TENSOR_DTYPES)} (re-export)")
        out.append(TensorSpec(item["name"], item["dtype"], tuple(item["shape"])))
    return tuple(out)


def _external(entry: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    items = entry.get("external_data", [])
    if not isinstance(items, list) or any(
        not isinstance(e, dict) or "file" not in e or "sha256" not in e for e in items
    ):
        raise ManifestError(f"{where}.external_data must be a list of {{file, sha256}}")
    return tuple((e["file"], e["sha256"]) for e in items)


def _variants(entry: dict[str, Any], where: str) -> tuple[GraphVariant, ...]:
    items = entry.get("variants", [])
    if not isinstance(items, list) or any(
        not isinstance(v, dict) or not {"file", "sha256", "backends"} <= v.keys()
        or not isinstance(v["backends"], list) for v in items
    ):
        raise ManifestError(f"{where}.variants must be a list of {{file, sha256, backends, ...}}")
    return tuple(GraphVariant(v["file"], v["sha256"], tuple(v["backends"]),
                              _external(v, f"{where}.variants[{i}]")) for i, v in enumerate(items))


def _graph(name: str, entry: Any) -> GraphSpec:
    where = f"graphs.{name}"
    missing = [k for k in _GRAPH_KEYS if not isinstance(entry, dict) or k not in entry]
    if missing:
        raise ManifestError(f"{where} lacks {missing}")
    spec = GraphSpec(
        name=name,
        file=entry["file"],
        sha256=entry["sha256"],
        inputs=_tensors(entry["inputs"], where + ".inputs"),
        outputs=_tensors(entry["outputs"], where + ".outputs"),
        dims=entry["dims"],
        opset=int(entry["opset"]),
        external_data=_external(entry, where),
    )
    if tuple(t.name for t in spec.inputs) != INPUTS[name]:
        raise ManifestError(f"{where}: inputs {[t.name for t in spec.inputs]} != {list(INPUTS[name])}")
    if tuple(t.name for t in spec.outputs) != OUTPUTS[name]:
        raise ManifestError(f"{where}: outputs {[t.name for t in spec.outputs]} != {list(OUTPUTS[name])}")
    for t in spec.inputs + spec.outputs:
        for d in t.shape:
            if isinstance(d, str) and d not in spec.dims:
                raise ManifestError(f"{where}: tensor {t.name} uses dim {d!r} with no range in dims")
    return spec


def validate_manifest(data: Any, root: str | os.PathLike = ".") -> Manifest:
    """Check a parsed manifest against schema version 2 and wrap it."""
    if not isinstance(data, dict):
        raise ManifestError("manifest must be a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ManifestError(
            f"manifest schema_version {version!r} is not supported (this runtime reads "
            f"{SCHEMA_VERSION}); re-export with the matching frozenseg-deploy"
        )
    for dotted, keys in _REQUIRED.items():
        section = _section(data, dotted)
        missing = [k for k in keys if k not in section]
        if missing:
            raise ManifestError(f"manifest section {dotted or 'top level'!r} lacks {missing}")
    graphs_raw = _section(data, "graphs")
    absent = [g for g in GRAPHS if g not in graphs_raw]
    if absent:
        raise ManifestError(f"manifest lacks graphs {absent}")
    graphs = {name: _graph(name, graphs_raw[name]) for name in GRAPHS}
    return Manifest(raw=data, graphs=graphs, root=Path(root),
                    backend_choice=parse_backend_choice(data["runtime"]))


def load_manifest(folder: str | os.PathLike) -> Manifest:
    """Read and validate `folder/manifest.json`."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"no {MANIFEST_NAME} in {Path(folder)}: export artifacts first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bad UTF-8
        raise ManifestError(f"cannot read {path}: {exc}") from exc
    except RecursionError as exc:  # json's decoder recurses once per level of nesting
        raise ManifestError(f"cannot read {path}: JSON nested too deeply") from exc
    return validate_manifest(data, root=path.parent)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_artifacts(manifest: Manifest) -> None:
    """Every graph file, variant and external-data file exists and matches its sha256."""
    for spec in manifest.graphs.values():
        for files in spec.files():
            verify_graph(manifest.root, files)


def verify_graph(root: Path, spec: GraphSpec, remedy: str | None = None) -> None:
    """One graph's file and external-data files under `root` exist and match their sha256;
    `remedy` replaces the advice to re-export (e.g. where the files are a copy)."""
    for file, digest in ((spec.file, spec.sha256),) + spec.external_data:
        path = root / file
        if not path.is_file():
            raise ArtifactError(f"artifact {path} is missing: {remedy or 're-run frozenseg-deploy export'}")
        if sha256_file(path) != digest:
            raise ArtifactError(
                f"artifact {path} does not match the sha256 of graph {spec.name!r} in manifest.json "
                f"(corrupt or replaced): {remedy or 're-run frozenseg-deploy export --force'}"
            )
