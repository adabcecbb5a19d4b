"""Manifest schema validation."""

from __future__ import annotations

import copy
import json

import pytest

from frozenseg_runtime.manifest import ManifestError, load_manifest, validate_manifest


@pytest.fixture(scope="module")
def manifest_dict(tiny_artifacts):
    out, _ = tiny_artifacts
    return json.loads((out / "manifest.json").read_text())


def test_valid_manifest_loads(tiny_artifacts):
    out, _ = tiny_artifacts
    manifest = load_manifest(out)
    assert manifest.graph_path("decoder") == out / "decoder.onnx"


def test_unknown_schema_version(manifest_dict):
    bad = dict(manifest_dict, schema_version=99)
    with pytest.raises(ManifestError, match="schema_version 99 is not supported"):
        validate_manifest(bad)


@pytest.mark.parametrize("path", [("constants", "text"), ("constants", "preprocessing", "sam_mean"),
                                  ("graphs", "decoder"), ("versions",),
                                  # schema 2: the section the C++ library reads its facts from
                                  ("runtime",), ("runtime", "prompts_per_text_call"),
                                  ("runtime", "encoder_schedule", "many_cores")])
def test_missing_entries_are_named(manifest_dict, path):
    bad = copy.deepcopy(manifest_dict)
    node = bad
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    with pytest.raises(ManifestError, match=path[-1]):
        validate_manifest(bad)


def test_wrong_tensor_names(manifest_dict):
    bad = copy.deepcopy(manifest_dict)
    bad["graphs"]["clip_text"]["inputs"][0]["name"] = "input_ids"
    with pytest.raises(ManifestError, match="inputs"):
        validate_manifest(bad)


def test_missing_manifest_file(tmp_path):
    with pytest.raises(ManifestError, match="no manifest.json"):
        load_manifest(tmp_path)


def test_the_runtime_section_is_the_python_declarations(manifest_dict):
    """The C++ library reads the registry, the prompts per text call, the schedule rule and `auto`'s
    choice from here (schema 2); the exporter writes them from the Python runtime's own declarations."""
    from frozenseg_runtime import graphs, schedule
    from frozenseg_runtime.backends.names import choice_record
    from frozenseg_runtime.segmenter import PROMPTS_PER_TEXT_CALL

    assert manifest_dict["schema_version"] == 2
    assert manifest_dict["runtime"] == {"graphs": graphs.registry_record(),
                                        "prompts_per_text_call": PROMPTS_PER_TEXT_CALL,
                                        "encoder_schedule": schedule.rule_record(),
                                        "backend_choice": choice_record()}
    assert [g["name"] for g in manifest_dict["runtime"]["graphs"]] == list(graphs.GRAPHS)


def test_a_schema_1_manifest_asks_for_a_re_export(manifest_dict):
    old = {k: v for k, v in manifest_dict.items() if k != "runtime"}
    old["schema_version"] = 1
    with pytest.raises(ManifestError, match="schema_version 1 is not supported .*reads 2.*re-export"):
        validate_manifest(old)


def test_variants_serve_the_backends_they_are_made_for():
    """A precision's graph entry may carry variants (quantize's CPU INT8 file): for_backend picks
    the one made for a backend, files() lists every file to verify, and a malformed list is a
    ManifestError (the C++ reader's test_core_manifest.cpp does the same on the same fixture)."""
    from pathlib import Path

    data = json.loads((Path(__file__).resolve().parents[2] / "runtime" / "cpp" / "tests" / "data" /
                              "manifest_tiny.json").read_text())
    data["precisions"] = {"int8": {"graphs": {
        name: {"file": f"{name}.int8.onnx", "sha256": "a" * 64, "precision": "int8",
               "variants": [{"file": f"{name}.int8-cpu.onnx", "sha256": "b" * 64,
                             "backends": ["onnxruntime-cpu"], "activations": "uint8"}]}
        for name in data["graphs"]}}}
    sam = validate_manifest(data, "/art").with_precision("int8").graphs["sam_image"]
    assert sam.for_backend("onnxruntime-cpu").file == "sam_image.int8-cpu.onnx"
    assert sam.for_backend("onnxruntime-cpu").sha256 == "b" * 64
    assert sam.for_backend("openvino-cpu").file == sam.for_backend("tensorrt").file == "sam_image.int8.onnx"
    assert [spec.file for spec in sam.files()] == ["sam_image.int8.onnx", "sam_image.int8-cpu.onnx"]
    bad = copy.deepcopy(data)
    bad["precisions"]["int8"]["graphs"]["decoder"]["variants"][0]["backends"] = "onnxruntime-cpu"
    with pytest.raises(ManifestError, match="precisions.int8.graphs.decoder.variants must be a list"):
        validate_manifest(bad, "/art").with_precision("int8")
