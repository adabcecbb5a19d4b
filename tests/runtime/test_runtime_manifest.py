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
    """The C++ library reads the registry, the prompts per text call and the schedule rule from
    here (schema 2); the exporter writes them from the Python runtime's own declarations."""
    from frozenseg_runtime import graphs, schedule
    from frozenseg_runtime.segmenter import PROMPTS_PER_TEXT_CALL

    assert manifest_dict["schema_version"] == 2
    assert manifest_dict["runtime"] == {"graphs": graphs.registry_record(),
                                        "prompts_per_text_call": PROMPTS_PER_TEXT_CALL,
                                        "encoder_schedule": schedule.rule_record()}
    assert [g["name"] for g in manifest_dict["runtime"]["graphs"]] == list(graphs.GRAPHS)


def test_a_schema_1_manifest_asks_for_a_re_export(manifest_dict):
    old = {k: v for k, v in manifest_dict.items() if k != "runtime"}
    old["schema_version"] = 1
    with pytest.raises(ManifestError, match="schema_version 1 is not supported .*reads 2.*re-export"):
        validate_manifest(old)
