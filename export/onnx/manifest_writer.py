"""Writes the manifest (schema in frozenseg_runtime.manifest) from the preset and the graphs."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import onnx
import open_clip.tokenizer

from frozenseg_export.onnx.units import SPECS
from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.presets import VILD_TEMPLATES
from frozenseg_runtime import graphs, schedule
from frozenseg_runtime.backends.names import choice_record
from frozenseg_runtime.manifest import SCHEMA_VERSION, sha256_file, validate_manifest
from frozenseg_runtime.segmenter import PROMPTS_PER_TEXT_CALL
from frozenseg_runtime.text.vocabulary import Vocabulary

_ONNX_DTYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.BOOL: "bool",
}


def package_versions() -> dict[str, str]:
    names = {"frozenseg-deploy": "frozenseg-deploy", "torch": "torch", "onnx": "onnx",
             "onnxruntime": "onnxruntime", "onnxslim": "onnxslim", "open_clip": "open_clip_torch",
             "segment_anything": "segment-anything", "timm": "timm", "polygraphy": "polygraphy"}
    out = {}
    for key, dist in names.items():
        try:
            out[key] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[key] = "not installed"
    return out


def tokenizer_identity() -> dict[str, Any]:
    bpe = open_clip.tokenizer.default_bpe()
    tok = open_clip.tokenizer.SimpleTokenizer()
    return {
        "tokenizer": "open_clip SimpleTokenizer (CLIP BPE, lower-cased, whitespace-cleaned)",
        "bpe_file": Path(bpe).name,
        "bpe_sha256": sha256_file(bpe),
        "sot_token": tok.encoder["<start_of_text>"],
        "eot_token": tok.encoder["<end_of_text>"],
        "pad_token": 0,
    }


def tensor_records(model_proto: onnx.ModelProto, shapes: dict[str, list]) -> tuple[list, list]:
    def record(value: onnx.ValueInfoProto) -> dict[str, Any]:
        dtype = _ONNX_DTYPES[value.type.tensor_type.elem_type]
        return {"name": value.name, "dtype": dtype, "shape": shapes[value.name]}

    return ([record(v) for v in model_proto.graph.input],
            [record(v) for v in model_proto.graph.output])


def graph_entry(model: FrozenSegModel, name: str, folder: Path, files: list[Path], opset: int,
                readiness: dict, parity: list[dict], guards: dict | None = None) -> dict[str, Any]:
    spec = SPECS[name]
    proto = onnx.load(files[0], load_external_data=False)
    inputs, outputs = tensor_records(proto, spec.shapes(model))
    return {
        "file": files[0].name,
        "sha256": sha256_file(files[0]),
        "external_data": [{"file": f.name, "sha256": sha256_file(f)} for f in files[1:]],
        "bytes": sum(f.stat().st_size for f in files),
        "opset": opset,
        "inputs": inputs,
        "outputs": outputs,
        "dims": spec.dims,
        "trt_readiness": readiness,
        "parity_onnxruntime_cpu": parity,
        "guards": guards or {},  # guards.GuardAudit of PyTorch's translation against this file
    }


def constants(model: FrozenSegModel, train: Vocabulary) -> dict[str, Any]:
    p = model.preset
    return {
        "preprocessing": {
            **{k: list(v) if isinstance(v, tuple) else v for k, v in vars(p.preprocessing).items()},
            "color": "RGB, 0..255",
            "resize_rule": "shortest edge to resize_short, longest at most resize_max (detectron2 "
                           "ResizeShortestEdge), PIL bilinear on uint8",
            "clip_pad": "zeros at bottom/right to a multiple of pad_multiple, after normalisation",
            "sam_resize": "SAM-normalised, padded like CLIP, then bilinear (align_corners=False) to "
                          "sam_size x sam_size; aspect ratio not kept",
        },
        "text": {
            "templates": list(VILD_TEMPLATES),
            "context_length": p.context_length,
            **tokenizer_identity(),
            "embedding": "per prompt L2-normalise, mean over templates, L2-normalise; classes x "
                         "synonyms padded, synonym_mask marks valid rows",
        },
        "inference": vars(p.inference),
        "void": "last class of pred_logits and class_probs; its probability is the in-vocabulary "
                "softmax's last entry",
        "train_vocabulary": {"names": [list(n) for n in train.names],
                             "isthing": list(train.isthing)},
    }


def runtime_facts() -> dict[str, Any]:
    """What a runtime needs beyond the graphs and constants, written from the Python runtime's own
    declarations so that the C++ library reads them instead of keeping copies: the graph registry
    (graphs.py), the text encoder's prompts per call (segmenter.py), the image encoders'
    schedule rule (schedule.py) and what `auto` picks (backends/factory.py)."""
    return {
        "graphs": graphs.registry_record(),
        "prompts_per_text_call": PROMPTS_PER_TEXT_CALL,
        "encoder_schedule": schedule.rule_record(),
        "backend_choice": choice_record(),
    }


def build_manifest(model: FrozenSegModel, graph_entries: dict[str, dict], weights: dict[str, Any],
                   export_key: str, train: Vocabulary) -> dict[str, Any]:
    """The manifest before verification (its chained figures and noise floor are added after)."""
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "export_key": export_key,
        "weights": weights,
        "preset": model.preset.to_dict(),
        "constants": constants(model, train),
        "graphs": graph_entries,
        "runtime": runtime_facts(),
        "parity_chained_onnxruntime_cpu": {},
        "versions": package_versions(),
    }
    validate_manifest(manifest)  # what we write must be what the runtime accepts
    return manifest
