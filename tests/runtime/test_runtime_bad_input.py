"""Bad input gets a clear, typed error and changes nothing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from frozenseg_runtime.backends.factory import BackendError

from frozenseg_runtime.backends.factory import resolve_backend
from frozenseg_runtime.errors import ImageError
from frozenseg_runtime.errors import VocabularyError
from frozenseg_runtime.manifest import ManifestError
from frozenseg_runtime.manifest import ArtifactError
from frozenseg_runtime.segmenter import Segmenter


@pytest.fixture(scope="module")
def seg(tiny_artifacts):
    out, _ = tiny_artifacts
    s = Segmenter.from_artifacts(out, backend="onnxruntime-cpu", cache_dir=False)
    yield s
    s.close()


def test_segment_before_vocabulary(seg):
    with pytest.raises(RuntimeError, match="set_vocabulary"):
        seg.segment(np.zeros((64, 64, 3), np.uint8))


def test_bad_images(seg, tmp_path):
    seg.set_vocabulary("cat,dog")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for bad, message in [
        (corrupt, "cannot decode"),
        (text, "cannot decode"),
        (tmp_path / "absent.png", "does not exist"),
        (np.zeros((32, 32, 3), np.float32), "uint8"),
        (np.zeros((32, 32, 3, 2), np.uint8), "shape"),
        (np.zeros((32, 32, 5), np.uint8), "shape"),
    ]:
        with pytest.raises(ImageError, match=message):
            seg.segment(bad)


def test_bad_vocabulary_changes_nothing(seg):
    seg.set_vocabulary("cat,dog")
    before = seg.vocabulary_state
    for bad in ["", "cat,cat", "cat,,dog", ["a photo of " + "very " * 80]]:
        with pytest.raises(VocabularyError):
            seg.set_vocabulary(bad)
        assert seg.vocabulary_state is before


def test_unknown_task(seg):
    seg.set_vocabulary("cat,dog")
    with pytest.raises(ValueError, match="task"):
        seg.segment(np.zeros((64, 64, 3), np.uint8), task="depth")


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_missing_and_tampered_artifacts(tiny_artifacts, tmp_path):
    out, _ = tiny_artifacts
    missing = _copy(out, tmp_path / "missing")
    (missing / "decoder.onnx").unlink()
    with pytest.raises(ArtifactError, match="decoder.onnx is missing"):
        Segmenter.from_artifacts(missing)
    tampered = _copy(out, tmp_path / "tampered")
    with open(tampered / "clip_text.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ArtifactError, match="does not match the sha256"):
        Segmenter.from_artifacts(tampered)


def test_unknown_manifest_schema(tiny_artifacts, tmp_path):
    out, _ = tiny_artifacts
    folder = _copy(out, tmp_path / "future")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["schema_version"] = 2
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="schema_version 2 is not supported"):
        Segmenter.from_artifacts(folder)


def test_backends_that_are_not_installed():
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        with pytest.raises(BackendError, match="onnxruntime-gpu"):
            resolve_backend("onnxruntime-cuda")
    with pytest.raises(BackendError, match="tensorrt"):
        resolve_backend("tensorrt")
    with pytest.raises(BackendError, match="choose one of"):
        resolve_backend("openvino")


@pytest.mark.parametrize("mode, suffix", [("L", ".png"), ("RGBA", ".png"), ("RGB", ".webp"),
                                          ("RGB", ".bmp")])
def test_image_formats(seg, tmp_path, mode, suffix):
    seg.set_vocabulary("cat,dog")
    path = tmp_path / f"image{suffix}"
    Image.new(mode, (96, 64), color=120 if mode == "L" else (120,) * len(mode)).save(path)
    result = seg.segment(path, task="semantic", resize=None)
    assert result.semantic_labels.shape == (64, 96)


def test_exif_orientation_is_applied(tmp_path):
    from frozenseg_runtime.image.loading import load_image

    img = Image.new("RGB", (96, 64), (10, 20, 30))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    assert load_image(path).shape == (96, 64, 3)
