"""`frozenseg-deploy predict` end to end on the small preset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from frozenseg_export.cli import main
from frozenseg_reference.predict import NPZ_KEYS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_IMAGE = ROOT / "samples" / "astronaut.jpg"
SAMPLE_VOCAB = ROOT / "samples" / "vocabulary.json"


@pytest.fixture(scope="module")
def small_image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "small.png"
    Image.open(SAMPLE_IMAGE).resize((160, 120)).save(path)
    return path


def test_predict_writes_documented_outputs(tmp_path, small_image, capsys):
    out = tmp_path / "out"
    code = main(["predict", "--preset", "tiny", "--vocabulary", str(SAMPLE_VOCAB),
                 "--image", str(small_image), "--out", str(out), "--resize", "96,160"])
    assert code == 0
    assert "SYNTHETIC weights" in capsys.readouterr().err
    data = np.load(out / "outputs.npz")
    assert set(NPZ_KEYS) <= set(data.files)
    k = len(json.loads(SAMPLE_VOCAB.read_text()))
    q = 12
    assert data["pred_logits"].shape == (q, k + 1)
    assert data["class_probs"].shape == (q, k + 1)
    assert data["sem_seg"].shape == (k, 120, 160)
    assert data["panoptic_seg"].shape == (120, 160)
    assert data["instance_masks"].shape[1:] == (120, 160)
    segments = json.loads(str(data["segments_info"]))
    assert segments == json.loads((out / "segments_info.json").read_text())
    assert set(np.unique(data["panoptic_seg"])) <= {0} | {s["id"] for s in segments}
    for name in ("semantic_overlay.png", "panoptic_overlay.png"):
        assert Image.open(out / name).size[1] >= 120
    assert not list(out.glob(".*tmp*")), "no temporary files left behind"


def test_predict_with_checkpoint_file_and_no_resize(tmp_path, small_image, tiny_model, write_checkpoint):
    ckpt = write_checkpoint(tiny_model, tmp_path / "tiny.pth", seed=0)
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    common = ["--preset", "tiny", "--vocabulary", "person,sky,grass", "--image", str(small_image),
              "--resize", "none"]
    assert main(["predict", *common, "--out", str(out_a), "--checkpoint", str(ckpt)]) == 0
    assert main(["predict", *common, "--out", str(out_b)]) == 0
    a, b = np.load(out_a / "outputs.npz"), np.load(out_b / "outputs.npz")
    assert a["pred_masks"].shape[-2:] == (32, 40)  # 120x160 fed as is, padded to 128x160, stride 4
    np.testing.assert_array_equal(a["class_probs"], b["class_probs"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--vocabulary", ""], "vocabulary"),
        (["--vocabulary", "cat,cat"], "duplicate"),
        (["--vocabulary", "missing_file.txt"], "missing_file.txt"),
        (["--image", "no_such_image.jpg"], "no_such_image.jpg"),
        (["--checkpoint", "no_such.pth"], "no_such.pth"),
    ],
)
def test_predict_bad_input_is_a_clear_error(tmp_path, small_image, capsys, args, message):
    base = {"--vocabulary": "cat,dog", "--image": str(small_image)}
    base.update(dict(zip(args[::2], args[1::2])))
    flat = [item for pair in base.items() for item in pair]
    out = tmp_path / "out"
    code = main(["predict", "--preset", "tiny", *flat, "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err
    assert not out.exists()


def test_resize_argument_is_validated():
    with pytest.raises(SystemExit):
        main(["predict", "--vocabulary", "a", "--image", "x", "--out", "y", "--resize", "800"])
