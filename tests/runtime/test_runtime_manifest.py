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
                                  ("graphs", "decoder"), ("versions",)])
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
