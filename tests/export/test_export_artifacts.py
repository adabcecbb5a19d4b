"""The exported tiny preset: files, manifest, graph hygiene and parity figures."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from frozenseg_export.onnx.build import FORBIDDEN_OPS
from frozenseg_export.onnx.manifest_writer import sha256_file
from frozenseg_export.onnx.trt_readiness import check_trt_readiness
from frozenseg_reference.presets import PRESETS
from frozenseg_runtime import graphs
from frozenseg_runtime.manifest import load_manifest

SAM_SIZE = PRESETS["tiny"].preprocessing.sam_size  # the tiny preset's SAM input side


def test_files_and_manifest(tiny_artifacts):
    out, messages = tiny_artifacts
    manifest = load_manifest(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{g}.onnx" for g in graphs.GRAPHS] + ["manifest.json"]
    )
    for name, spec in manifest.graphs.items():
        assert sha256_file(out / spec.file) == spec.sha256
        assert spec.opset >= 17
        assert [t.name for t in spec.inputs] == list(graphs.INPUTS[name])
    c = manifest.constants
    assert c["preprocessing"]["clip_mean"] == [122.7709383, 116.7460125, 104.09373615]
    assert len(c["text"]["templates"]) == 14 and c["text"]["context_length"] == 77
    assert len(c["train_vocabulary"]["names"]) == 133
    assert manifest.raw["weights"] == {"source": "synthetic", "seed": 0}
    assert manifest.raw["versions"]["torch"]
    assert manifest.graphs["decoder"].dims["classes"] == {"min": 1, "opt": 150, "max": 2048}
    assert any("parity" in m for m in messages), "export shows its progress"


def test_graph_hygiene(tiny_artifacts):
    out, _ = tiny_artifacts
    for name in graphs.GRAPHS:
        model = onnx.load(out / f"{name}.onnx")
        ops = {n.op_type for n in model.graph.node}
        assert not ops & FORBIDDEN_OPS, (name, ops & FORBIDDEN_OPS)
        assert check_trt_readiness(model, name).ready
        onnx.checker.check_model(model, full_check=True)


def test_recorded_parity_meets_the_bars(tiny_artifacts):
    out, _ = tiny_artifacts
    manifest = json.loads((out / "manifest.json").read_text())
    for name, graph in manifest["graphs"].items():
        for item in graph["parity_onnxruntime_cpu"]:
            assert item["passed"], (name, item)
            # On these well-conditioned weights the graphs are float32-exact in practice.
            if item["output"] in ("res2", "res3", "res4", "res5", "sam_embedding", "text_features"):
                assert item["rel_error"] <= 1e-4
    chained = manifest["parity_chained_onnxruntime_cpu"]
    assert {v["classes"] for v in chained.values()} == {8, 150}
    for figures in chained.values():
        assert figures["text_through_graphs"]
        assert figures["semantic_label_agreement"] >= 0.9999


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("classes, synonyms", [(1, 1), (2000, 2), (13, 74)])
def test_one_decoder_graph_serves_any_vocabulary(tiny_artifacts, tiny_model, classes, synonyms):
    out, _ = tiny_artifacts
    g = np.random.default_rng(classes)
    with torch.no_grad():
        feats = tiny_model.clip_image(torch.from_numpy(g.standard_normal((1, 3, 352, 320)).astype(np.float32)))
        sam = tiny_model.sam_image(torch.from_numpy(g.standard_normal((1, 3, SAM_SIZE, SAM_SIZE)).astype(np.float32)))
    emb = g.standard_normal((classes, synonyms, 64)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
    mask = g.random((classes, synonyms)) > 0.5
    mask[:, 0] = True
    seen = g.random(classes) > 0.5
    feed = dict(zip(graphs.CLIP_FEATURES, (f.numpy() for f in feats)))
    feed.update(sam_embedding=sam.numpy(), text_embeddings=emb, synonym_mask=mask, seen=seen)
    ours = _session(out / "decoder.onnx").run(None, feed)
    with torch.no_grad():
        ref = tiny_model.decoder(*(torch.from_numpy(feed[n]) for n in graphs.INPUTS["decoder"]))
    assert ours[2].shape == (1, 12, classes + 1)
    np.testing.assert_allclose(ours[2], ref[2].numpy(), atol=1e-4)
    np.testing.assert_allclose(ours[1], ref[1].numpy(), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("height, width", [(320, 320), (1344, 320), (640, 1344)])
def test_clip_image_graph_takes_the_declared_range(tiny_artifacts, tiny_model, height, width):
    out, _ = tiny_artifacts
    image = np.random.default_rng(height).standard_normal((1, 3, height, width)).astype(np.float32)
    ours = _session(out / "clip_image.onnx").run(None, {"image": image})
    with torch.no_grad():
        ref = tiny_model.clip_image(torch.from_numpy(image))
    for a, b in zip(ours, ref):
        assert a.shape == tuple(b.shape)
        assert np.abs(a - b.numpy()).max() <= 1e-4 * np.abs(b.numpy()).max()


def test_text_graph_takes_any_batch(tiny_artifacts, tiny_model):
    from frozenseg_reference.text_classifier import tokenize

    out, _ = tiny_artifacts
    session = _session(out / "clip_text.onnx")
    for batch in (1, 300):
        tokens = tokenize([f"a photo of item {i}." for i in range(batch)], 77).numpy()
        (ours,) = session.run(None, {"tokens": tokens})
        with torch.no_grad():
            ref = tiny_model.clip_text(torch.from_numpy(tokens)).numpy()
        assert ours.shape == (batch, 64)
        assert np.abs(ours - ref).max() <= 1e-4 * np.abs(ref).max()
