"""What decides FP32 islands and INT8 exclusions: node groups, the measured choice, the metrics."""

from __future__ import annotations

import numpy as np
import onnx

from frozenseg_export.precision.metrics import label_agreement, mask_iou, relative_error
from frozenseg_export.precision.node_groups import (
    FP32_ISLAND_CANDIDATES,
    INT8_EXCLUSION_CANDIDATES,
    GraphIndex,
    attention_matmuls,
    candidate_groups,
    normalization,
    sampling_locations,
    sampling_projections,
)
from frozenseg_export.precision.search import choose_groups


def _load(tiny_artifacts, name: str) -> onnx.ModelProto:
    return onnx.load(tiny_artifacts[0] / f"{name}.onnx", load_external_data=False)


def test_decoder_groups_follow_the_graph(tiny_artifacts):
    model = _load(tiny_artifacts, "decoder")
    index = GraphIndex(model)
    by_name = {n.name: n for n in model.graph.node}
    floors = {n.name for n in model.graph.node if n.op_type == "Floor"}
    locations = sampling_locations(index)
    assert floors and floors <= locations
    assert any(by_name[n].op_type in ("Gemm", "MatMul") for n in locations)  # the offsets projection
    projections = sampling_projections(index)
    assert projections and all(
        index.scope[n].endswith(("sampling_offsets", "attention_weights")) for n in projections)
    layer_norms = {n.name for n in model.graph.node if n.op_type == "LayerNormalization"}
    assert layer_norms and layer_norms <= normalization(index)
    for name in attention_matmuls(index):
        assert by_name[name].op_type == "MatMul" and not index.reads_parameter(by_name[name])


def test_candidate_groups_drop_empty_ones(tiny_artifacts):
    clip = candidate_groups(_load(tiny_artifacts, "clip_image"), FP32_ISLAND_CANDIDATES)
    assert "sampling_locations" not in clip and "normalization" in clip  # no deformable attention
    assert all(clip.values())
    decoder = candidate_groups(_load(tiny_artifacts, "decoder"), INT8_EXCLUSION_CANDIDATES)
    assert {"sampling_projections", "attention_matmuls"} <= set(decoder)


def test_choose_groups_keeps_what_measurably_helps():
    # error = 1.0 minus what each kept group removes; "b" removes too little to be kept
    removes = {"a": 0.5, "b": 0.1, "c": 0.3}
    groups = {"a": ["n1", "n2"], "b": ["n3"], "c": ["n4"]}
    owner = {n: g for g, nodes in groups.items() for n in nodes}

    def evaluate(nodes: set[str]) -> float:
        return 1.0 - sum(removes[g] for g in {owner[n] for n in nodes})

    seen: list[str] = []
    result = choose_groups(groups, evaluate, seen.append, "test")
    assert result.kept == ["a", "c"]
    assert result.nodes == ["n1", "n2", "n4"]
    assert abs(result.error_final - 0.2) < 1e-12 and result.error_lowered == 1.0
    assert result.trials["b"]["kept"] is False and abs(result.trials["b"]["gain"] - 0.1) < 1e-12
    assert any("kept ['a', 'c']" in m for m in seen)


def test_metrics():
    ref = np.arange(1.0, 7.0).reshape(2, 3)
    assert relative_error(ref, ref) == 0.0
    assert abs(relative_error(ref * 1.01, ref) - 0.01) < 1e-12
    masks = np.full((2, 4, 4), -1.0)
    masks[0, :2] = 1.0
    other = masks.copy()
    other[0, :1] = -1.0  # query 0 loses half its pixels; query 1 is empty in both
    assert mask_iou(masks, masks) == 1.0
    assert mask_iou(other, masks) == 0.5
    labels = np.zeros((4, 4), int)
    moved = labels.copy()
    moved[0] = 1
    assert label_agreement(moved, labels) == 0.75
