"""The torch-free runtime on ONNX Runtime CPU against the PyTorch reference, and its contract."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from frozenseg_reference.pipeline import (
    encode_vocabulary,
    postprocess_all_tasks,
    preprocessing_constants,
    run_subgraphs,
)
from frozenseg_runtime.image.preprocess import preprocess
from frozenseg_runtime.output.postprocess import segmentation_result
from frozenseg_runtime.segmenter import Segmenter
from frozenseg_runtime.text.vocabulary import parse_vocabulary

VOCAB = [
    {"names": ["person", "people"], "isthing": True},
    {"names": ["sky"], "isthing": False},
    {"names": ["tree", "trees"], "isthing": False},
    {"names": ["car"], "isthing": True},
    {"names": ["grass"], "isthing": False},
    {"names": ["dog"], "isthing": True},
    {"names": ["okapi"], "isthing": True},
    {"names": ["wall"], "isthing": False},
]


@pytest.fixture(scope="module")
def segmenter(tiny_artifacts, tmp_path_factory):
    out, _ = tiny_artifacts
    seg = Segmenter.from_artifacts(out, backend="onnxruntime-cpu",
                                   cache_dir=tmp_path_factory.mktemp("vocab-cache"))
    seg.set_vocabulary(VOCAB)
    yield seg
    seg.close()


def _images():
    from frozenseg_export.synthetic_images import structured_images as verification_images

    return verification_images(3, seed=11)


def _reference(model, image, resize):
    vocab = parse_vocabulary(VOCAB)
    prepared = preprocess(image, preprocessing_constants(model.preset), resize)
    raw = run_subgraphs(model, prepared, encode_vocabulary(model, vocab))
    return prepared, raw, postprocess_all_tasks(raw, prepared, vocab, model.preset)


# Synthetic weights leave few segments past the official overlap threshold (0.8); a lower one
# gives many, so that segment-by-segment agreement is really tested.
LOOSE = {"object_mask_threshold": 0.0, "overlap_threshold": 0.1}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


@pytest.mark.parametrize("index", range(2))
def test_runtime_matches_the_pytorch_reference(segmenter, tiny_model, index):
    image = _images()[index]
    resize = (320, 544)
    prepared, ref_raw, ref = _reference(tiny_model, image, resize)

    sem = segmenter.segment(image, task="semantic", resize=resize)
    assert sem.semantic_labels.shape == image.shape[:2]
    assert (sem.semantic_labels == ref["sem_seg"].argmax(0)).mean() >= 0.999

    official = segmenter.segment(image, task="panoptic", resize=resize)
    assert [s["category_id"] for s in official.segments_info] == [
        s["category_id"] for s in ref["segments_info"]]
    # All classes as things: no stuff merging, one segment per surviving query.
    vocab = parse_vocabulary([{"names": c["names"], "isthing": True} for c in VOCAB])
    ours_raw = segmenter.decode(segmenter.encode_image(segmenter.prepare(image, resize)),
                                segmenter.vocabulary_state)
    loose = dataclasses.replace(segmenter.inference, **LOOSE)
    pan = segmentation_result(ours_raw, prepared, vocab, "panoptic", loose)
    theirs = segmentation_result(ref_raw, prepared, vocab, "panoptic", loose)
    assert len(pan.segments_info) == len(theirs.segments_info) >= 2
    for a, b in zip(pan.segments_info, theirs.segments_info):
        assert a["category_id"] == b["category_id"]
        assert _iou(pan.panoptic_seg == a["id"], theirs.panoptic_seg == b["id"]) >= 0.99

    inst = segmenter.segment(image, task="instance", resize=resize)
    k = 10
    assert inst.instance_classes[:k].tolist() == ref["instance_classes"][:k].tolist()
    np.testing.assert_allclose(inst.instance_scores[:k], ref["instance_scores"][:k], atol=1e-4)


def test_eight_threads_give_the_serial_results(segmenter):
    images = _images()
    serial = [segmenter.segment(im, task="semantic", resize=(320, 544)).semantic_labels for im in images]
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = segmenter.segment(images[i % 3], task="semantic", resize=(320, 544)).semantic_labels
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(8):
        np.testing.assert_array_equal(results[i], serial[i % 3])


def test_vocabulary_cache_hits_and_misses(tiny_artifacts, tmp_path):
    out, _ = tiny_artifacts
    cache = tmp_path / "cache"
    with Segmenter.from_artifacts(out, backend="onnxruntime-cpu", cache_dir=cache) as seg:
        stats = seg.set_vocabulary("cat,dog,grass")
        assert (stats.misses, stats.memory_hits, stats.disk_hits) == (1, 0, 0)
        first = seg.vocabulary_state.text_embeddings.copy()
        seg.set_vocabulary("cat,dog,grass")
        assert (stats.misses, stats.memory_hits) == (1, 1)
        seg.set_vocabulary("dog,cat")  # same synonyms, other order: memory rows reused
        assert (stats.misses, stats.memory_hits, stats.synonyms_encoded) == (1, 2, 3)
    with Segmenter.from_artifacts(out, backend="onnxruntime-cpu", cache_dir=cache) as seg:
        stats = seg.set_vocabulary("cat,dog,grass")
        assert (stats.misses, stats.disk_hits) == (0, 1)
        np.testing.assert_array_equal(seg.vocabulary_state.text_embeddings, first)
        seg.cache.encoder_key = "another text graph"  # a changed graph must not be served
        seg.cache._rows.clear()
        seg.set_vocabulary("cat,dog,grass")
        assert stats.misses == 1 and stats.disk_hits == 1


def test_cached_embeddings_equal_the_reference_text_classifier(segmenter, tiny_model):
    from frozenseg_reference.pipeline import encode_vocabulary as ref_encode

    ref = ref_encode(tiny_model, parse_vocabulary(VOCAB))
    mask = segmenter.vocabulary_state.synonym_mask
    np.testing.assert_array_equal(mask, ref.synonym_mask.numpy())
    np.testing.assert_allclose(segmenter.vocabulary_state.text_embeddings[mask], ref.text_embeddings.numpy()[mask],
                               atol=1e-5)
    np.testing.assert_array_equal(segmenter.vocabulary_state.seen, ref.seen.numpy())
