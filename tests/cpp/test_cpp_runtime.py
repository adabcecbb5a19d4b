"""The C++ runtime against the Python one, on the tiny preset's artifacts: the same files from
`frozenseg-segment` as from `frozenseg-deploy segment`, the same tokens on every shipped vocabulary,
and the C ABI's artifact-dependent GoogleTests run on a real export.

The C++ build comes from README's test command (`cmake --build build`); FS_CPP_BUILD names another
build folder. Without a build these tests skip, unless FS_CPP_REQUIRED=1 (CI) makes that a failure.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from required import require_cpp_library

from frozenseg_export.cli import main
from frozenseg_runtime.text.tokenizer import ClipTokenizer

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("FS_CPP_BUILD", ROOT / "build"))
ASAN_BUILD = Path(os.environ.get("FS_CPP_ASAN_BUILD", ROOT / "build-asan"))  # -DFROZENSEG_SANITIZE=ON
SHARED_VOCABULARIES = Path(os.environ.get("FS_SHARED_VOCABULARIES", ROOT.parent / "shared" / "vocabularies"))
VOCABULARY = "person,sky,tree,car,grass,road,dog,wall"


def _tool(name: str, build: Path = BUILD) -> Path:
    path = build / name
    if not path.is_file():
        message = f"{path} is not built (README's test command builds it: cmake --build build)"
        if os.environ.get("FS_CPP_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    from frozenseg_export.synthetic_images import structured_images

    folder = tmp_path_factory.mktemp("cpp-images")
    paths = []
    for i, image in enumerate(structured_images(1, seed=21)):
        paths.append(folder / f"image{i}.png")
        Image.fromarray(image).save(paths[-1])
    paths.append(ROOT / "samples" / "astronaut.jpg")
    return paths


def _run_both(task, artifacts, images, tmp_path, extra=(), backend="onnxruntime-cpu"):
    tool = _tool("frozenseg-segment")
    py_out, cpp_out = tmp_path / "python", tmp_path / "cpp"
    common = ["--artifacts", str(artifacts), "--vocabulary", VOCABULARY, "--task", task,
              "--backend", backend, "--no-cache", *extra]
    assert main(["segment", *map(str, images), *common, "--out", str(py_out)]) == 0
    done = subprocess.run([str(tool), *map(str, images), *common, "--out", str(cpp_out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"[{len(images)}/{len(images)}]" in done.stderr
    return py_out, cpp_out


def _python_onnxruntime() -> tuple[int, int]:
    import onnxruntime

    major, minor = onnxruntime.__version__.split(".")[:2]
    return int(major), int(minor)


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _same_onnxruntime(backend: str) -> bool:
    """Whether both runtimes run the graphs with the same library and version: OpenVINO is pinned
    to one version for both (constraints.txt, scripts/fetch_openvino_sdk.sh); ONNX Runtime is 1.29
    in C++ and the Python wheel's version in Python."""
    return backend == "openvino-cpu" or _python_onnxruntime() >= (1, 29)


def _require_openvino_build(backend: str) -> None:
    """openvino-cpu needs a C++ build with OpenVINO (README's test command fetches its SDK)."""
    if backend == "openvino-cpu":
        require_cpp_library(_tool("libfrozenseg.so"), backend)


@dataclass(frozen=True)
class ScoreBars:
    """How far two correct float32 runtimes' scores may lie apart (see _score_bars)."""

    panoptic: float  # segment scores: class scores
    instance: float  # class score x mask score, over the same mask in both


def _score_bars(artifacts: Path, images: list[Path], resize: tuple[int, int] | None | str = "default",
                train_vocabulary: str | None = None) -> ScoreBars:
    """The bars from the float32 floor as export and `check` judge it: each runtime is within
    floor_multiple x floor (+ the relative allowance) of the float64 reference, so two of them are within
    twice that. The floor is the reference's own float32 run against its float64 run on these images, over
    every (query, class) pair: of the official class scores (panoptic), and of class score x mask score,
    both precisions' mask scores taken over the float64 mask (instance; a mask that flips pixels between
    the runtimes is allowed for apart, in _assert_instance_scores_agree).

    Kept beside the artifacts keyed by their content, so the torch-free Python 3.10 leg
    (scripts/ci_jetson.sh), which cannot run the reference, reads what the main suite computed."""
    record = {"export_key": json.loads((artifacts / "manifest.json").read_text())["export_key"],
              "images": [_image_key(i) for i in images],
              "resize": resize, "train": train_vocabulary, "vocabulary": VOCABULARY}
    key = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    store = artifacts.parent / "test_score_bars.json"
    kept = json.loads(store.read_text()) if store.is_file() else {}
    if key in kept:
        return ScoreBars(**kept[key])
    try:
        import torch  # noqa: F401  (the reference)
    except ImportError:
        message = (f"no score bars for these images in {store}, and no torch here to compute them: run "
                   f"tests/cpp/test_cpp_runtime.py with torch on {artifacts} first (README's test command does)")
        if os.environ.get("FS_CPP_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    bars = _compute_score_bars(artifacts, images, resize, train_vocabulary)
    from frozenseg_runtime.atomic import write_bytes_atomic

    kept = json.loads(store.read_text()) if store.is_file() else {}
    kept[key] = {"panoptic": bars.panoptic, "instance": bars.instance}
    write_bytes_atomic(store, json.dumps(kept, indent=1, sort_keys=True).encode())
    return bars


def _image_key(path: Path) -> str:
    """A PNG by its pixels (each Pillow version writes the fixture's PNG bytes its own way), any other
    file by its bytes (the same file in every leg)."""
    if path.suffix.lower() == ".png":
        pixels = np.asarray(Image.open(path))
        return hashlib.sha256(repr(pixels.shape).encode() + pixels.tobytes()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _compute_score_bars(artifacts: Path, images: list[Path], resize: tuple[int, int] | None | str,
                        train_vocabulary: str | None) -> ScoreBars:
    from frozenseg_export.check.inputs import check_inputs
    from frozenseg_export.check.reference import ReferenceCache, reference_tensors
    from frozenseg_runtime import graphs
    from frozenseg_runtime.image.loading import load_image
    from frozenseg_runtime.image.preprocess import PreprocessConstants, preprocess
    from frozenseg_runtime.output.class_scores import official_class_scores, sigmoid
    from frozenseg_runtime.output.mask_resize import ResizedRows
    from frozenseg_runtime.output.result import InferenceConstants
    from frozenseg_runtime.text.vocabulary import parse_vocabulary

    inputs = check_inputs(artifacts, "fp32", [str(i) for i in images], VOCABULARY, None, None, None, ("instance",))
    manifest = inputs.manifest
    train = parse_vocabulary(train_vocabulary) if train_vocabulary else inputs.train_vocabulary
    prepared = [preprocess(load_image(i.path), PreprocessConstants.from_record(manifest.constants["preprocessing"]),
                           resize) for i in inputs.images]
    loaders, _ = reference_tensors(manifest, None, prepared, [i.digest for i in inputs.images],
                                   inputs.vocabulary, train, ReferenceCache(None), lambda _: None)
    inference = InferenceConstants.from_record(manifest.constants["inference"])
    floors = {"panoptic": [0.0, 0.0], "instance": [0.0, 0.0]}  # [max |float32 - float64|, max |float64|]
    for prep, load in zip(prepared, loaders):
        ref = load()
        raw = {p: {n: getattr(ref, p)[f"{graphs.DECODER}/{n}"].astype(np.float32) for n in ("class_probs", "pred_masks")}
               for p in ("float32", "float64")}
        rows = {p: ResizedRows(raw[p]["pred_masks"], prep.padded_size, prep.image_size, prep.output_size)
                for p in raw}
        height = prep.output_size[0]
        class_scores = {p: official_class_scores(raw[p]["class_probs"], inference.log_eps)[:, :-1].astype(np.float64)
                        for p in raw}
        mask_scores = {p: np.empty(raw[p]["pred_masks"].shape[0]) for p in raw}
        for q in range(raw["float64"]["pred_masks"].shape[0]):
            mask = rows["float64"].rows(q, 0, height) > 0
            for p in raw:
                mask_scores[p][q] = (sigmoid(rows[p].rows(q, 0, height))[mask].sum(dtype=np.float64)
                                     / (mask.sum() + inference.instance_score_eps))
        matrices = {"panoptic": class_scores,
                    "instance": {p: class_scores[p] * mask_scores[p][:, None] for p in raw}}
        for task, m in matrices.items():
            floors[task][0] = max(floors[task][0], float(np.abs(m["float32"] - m["float64"]).max()))
            floors[task][1] = max(floors[task][1], float(np.abs(m["float64"]).max()))
    rule = manifest.raw["noise_floor"]
    multiple, allowance = float(rule["floor_multiple"]), float(rule["relative_allowance"])
    return ScoreBars(**{task: 2 * (multiple * floor + allowance * scale) for task, (floor, scale) in floors.items()})


def _assert_instance_scores_agree(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray], bar: float) -> None:
    """Instance scores within the float32 floor's bar (_score_bars), except where a mask pixel flipped (a logit
    within rounding of 0; the callers bound how many): a score is class score x the mean sigmoid over its mask,
    so f flipped pixels of a mask of n move it by at most f / n more."""
    count = ours["scores"].shape[0]
    assert ours["masks"].shape == theirs["masks"].shape and ours["masks"].shape[0] == count
    flipped = (ours["masks"] != theirs["masks"]).sum(axis=(1, 2))
    pixels = np.minimum(ours["masks"].sum(axis=(1, 2)), theirs["masks"].sum(axis=(1, 2)))
    allowed = bar + flipped / np.maximum(pixels, 1)
    apart = np.abs(ours["scores"].astype(np.float64) - theirs["scores"])
    worst = int(np.argmax(apart - allowed)) if count else 0
    assert np.all(apart <= allowed), (f"instance {worst}: scores {ours['scores'][worst]} and {theirs['scores'][worst]} "
                                      f"lie {apart[worst]:.3g} apart, allowed {allowed[worst]:.3g} (bar {bar:.3g}, "
                                      f"{flipped[worst]} of {pixels[worst]} mask pixels flipped)")


@pytest.mark.parametrize("backend", ["onnxruntime-cpu", "openvino-cpu"])
@pytest.mark.parametrize("task", ["semantic", "panoptic", "instance"])
def test_cpp_segment_writes_what_python_writes(task, backend, tiny_artifacts, images, tmp_path):
    """Both runtimes on one backend write the same files. On openvino-cpu both run OpenVINO
    2026.4.1's CPU plugin with the same properties (f32, LATENCY, one compiled model per shape)."""
    _require_openvino_build(backend)
    py_out, cpp_out = _run_both(task, tiny_artifacts[0], images, tmp_path, backend=backend)
    assert sorted(p.name for p in cpp_out.iterdir()) == sorted(p.name for p in py_out.iterdir())
    bars = functools.cache(lambda: _score_bars(tiny_artifacts[0], images))
    for image in images:
        stem = image.stem
        py_summary = json.loads((py_out / f"{stem}_summary.json").read_text())
        cpp_summary = json.loads((cpp_out / f"{stem}_summary.json").read_text())
        assert cpp_summary.keys() == py_summary.keys()
        # The same stages timed, in the same order (both pick the same encoder schedule here).
        assert list(cpp_summary["timings_s"]) == list(py_summary["timings_s"])
        assert cpp_summary["size"] == py_summary["size"] and cpp_summary["task"] == task
        if task == "semantic":
            ours, theirs = _pixels(cpp_out / f"{stem}_labels.png"), _pixels(py_out / f"{stem}_labels.png")
            if _same_onnxruntime(backend):
                assert np.array_equal(ours, theirs)
            else:
                # ONNX Runtime 1.23 (the last with Python 3.10 wheels: scripts/ci_jetson.sh's leg)
                # rounds the graphs' float32 sums unlike the C++ library's 1.29, and a label within
                # that rounding of a tie flips: judged on the float32 floor there (seen: 1 pixel of
                # 76,800, the same with numpy 1.26 and 2.2; none against 1.29 and later).
                assert ours.shape == theirs.shape and (ours != theirs).mean() <= 1e-4
        elif task == "panoptic":
            assert np.array_equal(_pixels(cpp_out / f"{stem}_panoptic.png"),
                                  _pixels(py_out / f"{stem}_panoptic.png"))
            py_segments = json.loads((py_out / f"{stem}_panoptic.json").read_text())["segments_info"]
            cpp_segments = json.loads((cpp_out / f"{stem}_panoptic.json").read_text())["segments_info"]
            assert [{k: v for k, v in s.items() if k != "score"} for s in cpp_segments] == \
                   [{k: v for k, v in s.items() if k != "score"} for s in py_segments]
            np.testing.assert_allclose([s["score"] for s in cpp_segments],
                                       [s["score"] for s in py_segments], rtol=0, atol=bars().panoptic)
        else:
            with np.load(py_out / f"{stem}_instances.npz") as py, \
                    np.load(cpp_out / f"{stem}_instances.npz") as cpp:
                assert set(cpp.files) == set(py.files)
                assert np.array_equal(cpp["classes"], py["classes"])
                # Scores judged on the float32 floor (_score_bars): on `--synthetic stress` weights ONNX
                # Runtime 1.29 against 1.32 moves them by up to 4.4e-5, more than a fixed 1e-5.
                _assert_instance_scores_agree(cpp, py, bars().instance)
                # Masks are `logits > 0`: the C++ build links ONNX Runtime 1.29, the Python one
                # 1.32, whose kernels round differently, so a logit within that rounding of 0
                # may flip (16 of 9.3 million pixels seen); the post-processing itself is
                # bit-identical on equal logits (runtime/cpp/tests/test_output_postprocess.cpp).
                assert (cpp["masks"] != py["masks"]).mean() <= 1e-5


@pytest.mark.parametrize("extra", [("--resize", "none", "--train-vocabulary", "sky,tree,grass"),
                                   ("--resize", "96,160")], ids=["own-size-and-train-vocabulary", "resize"])
def test_cpp_segment_options_match_python(extra, tiny_artifacts, images, tmp_path):
    """--resize and --train-vocabulary change the answer (checked) the same way in both."""
    py_out, cpp_out = _run_both("instance", tiny_artifacts[0], images, tmp_path, extra)
    default_out = tmp_path / "default"
    assert main(["segment", str(images[-1]), "--artifacts", str(tiny_artifacts[0]), "--vocabulary",
                 VOCABULARY, "--task", "instance", "--backend", "onnxruntime-cpu", "--no-cache",
                 "--out", str(default_out)]) == 0

    def instances(folder: Path, stem: str) -> dict[str, np.ndarray]:
        with np.load(folder / f"{stem}_instances.npz") as data:
            return {name: data[name] for name in data.files}

    stem = images[-1].stem
    changed, default = instances(py_out, stem), instances(default_out, stem)
    resize = ("default" if "--resize" not in extra else
              None if extra[extra.index("--resize") + 1] == "none" else
              tuple(int(v) for v in extra[extra.index("--resize") + 1].split(",")))
    train = extra[extra.index("--train-vocabulary") + 1] if "--train-vocabulary" in extra else None
    # One runtime, one backend, run twice: any difference is the option's (the float32 floor's bar would
    # hide a real change on ill-conditioned weights).
    assert changed["scores"].shape != default["scores"].shape or \
        not np.array_equal(changed["scores"], default["scores"])
    bar = _score_bars(tiny_artifacts[0], images, resize, train).instance
    for image in images:
        ours, theirs = instances(cpp_out, image.stem), instances(py_out, image.stem)
        assert np.array_equal(ours["classes"], theirs["classes"])
        assert ours["masks"].shape == theirs["masks"].shape
        _assert_instance_scores_agree(ours, theirs, bar)
        assert (ours["masks"] != theirs["masks"]).mean() <= 1e-5  # see the instance case above


@pytest.mark.parametrize("bad", [["--resize", "800"], ["--resize", "0,10"], ["--threads", "x"],
                                 ["--max-image-pixels", "-5"]])
def test_cpp_segment_refuses_bad_arguments_like_python(bad, tmp_path):
    done = subprocess.run([str(_tool("frozenseg-segment")), "x.png", "--artifacts", "a", "--vocabulary", "cat",
                           "--out", str(tmp_path), *bad], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"argument {bad[0]}" in done.stderr, done.stderr


def test_cpp_tokenizer_matches_python_on_every_shipped_vocabulary():
    tool = _tool("fs_tokenize")
    if not SHARED_VOCABULARIES.is_dir():
        message = f"{SHARED_VOCABULARIES} (the shared vocabularies) is not here"
        if os.environ.get("FS_CPP_REQUIRED") == "1":  # CI lays shared/ beside the checkout
            pytest.fail(message)
        pytest.skip(message)
    names: list[str] = []
    for path in sorted(SHARED_VOCABULARIES.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if ":" in line:
                names.extend(n for n in line.split(":", 1)[1].split(",") if n.strip())
    categories = json.loads((SHARED_VOCABULARIES / "categories.json").read_text())
    for vocabulary in categories.values():
        names.extend(n for c in vocabulary for n in c["names"])
    texts = sorted(set(names)) + [t.format(n) for n in sorted(set(names))[:200]
                                  for t in ("a photo of a {}.", "There is a {} in the scene")]
    assert len(texts) > 3000
    done = subprocess.run([str(tool), "--json"], input="\n".join(json.dumps(t) for t in texts),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    ours = [json.loads(line) for line in done.stdout.splitlines()]
    tokenizer = ClipTokenizer()
    mismatches = [(t, o) for t, o in zip(texts, ours) if o != tokenizer.encode(t)]
    assert len(ours) == len(texts) and mismatches == []


@pytest.mark.parametrize("build", [BUILD, ASAN_BUILD], ids=["build", "asan"])
def test_c_abi_tests_on_a_real_export(build, tiny_artifacts):
    """The C ABI on a real export, also under AddressSanitizer/UBSan/LeakSanitizer: corrupt or
    missing graphs, wrong schema, bad images and vocabularies return the right status, leak-free."""
    _tool("test_core_c_api", build)
    # The sanitizer build has no OpenVINO (CMakeLists.txt: TBB's RTLD_DEEPBIND dlopen aborts the
    # sanitizer runtime), so its OpenVINO test is not run there; the plain build runs it.
    skip = ["-E", "OpenVino"] if build == ASAN_BUILD else []
    done = subprocess.run(["ctest", "--test-dir", str(build), "-R", "CApi|CppWrapper", *skip, "-j2",
                           "--output-on-failure"], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "FS_TEST_ARTIFACTS": str(tiny_artifacts[0])})
    assert done.returncode == 0, done.stdout[-4000:]
    assert "tests passed" in done.stdout and "Skipped" not in done.stdout


def test_library_exports_the_c_api_and_nothing_of_its_own():
    """libfrozenseg exports exactly the functions frozenseg.h declares: the library's C++ symbols
    stay hidden, so they cannot clash with an application's or the C++ wrapper's (a wrapper class
    named like an internal one was once interposed and crashed on destruction)."""
    library = _tool("libfrozenseg.so")
    done = subprocess.run(["nm", "-D", "--defined-only", "-C", str(library)], capture_output=True, text=True,
                          timeout=60, check=True)
    names = [line.split(maxsplit=2)[2] for line in done.stdout.splitlines() if len(line.split()) == 3]
    header = (ROOT / "runtime" / "cpp" / "include" / "frozenseg" / "frozenseg.h").read_text()
    declared = set(re.findall(r"^FS_API [^;]*?\b(fs_\w+)\(", header, flags=re.M))
    assert len(declared) >= 15
    assert set(names) == declared


def test_cpp_tensorrt_backend_without_tensorrt_is_a_backend_error(tiny_artifacts, tmp_path):
    """A build without TensorRT names what is missing (exit 4, like the Python CLI's BackendError)."""
    tool = _tool("frozenseg-segment")
    done = subprocess.run([str(tool), str(ROOT / "samples" / "astronaut.jpg"), "--artifacts", str(tiny_artifacts[0]),
                           "--vocabulary", "cat", "--backend", "tensorrt", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 4, done.stderr
    assert "was not built with TensorRT" in done.stderr and "FROZENSEG_WITH_TENSORRT=ON" in done.stderr


def test_cmake_refuses_tensorrt_on_where_there_is_none(tmp_path):
    """-DFROZENSEG_WITH_TENSORRT=ON on a machine without TensorRT stops at configure time, naming
    what is missing and how to point CMake at it (AUTO, the default, builds without)."""
    if shutil.which("cmake") is None or not (ROOT / "third_party" / "onnxruntime").is_dir():
        _tool("frozenseg-segment")  # fails under FS_CPP_REQUIRED=1, skips otherwise
        pytest.skip("cmake or the ONNX Runtime SDK is not installed here")
    done = subprocess.run(["cmake", "-S", str(ROOT), "-B", str(tmp_path / "build"), "-DFROZENSEG_BUILD_TESTS=OFF",
                           "-DFROZENSEG_WITH_TENSORRT=ON", "-DTENSORRT_ROOT=" + str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "FROZENSEG_WITH_TENSORRT=ON but this machine lacks" in done.stderr
    assert "TENSORRT_ROOT" in done.stderr


def test_cpp_install_runs_from_a_moved_prefix(tiny_artifacts, tmp_path):
    """`cmake --install` gives a prefix that works wherever it is moved, with no environment: the
    library finds ONNX Runtime beside it and the tokenizer's merges file in its share/ (a damaged
    copy there is refused against the manifest's sha256, which shows that copy is the one read)."""
    tool = _tool("frozenseg-segment")
    subprocess.run(["cmake", "--install", str(tool.parent), "--prefix", str(tmp_path / "installed")],
                   check=True, capture_output=True, timeout=120)
    moved = tmp_path / "moved"
    (tmp_path / "installed").rename(moved)
    command = [str(moved / "bin" / "frozenseg-segment"), str(ROOT / "samples" / "astronaut.jpg"),
               "--artifacts", str(tiny_artifacts[0]), "--vocabulary", VOCABULARY,
               "--backend", "onnxruntime-cpu", "--no-cache", "--out", str(tmp_path / "out")]
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=clean_env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "astronaut_labels.png").is_file()
    from frozenseg_export.cpp_library import library_backends

    if "openvino-cpu" in library_backends(tool.parent / "libfrozenseg.so"):
        # OpenVINO's runtime, CPU plugin and ONNX reader were installed beside the library.
        done = subprocess.run([*command[:-1], str(tmp_path / "out-openvino"), "--backend", "openvino-cpu"],
                              capture_output=True, text=True, timeout=300, env=clean_env)
        assert done.returncode == 0, done.stderr
        assert "backend openvino-cpu" in done.stderr
        assert (tmp_path / "out-openvino" / "astronaut_labels.png").is_file()
    merges = moved / "share" / "frozenseg" / "bpe_simple_vocab_16e6.txt.gz"
    merges.write_bytes(gzip.compress(b"not the merges"))
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=clean_env)
    assert done.returncode == 3 and str(merges) in done.stderr, done.stderr
