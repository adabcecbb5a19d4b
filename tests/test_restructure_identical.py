"""The issue-10 restructuring changed no behaviour: the tiny export and `segment` give what the
code gave before it (values recorded at commit edad06f in data/restructure_before.json)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from frozenseg_runtime.segmenter import Segmenter

BEFORE = json.loads((Path(__file__).parent / "data" / "restructure_before.json").read_text())
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _sha(value: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()


def _json_sha(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def test_export_writes_the_same_graphs_and_constants(tiny_artifacts):
    manifest = json.loads((tiny_artifacts[0] / "manifest.json").read_text())
    assert {name: g["sha256"] for name, g in manifest["graphs"].items()} == BEFORE["graph_sha256"]
    assert _json_sha(manifest["constants"]) == BEFORE["constants_sha256"]
    assert _json_sha(manifest["preset"]) == BEFORE["preset_sha256"]


@pytest.fixture(scope="module")
def segmenter(tiny_artifacts):
    with Segmenter.from_artifacts(tiny_artifacts[0], backend="onnxruntime-cpu", cache_dir=False,
                                  threads=1) as seg:
        seg.set_vocabulary(str(SAMPLES / "vocabulary.json"))
        yield seg


def test_segment_gives_the_same_label_maps(segmenter):
    image = str(SAMPLES / "astronaut.jpg")
    before = BEFORE["segment"]
    semantic = segmenter.segment(image, task="semantic")
    assert list(semantic.semantic_labels.shape) == before["semantic"]["shape"]
    assert _sha(semantic.semantic_labels) == before["semantic"]["labels"]
    panoptic = segmenter.segment(image, task="panoptic")
    assert _sha(panoptic.panoptic_seg) == before["panoptic"]["panoptic_seg"]
    assert panoptic.segments_info == before["panoptic"]["segments_info"]
    instance = segmenter.segment(image, task="instance")
    assert instance.instance_classes.tolist() == before["instance"]["classes"]
    assert _sha(instance.instance_masks) == before["instance"]["masks"]
