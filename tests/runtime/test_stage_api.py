"""The Segmenter's public stages: `segment` is exactly their composition, and the constants the
stages use come from the manifest (tokenizer identity, post-processing epsilons, class range)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from frozenseg_runtime import graphs
from frozenseg_runtime.backends.onnxruntime_runner import OnnxRuntimeRunner
from frozenseg_runtime.errors import ImageError, TokenizerMismatchError, UsageError, VocabularyError
from frozenseg_runtime.manifest import load_manifest
from frozenseg_runtime.segmenter import Segmenter

VOCAB = "person,sky,tree,car,grass"
RESIZE = (320, 544)  # small: the stages, not the model's cost, are under test


@pytest.fixture(scope="module")
def segmenter(tiny_artifacts):
    with Segmenter.from_artifacts(tiny_artifacts[0], backend="onnxruntime-cpu", cache_dir="",
                                  threads=1) as seg:
        seg.set_vocabulary(VOCAB)
        yield seg


def _edited_copy(tiny_artifacts, clone_artifacts, tmp_path, edit):
    folder = clone_artifacts(tiny_artifacts[0], tmp_path / "artifacts")
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest["constants"])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize("task", ["semantic", "panoptic", "instance"])
def test_segment_is_the_composition_of_the_stages(segmenter, sample_image, task):
    whole = segmenter.segment(sample_image, task=task, resize=RESIZE)
    state = segmenter.encode_vocabulary(VOCAB)
    prepared = segmenter.prepare(sample_image, RESIZE)
    raw = segmenter.decode(segmenter.encode_image(prepared), state)
    staged = segmenter.postprocess(raw, prepared, task, state.vocabulary)
    for field in ("semantic_labels", "panoptic_seg", "instance_masks", "instance_classes"):
        a, b = getattr(whole, field), getattr(staged, field)
        assert (a is None and b is None) or np.array_equal(a, b), field
    assert whole.segments_info == staged.segments_info
    assert set(whole.timings) >= {"preprocess", "graphs", "postprocess", *graphs.GRAPHS} - {"clip_text"}


def test_encoding_a_vocabulary_leaves_the_current_one(segmenter):
    state = segmenter.encode_vocabulary("okapi,lighthouse")
    assert state.vocabulary.num_classes == 2 and state.text_embeddings.shape[0] == 2
    assert segmenter.vocabulary.num_classes == 5


def test_text_batches_cut_rows_and_drop_common_padding(segmenter):
    tokens = segmenter.prompt_tokens(["cat", "traffic light", "crème brûlée"])
    batches = segmenter.text_batches(tokens, batch=5)
    assert sum(len(b) for b in batches) == len(tokens) and all(len(b) <= 5 for b in batches)
    for batch in batches:
        assert batch.shape[1] < tokens.shape[1]  # padding dropped
        assert (batch.argmax(-1) == batch.shape[1] - 1).any()  # the longest keeps its end token


def test_a_tokenizer_other_than_the_exported_one_is_refused(tiny_artifacts, clone_artifacts, tmp_path):
    folder = _edited_copy(tiny_artifacts, clone_artifacts, tmp_path,
                          lambda c: c["text"].update(bpe_sha256="0" * 64))
    with pytest.raises(TokenizerMismatchError, match="re-export"):
        Segmenter.from_artifacts(folder, backend="onnxruntime-cpu", cache_dir="")


def test_special_tokens_are_checked_against_the_manifest(tiny_artifacts, clone_artifacts, tmp_path):
    folder = _edited_copy(tiny_artifacts, clone_artifacts, tmp_path,
                          lambda c: c["text"].update(eot_token=49000))
    with pytest.raises(TokenizerMismatchError, match="special tokens"):
        Segmenter.from_artifacts(folder, backend="onnxruntime-cpu", cache_dir="")


def test_post_processing_epsilons_come_from_the_manifest(segmenter, tiny_artifacts, clone_artifacts,
                                                         tmp_path, sample_image):
    folder = _edited_copy(tiny_artifacts, clone_artifacts, tmp_path,
                          lambda c: c["inference"].update(instance_score_eps=1e6))
    with Segmenter.from_artifacts(folder, backend="onnxruntime-cpu", cache_dir="") as other:
        assert other.inference.instance_score_eps == 1e6
        other.set_vocabulary(VOCAB)
        wide = other.segment(sample_image, task="instance", resize=RESIZE).instance_scores
    ours = segmenter.segment(sample_image, task="instance", resize=RESIZE).instance_scores
    assert segmenter.inference.instance_score_eps == 1e-6
    assert wide.max() < ours.max() * 0.1  # the mask score's denominator grew by 1e6


class _EngineBoundRunner(OnnxRuntimeRunner):
    """ONNX Runtime bound to a built class range, as a TensorRT engine is (TensorRT cannot run
    here); only `max_shape` differs from the real runner."""

    def max_shape(self, input_name: str) -> tuple[int, ...] | None:
        return (4, 16, 64) if input_name == "text_embeddings" else None


def test_more_classes_than_the_engine_takes_are_refused_at_set_vocabulary(tiny_artifacts):
    manifest = load_manifest(tiny_artifacts[0])
    runners = {name: (_EngineBoundRunner if name == graphs.DECODER else OnnxRuntimeRunner)(
        manifest.graph_path(name), spec, "onnxruntime-cpu").activate()
        for name, spec in manifest.graphs.items()}
    with Segmenter(manifest, runners, "onnxruntime-cpu", cache_dir="", owns_runners=True) as seg:
        assert seg.max_classes == 4
        seg.set_vocabulary("cat,dog,cow,hen")  # at the limit: fine
        with pytest.raises(VocabularyError, match="5 classes.*at most 4") as info:
            seg.set_vocabulary("cat,dog,cow,hen,fox")
        assert "frozenseg-deploy build" in str(info.value)
        synonyms = [[f"cat {i}" for i in range(17)]]
        with pytest.raises(VocabularyError, match="17 synonyms in one class.*at most 16"):
            seg.set_vocabulary(synonyms)
        assert seg.vocabulary.num_classes == 4  # the current vocabulary is kept


def test_onnx_runtime_takes_any_class_count(segmenter):
    assert segmenter.max_classes is None  # the manifest's declared range is advice here
    assert segmenter.manifest.graphs[graphs.DECODER].dims["classes"]["max"] == 2048


def test_cuda_graphs_need_the_tensorrt_backend(tiny_artifacts):
    with pytest.raises(UsageError, match="backend 'tensorrt'"):
        Segmenter.from_artifacts(tiny_artifacts[0], backend="onnxruntime-cpu", cuda_graph=True)


def test_the_pixel_limit_reaches_image_loading(tiny_artifacts, sample_image):
    from PIL import Image

    with Segmenter.from_artifacts(tiny_artifacts[0], backend="onnxruntime-cpu", cache_dir="",
                                  max_image_pixels=1000) as seg:
        with pytest.raises(ImageError, match="at most 1,000 pixels"):
            seg.prepare(Image.fromarray(sample_image))


def test_onnx_runtime_memory_arena_is_off_unless_asked_for(segmenter, tiny_artifacts):
    """Off by default (onnxruntime_runner says why: on the full preset the per-session arenas held
    11.1 GB at peak against 6.0 GB without); `memory_arena=True` keeps it."""
    for runner in segmenter._runners.values():
        assert runner._active_session().get_session_options().enable_cpu_mem_arena is False
    with Segmenter.from_artifacts(tiny_artifacts[0], backend="onnxruntime-cpu", cache_dir="", threads=1,
                                  memory_arena=True) as seg:
        for runner in seg._runners.values():
            assert runner._active_session().get_session_options().enable_cpu_mem_arena is True
