"""The openvino-cpu backend on the tiny export, with default and with stress weights: ONNX
Runtime's tensors on the same feeds (within the parity bars export recorded in the manifest, and
finite), `check`'s floor-based bars met, a bounded and reused cache of
compiled shapes, typed feed errors, `auto`'s choices, and the runtime precision bf16: refused on a
CPU without native bfloat16, run and checked on one that has it. Skipped only where OpenVINO is
not installed (the README's test command installs it)."""

from __future__ import annotations

import numpy as np
import pytest

from required import require_openvino  # noqa: E402

require_openvino()

from frozenseg_export.check.run import CheckOptions, run_check  # noqa: E402
from frozenseg_export.check.tensors import graph_of, judged_error  # noqa: E402
from frozenseg_export.cli import main  # noqa: E402
from frozenseg_export.nonfinite import nonfinite_where_finite  # noqa: E402
from frozenseg_export.synthetic_images import edge_images, structured_images  # noqa: E402
from frozenseg_runtime import graphs  # noqa: E402
from frozenseg_runtime.backends import cpu_features  # noqa: E402
from frozenseg_runtime.backends.factory import make_runner, open_runners, resolve_backend  # noqa: E402
from frozenseg_runtime.backends.openvino_runner import (  # noqa: E402
    MAX_SHAPES,
    OpenVinoRunner,
    compiled_cache_folder,
)
from frozenseg_runtime.errors import BackendError, InputError, PrecisionUnavailableError  # noqa: E402
from frozenseg_runtime.manifest import load_manifest  # noqa: E402
from frozenseg_runtime.segmenter import Segmenter  # noqa: E402
from frozenseg_runtime.text.cache import MEMORY_ONLY, default_cache_dir  # noqa: E402

VOCABULARY = "person,sky,tree,grass,dog,car"
HAS_BF16 = cpu_features.has_native_bf16()
NO_BF16_REASON = (f"this CPU lacks native bfloat16 ({' and '.join(cpu_features.BF16_FLAGS)} absent from "
                  f"{cpu_features.CPUINFO}'s flags): bf16 is refused here, which the tests above check")


def _images(count: int = 2) -> list[np.ndarray]:
    return structured_images(count, seed=21)


def _recorded_bars(manifest) -> dict[str, float]:
    """Each graph output's parity bar as export recorded it in the manifest (the float32 floor of
    PyTorch against float64, times FLOOR_MULTIPLE, plus the allowance; the loosest of its feeds),
    keyed `graph/output`. Both backends run the same FP32 graphs on the same feeds, so they may
    differ by what float32 arithmetic costs, and no more: a wrong graph or a silently lowered
    precision (bf16, 2^-8) lands far outside. The text encoder's bar serves the vocabulary's
    embeddings, which are its features averaged over prompts and normalised."""
    bars = {}
    for graph, entry in manifest.raw["graphs"].items():
        for parity in entry["parity_onnxruntime_cpu"]:
            bar = max(feed["bar"] for feed in parity["per_feed"])
            output = "text_embeddings" if graph == graphs.CLIP_TEXT else parity["output"]
            bars[f"{graph}/{output}"] = bar
    return bars


def _graph_outputs(seg: Segmenter, image: np.ndarray, decoder_inputs: tuple | None = None
                   ) -> tuple[dict[str, np.ndarray], tuple]:
    """Every graph's outputs on one image and VOCABULARY through the Segmenter's stages, as
    `graph/output`; the decoder runs on `decoder_inputs` (features, vocabulary state) when given,
    so that two backends' decoders see the same feed. Returns the outputs and its own inputs."""
    state = seg.encode_vocabulary(VOCABULARY)
    features = seg.encode_image(seg.prepare(image))
    raw = seg.decode(*(decoder_inputs or (features, state)))
    outputs = {f"{g}/{n}": features[n] for g in graphs.graphs_of_stage(graphs.STAGE_IMAGE)
               for n in graphs.OUTPUTS[g]}
    outputs[f"{graphs.CLIP_TEXT}/text_embeddings"] = state.text_embeddings
    outputs.update({f"{graphs.DECODER}/{n}": raw[n] for n in graphs.OUTPUTS[graphs.DECODER]})
    return outputs, (features, state)


@pytest.fixture(scope="module", params=["default", "stress"])
def artifacts(request):
    """The tiny export with default synthetic weights, and with the stress weights (confident and
    empty masks, large activations: where graphs break)."""
    return request.getfixturevalue("tiny_artifacts" if request.param == "default" else "tiny_stress_artifacts")[0]


@pytest.fixture(scope="module")
def segmenters(artifacts):
    out = artifacts
    with Segmenter.from_artifacts(out, backend="onnxruntime-cpu", cache_dir=MEMORY_ONLY) as ort, \
            Segmenter.from_artifacts(out, backend="openvino-cpu", cache_dir=MEMORY_ONLY) as ov:
        yield ort, ov


def test_openvino_matches_onnxruntime(segmenters):
    """Each graph on identical feeds; the decoder judged as `check` judges it (its median query's
    largest error: a last-bit difference that crosses a mask threshold steps a whole query). Each
    backend may sit up to the bar from the float64 truth, on opposite sides, so they are held to
    twice it (an AVX-512 host measured 1.25 bars on the decoder's logits; bf16 would be ~100)."""
    ort, ov = segmenters
    bars = _recorded_bars(ort.manifest)
    for image in _images() + edge_images():  # the edge images leave masks empty
        expected, inputs = _graph_outputs(ort, image)
        got, _ = _graph_outputs(ov, image, decoder_inputs=inputs)
        assert set(got) == set(expected) == set(bars)
        for key, want in expected.items():
            assert got[key].dtype == want.dtype and got[key].shape == want.shape, key
            assert nonfinite_where_finite(got[key], want) is None, key  # NaN/Inf where ORT has a number
            error = judged_error(got[key], want, per_query=graph_of(key) == graphs.DECODER)
            assert error <= 2 * bars[key], (key, error, bars[key])


def test_check_passes_openvino_fp32(artifacts, tmp_path):
    """`check` judges the openvino-cpu deployment at FP32 against float64 within the floor, and
    finds no NaN or Inf where the reference has a number."""
    folder = tmp_path / "images"
    folder.mkdir()
    from PIL import Image

    for i, image in enumerate(_images(1)):
        Image.fromarray(image).save(folder / f"photo{i}.png")
    outcome = run_check(CheckOptions(artifacts=str(artifacts), images=(str(folder),),
                                     backend="openvino-cpu", vocabulary=VOCABULARY,
                                     reference_cache=str(tmp_path / "reference"),
                                     tasks=("semantic", "panoptic")),
                        say=lambda _: None)
    assert outcome.report["settings"]["backend"] == "openvino-cpu"
    assert outcome.passed, outcome.failures()
    nonfinite = next(v for v in outcome.verdicts if v.metric == "tensor.nonfinite")
    assert nonfinite.value == 0 and nonfinite.passed
    metrics = {v.metric for v in outcome.verdicts}
    assert {"tensor.floor_margin", "semantic.label_agreement", "panoptic.pq"} <= metrics


def test_compiled_shapes_are_bounded_and_reused(tiny_artifacts):
    manifest = load_manifest(tiny_artifacts[0])
    spec = manifest.graphs[graphs.CLIP_TEXT]
    assert OpenVinoRunner(manifest.graph_path(graphs.CLIP_TEXT), spec).max_shapes == MAX_SHAPES
    runner = OpenVinoRunner(manifest.graph_path(graphs.CLIP_TEXT), spec, cache_dir=MEMORY_ONLY, max_shapes=2)
    tokens = {n: np.full((n, 6), 320, np.int64) for n in (1, 2, 3)}
    with runner:
        session = runner.session
        runner.infer({"tokens": tokens[1]})
        runner.infer({"tokens": tokens[2]})
        runner.infer({"tokens": tokens[1]})  # seen: reused, and now the newest
        assert session.compiles == 2
        runner.infer({"tokens": tokens[3]})  # a third shape: the oldest (batch 2) goes
        assert session.compiles == 3
        assert session.shapes == (((1, 6),), ((3, 6),))
        runner.infer({"tokens": tokens[1]})
        assert session.compiles == 3
        runner.infer({"tokens": tokens[2]})  # evicted: compiled again
        assert session.compiles == 4 and len(session.shapes) == 2


def test_threads_share_a_runner(tiny_artifacts):
    """One runner called from several threads at once, on two shapes: each call gets its own
    answer (a request per call), and each shape is compiled once (the cache's lock)."""
    from concurrent.futures import ThreadPoolExecutor

    manifest = load_manifest(tiny_artifacts[0])
    feeds = [{"tokens": np.full((n, 6), 320 + n, np.int64)} for n in (1, 2)] * 4
    with OpenVinoRunner(manifest.graph_path(graphs.CLIP_TEXT), manifest.graphs[graphs.CLIP_TEXT],
                        cache_dir=MEMORY_ONLY) as runner:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(runner.infer, feeds))
        assert runner.session.compiles == 2
        for feed, result in zip(feeds, results):
            np.testing.assert_array_equal(result["text_features"], runner.infer(feed)["text_features"])


def test_settings_reach_openvino(tiny_artifacts, tmp_path):
    """Threads, the performance hint and FP32 are set on every compiled model (never OpenVINO's
    defaults: its CPU plugin would pick bf16 on a CPU that has it), and compiled blobs go to the
    cache option's openvino/ folder, or nowhere in memory-only mode."""
    import openvino as ov

    manifest = load_manifest(tiny_artifacts[0])
    spec = manifest.graphs[graphs.CLIP_TEXT]
    feed = {"tokens": np.full((2, 5), 320, np.int64)}
    with OpenVinoRunner(manifest.graph_path(graphs.CLIP_TEXT), spec, threads=1, cache_dir=tmp_path) as runner:
        runner.infer(feed)
        compiled = runner.session.compiled(((2, 5),))
        assert compiled.get_property("INFERENCE_NUM_THREADS") == 1
        assert str(compiled.get_property("PERFORMANCE_HINT")) == "LATENCY"
        assert compiled.get_property("INFERENCE_PRECISION_HINT") == ov.Type.f32
    assert any((tmp_path / "openvino").iterdir())
    assert compiled_cache_folder(MEMORY_ONLY) is None
    assert compiled_cache_folder(None) == default_cache_dir().parent / "openvino"


def test_feed_errors_are_typed(tiny_artifacts):
    manifest = load_manifest(tiny_artifacts[0])
    runner = make_runner(manifest.graph_path(graphs.CLIP_IMAGE), manifest.graphs[graphs.CLIP_IMAGE],
                         "openvino-cpu", cache_dir=MEMORY_ONLY)
    with pytest.raises(RuntimeError, match="activate"):
        runner.infer({"image": np.zeros((1, 3, 320, 320), np.float32)})
    with runner:
        with pytest.raises(InputError, match="missing input 'image'"):
            runner.infer({"pixels": np.zeros((1, 3, 320, 320), np.float32)})
        with pytest.raises(InputError, match="must be float32, got float64"):
            runner.infer({"image": np.zeros((1, 3, 320, 320))})
        with pytest.raises(InputError, match="must have shape"):
            runner.infer({"image": np.zeros((3, 320, 320), np.float32)})
        assert runner.session.compiles == 0  # refused before OpenVINO saw them


def test_auto_picks_openvino_on_a_cpu():
    import onnxruntime

    if {"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(onnxruntime.get_available_providers()):
        pytest.skip("ONNX Runtime has a GPU provider here: auto prefers it")
    assert resolve_backend("auto") == "openvino-cpu"
    assert resolve_backend("auto", among=("auto", "onnxruntime-cpu", "tensorrt")) == "onnxruntime-cpu"


def test_auto_follows_the_manifests_choice(tiny_artifacts):
    """`auto`'s order and its FP32-only backends are the manifest's runtime.backend_choice (the
    C++ library reads the same record), written from AUTO_ORDER and FP32_FILES_ONLY and checked
    when the manifest is loaded, as the C++ library checks it."""
    import copy

    import onnxruntime

    from frozenseg_runtime.backends.names import AUTO_ORDER, FP32_FILES_ONLY, BackendChoice
    from frozenseg_runtime.errors import ManifestError
    from frozenseg_runtime.manifest import validate_manifest

    if {"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(onnxruntime.get_available_providers()):
        pytest.skip("ONNX Runtime has a GPU provider here: auto prefers it")
    manifest = load_manifest(tiny_artifacts[0])
    assert manifest.raw["runtime"]["backend_choice"] == {"auto_order": list(AUTO_ORDER),
                                                         "fp32_files_only": list(FP32_FILES_ONLY)}
    raw = copy.deepcopy(manifest.raw)
    raw["runtime"]["backend_choice"]["auto_order"] = ["onnxruntime-cpu", "openvino-cpu"]
    opened = open_runners(validate_manifest(raw, manifest.root), "auto")
    try:
        assert opened.backend == "onnxruntime-cpu"
    finally:
        opened.close()
    del raw["runtime"]["backend_choice"]  # written before stop 31: the order of that time
    assert validate_manifest(raw, manifest.root).backend_choice == BackendChoice(
        ("onnxruntime-trt", "onnxruntime-cuda", "openvino-cpu", "onnxruntime-cpu"), ("openvino-cpu",))
    # Refused as the C++ reader refuses (test_core_manifest.cpp, Manifest.AutosChoiceIsTheManifests).
    refusals = [({"auto_order": ["onnxruntime-cpu", name], "fp32_files_only": []},
                 f"names backend '{name}', which auto may not pick") for name in ("onnxruntime-gpu", "tensorrt", "auto")]
    refusals += [({"auto_order": [], "fp32_files_only": []}, "auto_order is empty"),
                 ({"auto_order": ["onnxruntime-cpu"]}, "fp32_files_only must be a list of backend names"),
                 (None, "auto_order must be a list of backend names"),
                 ({"auto_order": ["onnxruntime-cpu", 3], "fp32_files_only": []}, "auto_order must be a list")]
    for record, message in refusals:
        raw["runtime"]["backend_choice"] = record
        with pytest.raises(ManifestError, match="manifest runtime.backend_choice.*" + message):
            validate_manifest(raw, manifest.root)


def test_auto_gives_lowered_graphs_to_openvino_as_the_manifest_records(tiny_artifacts):
    """Since stop 33 OpenVINO runs quantize's files (the INT8 ones as INT8), so a manifest that
    records no FP32-only backend gets openvino-cpu for lowered graphs; one written before stop 31
    (no record: the rule of that time) keeps them on ONNX Runtime. The FP32 files relabelled stand
    in for a `quantize` output: what is chosen depends on the labels and the record only."""
    import copy
    import dataclasses

    import onnxruntime

    from frozenseg_runtime.backends.names import parse_backend_choice

    if {"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(onnxruntime.get_available_providers()):
        pytest.skip("ONNX Runtime has a GPU provider here: auto prefers it")
    manifest = load_manifest(tiny_artifacts[0])
    assert manifest.raw["runtime"]["backend_choice"]["fp32_files_only"] == []
    lowered = dataclasses.replace(manifest, graphs={
        n: dataclasses.replace(s, precision="int8" if n == graphs.SAM_IMAGE else "fp16")
        for n, s in manifest.graphs.items()})
    unrecorded = copy.deepcopy(manifest.raw)
    del unrecorded["runtime"]["backend_choice"]
    cases = ((lowered, "openvino-cpu"),
             (dataclasses.replace(lowered, raw=unrecorded,
                                  backend_choice=parse_backend_choice(unrecorded["runtime"])), "onnxruntime-cpu"))
    for case, expected in cases:
        opened = open_runners(case, "auto")
        try:
            assert opened.backend == expected
        finally:
            opened.close()


# -- bf16 ------------------------------------------------------------------------------------------
def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\n"
                       "flags\t\t: fpu\n")
    assert cpu_features.cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_features.cpu_flags(tmp_path / "absent") == frozenset()


@pytest.mark.parametrize("backend", ["openvino-cpu", "auto"])
def test_bf16_is_refused_on_a_cpu_without_it(tiny_artifacts, monkeypatch, backend):
    monkeypatch.setattr(cpu_features, "cpu_flags", lambda path=cpu_features.CPUINFO: frozenset({"avx2", "fma"}))
    with pytest.raises(PrecisionUnavailableError, match="avx512_bf16 or amx_bf16") as caught:
        Segmenter.from_artifacts(tiny_artifacts[0], backend=backend, precision="bf16", cache_dir=MEMORY_ONLY)
    assert isinstance(caught.value, BackendError) and caught.value.exit_code == 4
    assert "clip_image" in str(caught.value) and "not emulated" in str(caught.value)


def test_bf16_is_refused_on_other_backends(tiny_artifacts, monkeypatch):
    monkeypatch.setattr(cpu_features, "cpu_flags", lambda path=cpu_features.CPUINFO: frozenset({"avx512_bf16"}))
    with pytest.raises(PrecisionUnavailableError, match="runs on openvino-cpu only, not onnxruntime-cpu"):
        Segmenter.from_artifacts(tiny_artifacts[0], backend="onnxruntime-cpu", precision="bf16")


def test_bf16_marks_only_the_image_encoders(tiny_artifacts):
    manifest = load_manifest(tiny_artifacts[0])
    bf16 = manifest.with_precision("bf16")
    assert {n: s.compute_precision for n, s in bf16.graphs.items()} == {
        graphs.CLIP_IMAGE: "bf16", graphs.SAM_IMAGE: "bf16", graphs.CLIP_TEXT: None, graphs.DECODER: None}
    assert all(bf16.graphs[n].file == manifest.graphs[n].file for n in graphs.GRAPHS)  # the FP32 files


def _openvino_compiles_bf16_here() -> bool:
    """Whether OpenVINO's CPU plugin, asked for bf16, compiles bf16 on this CPU: natively with
    AVX512-BF16 or AMX, emulated on other AVX-512 CPUs, and not at all (f32, without a word) on
    AVX2 ones."""
    import openvino as ov

    parameter = ov.opset13.parameter([1, 4], ov.Type.f32)
    model = ov.Model([ov.opset13.relu(parameter)], [parameter])
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "bf16"})
    return compiled.get_property("INFERENCE_PRECISION_HINT") == ov.Type.bf16


@pytest.mark.skipif(HAS_BF16, reason="this CPU has native bfloat16: nothing to refuse")
def test_bf16_without_native_bfloat16_is_refused_whatever_openvino_does(tiny_artifacts, monkeypatch):
    """On a CPU without native bfloat16, OpenVINO asked for bf16 either compiles f32 without a word
    (AVX2) or emulates bf16 (AVX-512). The runtime never runs either: the CPU flags refuse it before
    OpenVINO is asked, and where OpenVINO falls back, the compiled model's precision, read back,
    refuses it even with the flag check fooled."""
    manifest = load_manifest(tiny_artifacts[0]).with_precision("bf16")
    spec = manifest.graphs[graphs.CLIP_IMAGE]
    with pytest.raises(PrecisionUnavailableError, match="avx512_bf16"):
        make_runner(manifest.graph_path(graphs.CLIP_IMAGE), spec, "openvino-cpu", cache_dir=MEMORY_ONLY).activate()
    if _openvino_compiles_bf16_here():
        return  # emulated bf16: the flags are the guard, checked above
    monkeypatch.setattr(cpu_features, "cpu_flags", lambda path=cpu_features.CPUINFO: frozenset({"avx512_bf16"}))
    with make_runner(manifest.graph_path(graphs.CLIP_IMAGE), spec, "openvino-cpu", cache_dir=MEMORY_ONLY) as runner:
        with pytest.raises(PrecisionUnavailableError, match="asked to compute in bf16 but compiled for"):
            runner.infer({"image": np.zeros((1, 3, 320, 320), np.float32)})


def test_bf16_refusals_on_the_command_line(tiny_artifacts, tmp_path, capsys):
    images = tmp_path / "a.png"
    from PIL import Image

    Image.fromarray(_images(1)[0]).save(images)
    argv = ["check", "--artifacts", str(tiny_artifacts[0]), "--images", str(images), "--precision", "bf16",
            "--runtime", "cpp", "--reference-cache", ""]
    assert main(argv) == 2  # bf16 is the Python runtime's: refused before anything loads
    assert "runs in the Python runtime only" in capsys.readouterr().err
    if not HAS_BF16:
        assert main(["segment", str(images), "--artifacts", str(tiny_artifacts[0]), "--vocabulary", "cat",
                     "--precision", "bf16", "--no-cache", "--out", str(tmp_path / "out")]) == 4
        assert "avx512_bf16" in capsys.readouterr().err


@pytest.mark.skipif(not HAS_BF16, reason=NO_BF16_REASON)
def test_bf16_runs_and_check_passes_it(tiny_artifacts, tmp_path):
    import openvino as ov

    manifest = load_manifest(tiny_artifacts[0]).with_precision("bf16")
    with Segmenter.open(manifest, backend="auto", cache_dir=MEMORY_ONLY) as seg:
        assert seg.backend == "openvino-cpu"
        seg.set_vocabulary(VOCABULARY)
        seg.segment(_images(1)[0], task="semantic")
        for name in graphs.GRAPHS:
            session = seg._runners[name].session  # type: ignore[attr-defined]
            compiled_model = session.compiled(session.shapes[-1])
            want = ov.Type.bf16 if name in graphs.BF16_GRAPHS else ov.Type.f32
            assert compiled_model.get_property("INFERENCE_PRECISION_HINT") == want, name
    folder = tmp_path / "images"
    folder.mkdir()
    from PIL import Image

    for i, image in enumerate(_images()):
        Image.fromarray(image).save(folder / f"photo{i}.png")
    outcome = run_check(CheckOptions(artifacts=str(tiny_artifacts[0]), images=(str(folder),),
                                     backend="openvino-cpu", precision="bf16", vocabulary=VOCABULARY,
                                     reference_cache=str(tmp_path / "reference")), say=lambda _: None)
    assert outcome.passed, outcome.failures()
    label = next(v for v in outcome.verdicts if v.metric == "semantic.label_agreement")
    assert "built-in default 0.995" in label.source  # FP16's bar, relaxed by the floor
