"""The native TensorRT backend on a GPU: engines built from the tiny preset (fp32, and fp16 after
`quantize`), each graph compared with ONNX Runtime CPU through polygraphy's Comparator, the
Segmenter end to end, CUDA graphs, the shared activation arena and engine refusal.

Skipped, with the reason, where `tensorrt`, cuda-python or a CUDA GPU is missing (CI has none).
"""

from __future__ import annotations

import json
import shutil
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from frozenseg_runtime import graphs
from frozenseg_runtime.manifest import load_manifest

pytestmark = pytest.mark.gpu

# TensorRT against ONNX Runtime CPU on the same ONNX graph: max|Δ| / max|ORT| per output, and an
# absolute bar for class probabilities. FP32 engines are built with TF32 off (recipe 2); FP16 engines
# accumulate in other orders than ORT's CPU kernels.
RELATIVE_BARS = {"fp32": 2e-2, "fp16": 5e-2}
PROBABILITY_BARS = {"fp32": 1e-2, "fp16": 3e-2}
LABEL_AGREEMENT = {"fp32": 0.99, "fp16": 0.95}
_NUMPY = {"float32": np.float32, "int64": np.int64, "bool": np.bool_}


@pytest.fixture(scope="session")
def trt_ready():
    """Session-scoped so that it runs (and skips) before the session's export fixture."""
    from frozenseg_runtime.backends.tensorrt.env import TensorRTUnavailableError, require_tensorrt

    try:
        return require_tensorrt()
    except TensorRTUnavailableError as exc:
        pytest.skip(f"needs TensorRT, cuda-python and a CUDA GPU: {exc}")


@pytest.fixture(scope="module")
def built(trt_ready, tiny_artifacts, tmp_path_factory, clone_artifacts):
    """A private copy of the tiny artifacts with FP16 graphs and fp32 + fp16 engines."""
    from frozenseg_export.cli import main
    from frozenseg_export.tensorrt.builder import BuildOptions, build_engines

    folder = clone_artifacts(tiny_artifacts[0], tmp_path_factory.mktemp("trt") / "art")
    assert main(["quantize", "--artifacts", str(folder), "--precision", "fp16"]) == 0
    messages: list[str] = []
    for precision in ("fp32", "fp16"):
        build_engines(folder, BuildOptions(precision=precision, workspace_mib=2048), say=messages.append)
    return folder, messages


def _runner(folder: Path, graph: str, precision: str, **kwargs):
    from frozenseg_runtime.backends.tensorrt.runner import TensorRTRunner

    manifest = load_manifest(folder).with_precision(precision)
    return TensorRTRunner(manifest.graph_path(graph), manifest.graphs[graph], **kwargs)


def _feeds(folder: Path, graph: str) -> list[dict[str, np.ndarray]]:
    """Two feeds per graph at different shapes; the decoder's from the FP32 encoders on ORT."""
    from frozenseg_runtime.backends.onnxruntime_runner import OnnxRuntimeRunner

    manifest = load_manifest(folder)
    rng = np.random.default_rng(5)
    sam_shape = tuple(manifest.graphs[graphs.SAM_IMAGE].inputs[0].shape)
    images = [rng.standard_normal((1, 3, h, w), dtype=np.float32) for h, w in ((320, 352), (384, 320))]
    if graph == graphs.CLIP_IMAGE:
        return [{"image": im} for im in images]
    if graph == graphs.SAM_IMAGE:
        return [{"image": rng.standard_normal(sam_shape, dtype=np.float32)} for _ in range(2)]
    if graph == graphs.CLIP_TEXT:
        feeds = []
        for batch, length in ((3, 77), (5, 16)):
            tokens = np.zeros((batch, length), np.int64)
            tokens[:, 0] = 49406
            tokens[:, 1:6] = rng.integers(300, 40000, (batch, 5))
            tokens[:, 6] = 49407
            feeds.append({"tokens": tokens})
        return feeds
    embed = manifest.graphs[graphs.DECODER].inputs[5].shape[-1]
    with OnnxRuntimeRunner(manifest.graph_path(graphs.CLIP_IMAGE), manifest.graphs[graphs.CLIP_IMAGE],
                           "onnxruntime-cpu") as clip, \
            OnnxRuntimeRunner(manifest.graph_path(graphs.SAM_IMAGE), manifest.graphs[graphs.SAM_IMAGE],
                              "onnxruntime-cpu") as sam:
        sam_out = sam.infer({"image": rng.standard_normal(sam_shape, dtype=np.float32)})
        feeds = []
        for image, (classes, synonyms) in zip(images, ((4, 3), (7, 2))):
            emb = rng.standard_normal((classes, synonyms, embed)).astype(np.float32)
            emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
            mask = np.zeros((classes, synonyms), bool)
            mask[:, 0] = True
            mask[::2, 1] = True
            feeds.append({**clip.infer({"image": image}), **sam_out, "text_embeddings": emb,
                          "synonym_mask": mask, "seen": np.arange(classes) % 2 == 0})
        return feeds


def _polygraphy(runner, name: str):
    """One of our runners as a polygraphy runner (polygraphy's own TrtRunner would test polygraphy)."""
    from polygraphy.backend.base import BaseRunner
    from polygraphy.common import TensorMetadata

    class Adapter(BaseRunner):
        def __init__(self) -> None:
            super().__init__(name=name, prefix="frozenseg")

        def activate_impl(self) -> None:
            runner.activate()

        def get_input_metadata_impl(self):
            meta = TensorMetadata()
            for t in runner.spec.inputs:
                meta.add(t.name, np.dtype(_NUMPY[t.dtype]), shape=tuple(-1 if isinstance(d, str) else d for d in t.shape))
            return meta

        def infer_impl(self, feed_dict):
            start = time.perf_counter()
            out = runner.infer(feed_dict)
            self.inference_time = time.perf_counter() - start
            return OrderedDict((t.name, out[t.name]) for t in runner.spec.outputs)

        def deactivate_impl(self) -> None:
            runner.deactivate()

    return Adapter()


def test_engines_are_built_and_recorded(built, trt_ready):
    from frozenseg_runtime.backends.tensorrt.engine_index import find_engine
    from frozenseg_runtime.backends.tensorrt.engine_metadata import (
        check_engine_compatible,
        read_metadata,
    )
    from frozenseg_runtime.manifest import sha256_file

    folder, messages = built
    trt, device = trt_ready
    for precision in ("fp32", "fp16"):
        manifest = load_manifest(folder).with_precision(precision)
        for name, spec in manifest.graphs.items():
            entry = find_engine(folder, name, spec.precision)
            meta = read_metadata(folder / "engines" / entry.metadata)
            check_engine_compatible(meta, trt.__version__, device.name, device.compute_capability, spec.sha256)
            assert sha256_file(folder / "engines" / entry.engine) == meta.engine_sha256
    assert (folder / "engines" / "timing.cache").stat().st_size > 0
    assert sum("wrote" in m for m in messages) == 8


def test_second_build_is_skipped(built):
    from frozenseg_export.tensorrt.builder import BuildOptions, build_engines

    folder, _ = built
    engine = folder / "engines" / "decoder.fp32.engine"
    before = engine.stat().st_mtime_ns
    messages: list[str] = []
    build_engines(folder, BuildOptions(precision="fp32", workspace_mib=2048), say=messages.append)
    assert sum("up to date" in m for m in messages) == 4
    assert engine.stat().st_mtime_ns == before


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("graph", graphs.GRAPHS)
def test_engine_matches_onnxruntime(built, graph, precision):
    from polygraphy.comparator import Comparator, CompareFunc

    from frozenseg_runtime.backends.onnxruntime_runner import OnnxRuntimeRunner

    folder, _ = built
    manifest = load_manifest(folder).with_precision(precision)
    spec = manifest.graphs[graph]
    ort = _polygraphy(OnnxRuntimeRunner(manifest.graph_path(graph), spec, "onnxruntime-cpu"), "onnxruntime-cpu")
    trt = _polygraphy(_runner(folder, graph, precision), "tensorrt")
    results = Comparator.run([ort, trt], data_loader=_feeds(folder, graph))
    reference = results[0][1]
    atol = {
        t.name: PROBABILITY_BARS[precision] if t.name == "class_probs"
        else RELATIVE_BARS[precision] * max(float(np.abs(np.asarray(r[t.name])).max()) for r in reference)
        for t in spec.outputs
    }
    accuracy = Comparator.compare_accuracy(results, compare_func=CompareFunc.simple(atol=atol, rtol=0.0))
    assert bool(accuracy), f"{graph} ({precision}): TensorRT differs from ONNX Runtime beyond {atol}"


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_segmenter_runs_on_tensorrt(built, sample_image, precision):
    from frozenseg_runtime.segmenter import Segmenter

    folder, _ = built
    manifest = load_manifest(folder).with_precision(precision)
    vocabulary = "person,sky,tree,car,grass,dog,wall"
    with Segmenter.open(manifest, backend="tensorrt", cache_dir="") as trt_seg, \
            Segmenter.open(manifest, backend="onnxruntime-cpu", cache_dir="") as ort_seg:
        assert trt_seg.backend == "tensorrt" and trt_seg.max_classes is not None
        trt_seg.set_vocabulary(vocabulary)
        ort_seg.set_vocabulary(vocabulary)
        ours = trt_seg.segment(sample_image, task="semantic")
        reference = ort_seg.segment(sample_image, task="semantic")
        assert ours.semantic_labels.shape == sample_image.shape[:2]
        agreement = float((ours.semantic_labels == reference.semantic_labels).mean())
        assert agreement >= LABEL_AGREEMENT[precision], agreement
        panoptic = trt_seg.segment(sample_image, task="panoptic")
        assert panoptic.panoptic_seg.shape == sample_image.shape[:2]


def test_cuda_graph_replays_the_same_results(built):
    folder, _ = built
    feed = _feeds(folder, graphs.SAM_IMAGE)[0]
    with _runner(folder, graphs.SAM_IMAGE, "fp32") as plain:
        expected = plain.infer(feed)["sam_embedding"]
    with _runner(folder, graphs.SAM_IMAGE, "fp32", cuda_graph=True) as graphed:
        first = graphed.infer(feed)["sam_embedding"]  # plain run, then capture
        second = graphed.infer(feed)["sam_embedding"]  # replay
        assert graphed._session.schedule.cuda_graph and len(graphed._session.graphs) == 1
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(second, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("graph", [graphs.CLIP_IMAGE, graphs.CLIP_TEXT])
def test_cuda_graphs_on_changing_shapes_match_plain_runs(built, graph):
    """Shapes A, B, A, B: each shape replays on its own context (NVIDIA: a graph is valid only for
    the shapes it was captured with) and every answer equals the plain run's."""
    folder, _ = built
    feeds = _feeds(folder, graph)
    with _runner(folder, graph, "fp32", arena=None) as plain:
        expected = [plain.infer(f) for f in feeds]
    with _runner(folder, graph, "fp32", arena=None, cuda_graph=True) as graphed:
        for _ in range(2):
            for feed, want in zip(feeds, expected):
                got = graphed.infer(feed)
                for name in want:
                    np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-5)
        session = graphed._session
        assert len(session.contexts) == 2 and len(session.graphs) == 2


def test_memory_is_sized_for_the_shapes_run(built):
    """A small decoder call holds far less than the profile max (I/O, and activations where
    TensorRT can resize them), and a larger call grows it."""
    folder, _ = built
    small, large = _feeds(folder, graphs.DECODER)
    with _runner(folder, graphs.DECODER, "fp32", arena=None) as decoder:
        decoder.infer(small)
        first = decoder.device_memory()
        decoder.infer(large)
        second = decoder.device_memory()
        engine_max = decoder._session.loaded.engine.device_memory_size_v2
    assert 0 < first["io"] <= second["io"]
    assert first["activations"] <= second["activations"] <= engine_max


def test_sequential_graphs_share_one_activation_buffer(built):
    from frozenseg_runtime.backends.tensorrt.arena import ActivationArena, engine_device_memory

    folder, _ = built
    text_feed, decoder_feed = _feeds(folder, graphs.CLIP_TEXT)[0], _feeds(folder, graphs.DECODER)[0]
    with _runner(folder, graphs.CLIP_TEXT, "fp32", arena=None) as text, \
            _runner(folder, graphs.DECODER, "fp32", arena=None) as decoder:
        expected = text.infer(text_feed), decoder.infer(decoder_feed)
    arena = ActivationArena("test")
    with _runner(folder, graphs.CLIP_TEXT, "fp32", arena=arena) as text, \
            _runner(folder, graphs.DECODER, "fp32", arena=arena) as decoder:
        sizes = [engine_device_memory(r._session.loaded.engine) for r in (text, decoder)]
        got = text.infer(text_feed), decoder.infer(decoder_feed)
        assert arena.members == 2 and 0 < arena.nbytes <= max(sizes)
    assert arena.members == 0 and arena.nbytes == 0  # freed with the last member
    for want, have in zip(expected, got):
        for name in want:
            np.testing.assert_allclose(have[name], want[name], rtol=1e-5, atol=1e-5)


def test_out_of_profile_feed_is_an_input_error(built):
    from frozenseg_runtime.errors import InputError

    folder, _ = built
    with _runner(folder, graphs.CLIP_IMAGE, "fp32") as runner:
        with pytest.raises(InputError, match="outside the engine's profile"):
            runner.infer({"image": np.zeros((1, 3, 320, 1376), np.float32)})


def test_engine_from_another_tensorrt_is_refused(built, tmp_path, clone_artifacts):
    from frozenseg_runtime.backends.tensorrt.engine_metadata import EngineMismatchError

    folder, _ = built
    copy = clone_artifacts(folder, tmp_path / "art")
    shutil.copytree(folder / "engines", copy / "engines")
    sidecar = copy / "engines" / "decoder.fp32.engine.json"
    data = json.loads(sidecar.read_text())
    data["tensorrt_version"] = "0.0.0.0"
    sidecar.write_text(json.dumps(data))
    runner = _runner(copy, graphs.DECODER, "fp32")  # the ONNX digest still matches
    with pytest.raises(EngineMismatchError, match="built with TensorRT 0.0.0.0") as info:
        runner.activate()
    assert f"frozenseg-deploy build --artifacts {copy} --precision fp32 --graphs decoder --force" in str(info.value)
