"""`frozenseg-deploy segment` over several images."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from frozenseg_export.cli import main


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    paths = []
    for i, size in enumerate([(120, 96), (80, 140)]):
        rng = np.random.default_rng(i)
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
        paths.append(folder / f"img{i}.png")
    return paths


@pytest.mark.parametrize("task, files", [
    ("semantic", ["labels.png", "overlay.png", "summary.json"]),
    ("panoptic", ["panoptic.png", "panoptic.json", "overlay.png", "summary.json"]),
    ("instance", ["instances.npz", "overlay.png", "summary.json"]),
])
def test_segment_writes_files_per_image(tiny_artifacts, images, tmp_path, capsys, task, files):
    artifacts, _ = tiny_artifacts
    out = tmp_path / "out"
    code = main(["segment", *map(str, images), "--artifacts", str(artifacts), "--vocabulary",
                 "person,sky,tree,car", "--task", task, "--out", str(out), "--resize", "none",
                 "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    err = capsys.readouterr().err
    assert "[1/2]" in err and "[2/2]" in err and "cache" in err
    for image in images:
        for suffix in files:
            assert (out / f"{image.stem}_{suffix}").is_file()
        summary = json.loads((out / f"{image.stem}_summary.json").read_text())
        assert summary["task"] == task and summary["size"] == list(Image.open(image).size[::-1])
    if task == "semantic":
        labels = np.asarray(Image.open(out / "img0_labels.png"))
        assert labels.shape == (120, 96) and labels.max() < 4
    if task == "panoptic":
        rgb = np.asarray(Image.open(out / "img0_panoptic.png")).astype(np.int64)
        ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]
        listed = {s["id"] for s in json.loads((out / "img0_panoptic.json").read_text())["segments_info"]}
        assert set(np.unique(ids)) <= listed | {0}


def test_segment_bad_vocabulary_exits_with_a_message(tiny_artifacts, images, tmp_path, capsys):
    artifacts, _ = tiny_artifacts
    code = main(["segment", str(images[0]), "--artifacts", str(artifacts), "--vocabulary", "cat,cat",
                 "--out", str(tmp_path / "out"), "--no-cache"])
    assert code == 2
    assert "duplicate" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
