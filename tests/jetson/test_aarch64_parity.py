"""The C++ library cross-built for aarch64 (Jetson's architecture), run under qemu-aarch64, against
the x86-64 answers on the tiny preset: the Python runtime (numpy, ONNX Runtime from PyPI) and the
x86-64 C++ build, on the same images, vocabulary and tasks.

Where bit-identity can hold and where it cannot:
- Everything before the graphs (image decoding, Pillow-exact resize, normalisation, tokenizer,
  template averaging) is integer or IEEE-exact float arithmetic without FMA contraction
  (-ffp-contract=off): the GoogleTests run under qemu check it bit for bit against numpy's
  answers recorded on x86-64.
- The graphs run on ONNX Runtime's aarch64 kernels (MLAS NEON), which sum in another order than
  its AVX2 kernels: raw tensors differ by float32 rounding.
- Post-processing runs the scalar kernels, and exp/log come from glibc's expf/logf, which is what
  numpy calls on aarch64; numpy on an x86 CPU with AVX2 uses its own SIMD exp/log. So C++ on
  aarch64 equals numpy on aarch64 bit for bit, and differs from numpy on x86 in the last bit of some
  exp/log values.
So answers are judged on the float32 floor: the aarch64 answers may differ from x86-64 Python's at
most as much as two float32 implementations on x86-64 differ from each other (the x86-64 C++ build,
ONNX Runtime 1.29, against the Python runtime, ONNX Runtime from constraints.txt: the bars of
tests/cpp/test_cpp_runtime.py), plus 1e-4 of the pixels. The measured figures go to
FS_PARITY_REPORT (JSON) when set.

FS_AARCH64_BUILD names the cross build (scripts/ci_jetson.sh makes build-jetson/aarch64),
FS_CPP_BUILD the x86-64 build (default build/); the emulator is the one the cross build's toolchain
file recorded in its CMakeCache.txt.
Without them these tests skip, unless FS_AARCH64_REQUIRED=1 makes that a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
AARCH64_BUILD = Path(os.environ.get("FS_AARCH64_BUILD", ROOT / "build-jetson" / "aarch64"))
X86_BUILD = Path(os.environ.get("FS_CPP_BUILD", ROOT / "build"))

def _emulator() -> list[str]:
    """The cross build's emulator command, as its toolchain file recorded it (qemu-aarch64 with a
    Cortex-A76 and the /proc/cpuinfo overlay that ONNX Runtime needs under qemu)."""
    cache = AARCH64_BUILD / "CMakeCache.txt"
    if cache.is_file():
        for line in cache.read_text().splitlines():
            if line.startswith("FS_CROSSCOMPILING_EMULATOR:INTERNAL="):
                return line.split("=", 1)[1].split(";")
    return []

REPORT = os.environ.get("FS_PARITY_REPORT")
AARCH64_PYTHON = Path(os.environ.get("FS_AARCH64_PYTHON", ROOT / "build-jetson" / "arm64-python" / "python"))
VOCABULARY = "person,sky,tree,car,grass,road,dog,wall"
RESIZE = "128,192"  # CLIP's input kept small: every graph runs emulated
# Label pixels allowed to differ beyond the x86-64 floor (the export's chained bar: + 1e-4).
PIXEL_SLACK = 1e-4
SCORE_ATOL = 1e-5  # scores, as tests/cpp/test_cpp_runtime.py between two x86-64 kernels sets
_figures: dict[str, dict] = {}


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        message = f"{path} ({what}) is not built: scripts/ci_jetson.sh builds it"
        if os.environ.get("FS_AARCH64_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def images():
    # One image: under qemu SAM's encoder alone takes tens of seconds per image and task.
    return [ROOT / "samples" / "astronaut.jpg"]


def _segment(engine: str, task: str, artifacts: Path, images: list[Path], out: Path) -> float:
    common = [*map(str, images), "--artifacts", str(artifacts), "--vocabulary", VOCABULARY, "--task", task,
              "--backend", "onnxruntime-cpu", "--no-cache", "--resize", RESIZE, "--out", str(out)]
    start = time.perf_counter()
    if engine == "python-x86_64":
        from frozenseg_export.cli import main

        assert main(["segment", *common]) == 0
    elif engine == "python-aarch64":
        python = _require(AARCH64_PYTHON, "aarch64 Python: scripts/make_aarch64_python.sh")
        done = subprocess.run([str(python), "-c", "import sys; from frozenseg_export.cli import main; "
                               "sys.exit(main(sys.argv[1:]))", "segment", *common],
                              capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr
    else:
        tool = [str(_require(X86_BUILD / "frozenseg-segment", "x86-64 C++ build"))] if engine == "cpp-x86_64" \
            else [*_emulator(), str(_require(AARCH64_BUILD / "frozenseg-segment", "aarch64 cross build"))]
        done = subprocess.run([*tool, *common], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
    return time.perf_counter() - start


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _compare(task: str, ours: Path, theirs: Path, stems: list[str]) -> dict:
    """Disagreement figures of two output folders (fractions of pixels, max score difference)."""
    pixels = differing = 0
    score_delta = 0.0
    same_segments = True
    for stem in stems:
        if task == "semantic":
            a, b = _pixels(ours / f"{stem}_labels.png"), _pixels(theirs / f"{stem}_labels.png")
        elif task == "panoptic":
            a, b = _pixels(ours / f"{stem}_panoptic.png"), _pixels(theirs / f"{stem}_panoptic.png")
            sa = json.loads((ours / f"{stem}_panoptic.json").read_text())["segments_info"]
            sb = json.loads((theirs / f"{stem}_panoptic.json").read_text())["segments_info"]
            strip = [[{k: v for k, v in s.items() if k != "score"} for s in x] for x in (sa, sb)]
            same_segments &= strip[0] == strip[1]
            if len(sa) == len(sb) and sa:
                score_delta = max(score_delta, float(np.max(np.abs(np.subtract(
                    [s["score"] for s in sa], [s["score"] for s in sb])))))
        else:
            with np.load(ours / f"{stem}_instances.npz") as x, np.load(theirs / f"{stem}_instances.npz") as y:
                a, b = x["masks"], y["masks"]
                same_segments &= np.array_equal(x["classes"], y["classes"])
                if x["scores"].shape == y["scores"].shape and x["scores"].size:
                    score_delta = max(score_delta, float(np.max(np.abs(x["scores"] - y["scores"]))))
        if a.shape != b.shape:
            same_segments = False
            pixels += max(a.size, b.size)
            differing += max(a.size, b.size)
            continue
        pixels += a.size
        differing += int(np.count_nonzero(a != b))
    return {"pixels": pixels, "differing_pixels": differing, "differing_fraction": differing / max(pixels, 1),
            "max_score_delta": score_delta, "same_segments": bool(same_segments)}


# Panoptic by default (class scores, masks, segments: most of post-processing); the other two tasks
# in the slow run (scripts/ci_jetson.sh --full), each a few more minutes under qemu.
@pytest.mark.parametrize("task", [pytest.param("semantic", marks=pytest.mark.slow), "panoptic",
                                  pytest.param("instance", marks=pytest.mark.slow)])
def test_aarch64_answers_match_x86_64_on_the_float32_floor(task, tiny_artifacts, images, tmp_path):
    artifacts = tiny_artifacts[0]
    seconds = {}
    for engine in ("cpp-aarch64", "cpp-x86_64", "python-x86_64"):
        seconds[engine] = round(_segment(engine, task, artifacts, images, tmp_path / engine), 2)
    stems = [image.stem for image in images]
    for engine in ("cpp-aarch64", "cpp-x86_64"):
        assert sorted(p.name for p in (tmp_path / engine).iterdir()) == \
            sorted(p.name for p in (tmp_path / "python-x86_64").iterdir())
    floor = _compare(task, tmp_path / "cpp-x86_64", tmp_path / "python-x86_64", stems)
    vs_python = _compare(task, tmp_path / "cpp-aarch64", tmp_path / "python-x86_64", stems)
    vs_cpp = _compare(task, tmp_path / "cpp-aarch64", tmp_path / "cpp-x86_64", stems)
    _figures[task] = {"seconds": seconds, "floor_cpp_x86_64_vs_python_x86_64": floor,
                      "cpp_aarch64_vs_python_x86_64": vs_python, "cpp_aarch64_vs_cpp_x86_64": vs_cpp}
    if REPORT:
        Path(REPORT).write_text(json.dumps(_figures, indent=2) + "\n")
    print(f"\n{task}: {json.dumps(_figures[task])}")
    for name, figures in (("against x86-64 Python", vs_python), ("against x86-64 C++", vs_cpp)):
        bar = 4 * floor["differing_fraction"] + PIXEL_SLACK
        assert figures["differing_fraction"] <= bar, \
            f"{task} {name}: {figures['differing_fraction']:.2e} of the pixels differ, bar {bar:.2e} (floor {floor})"
        assert figures["same_segments"] or not floor["same_segments"], f"{task} {name}: segments differ: {figures}"
        assert figures["max_score_delta"] <= max(SCORE_ATOL, 4 * floor["max_score_delta"]), \
            f"{task} {name}: scores differ by {figures['max_score_delta']:.2e} (floor {floor['max_score_delta']:.2e})"


def test_aarch64_binaries_are_aarch64():
    """The cross build really is aarch64 (ELF e_machine 183), so the run above was emulated."""
    tool = _require(AARCH64_BUILD / "frozenseg-segment", "aarch64 cross build")
    header = tool.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183


@pytest.mark.slow
@pytest.mark.parametrize("task", ["panoptic", "instance"])
def test_aarch64_python_runtime_equals_aarch64_cpp(task, tiny_artifacts, images, tmp_path):
    """On aarch64 numpy's exp/log are libm's, as the C++ library's: with the same ONNX Runtime
    (1.29.0 for aarch64 in both), the Python runtime and the C++ library give the same answers
    bit for bit, pixels and scores alike (scripts/make_aarch64_python.sh; Python under qemu)."""
    artifacts = tiny_artifacts[0]
    seconds = {engine: round(_segment(engine, task, artifacts, images, tmp_path / engine), 2)
               for engine in ("python-aarch64", "cpp-aarch64")}
    figures = _compare(task, tmp_path / "cpp-aarch64", tmp_path / "python-aarch64", [i.stem for i in images])
    _figures[f"{task}-aarch64-python"] = {"seconds": seconds, "cpp_aarch64_vs_python_aarch64": figures}
    if REPORT:
        Path(REPORT).write_text(json.dumps(_figures, indent=2) + "\n")
    print(f"\n{task} aarch64 Python vs C++: {json.dumps(figures)}")
    assert figures["differing_pixels"] == 0 and figures["same_segments"], figures
    assert figures["max_score_delta"] == 0.0, figures
