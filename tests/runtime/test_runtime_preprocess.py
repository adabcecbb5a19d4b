"""Preprocessing: detectron2 resize rule, CLIP/SAM branch inputs as in FrozenSeg.forward."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from frozenseg_runtime.errors import FrozenSegError, ImageError
from frozenseg_runtime.image.preprocess import (
    PreprocessConstants,
    normalize,
    pad_bottom_right,
    prepare_image,
    preprocess,
    resize_image,
    resized_shape,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

CONSTANTS = PreprocessConstants(
    clip_mean=(122.7709383, 116.7460125, 104.09373615),
    clip_std=(68.5005327, 66.6321579, 70.32316305),
    sam_mean=(123.675, 116.28, 103.53),
    sam_std=(58.395, 57.12, 57.375),
    pad_multiple=32,
    sam_size=1024,
    resize_short=800,
    resize_max=1333,
)


def _formula(h: int, w: int, short: int, max_size: int) -> tuple[int, int]:
    scale = short / min(h, w)
    newh, neww = (short, scale * w) if h < w else (scale * h, short)
    if max(newh, neww) > max_size:
        s = max_size / max(newh, neww)
        newh, neww = newh * s, neww * s
    return int(newh + 0.5), int(neww + 0.5)


@pytest.mark.parametrize(
    "hw, expected",
    [((480, 640), (800, 1067)), ((1000, 3000), (444, 1333)), ((640, 480), (1067, 800))],
)
def test_resized_shape_known_cases(hw: tuple[int, int], expected: tuple[int, int]) -> None:
    assert resized_shape(*hw, 800, 1333) == expected


def test_resized_shape_matches_formula() -> None:
    rng = np.random.default_rng(0)
    for h, w in rng.integers(1, 4000, size=(200, 2)):
        for short, max_size in ((800, 1333), (1024, 2560), (640, 2560)):
            assert resized_shape(int(h), int(w), short, max_size) == _formula(
                int(h), int(w), short, max_size
            )


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_resize_image_uses_pil_bilinear() -> None:
    img = _image(120, 90)
    got = resize_image(img, 100, 1333)
    assert got.shape == (133, 100, 3) and got.dtype == np.uint8
    ref = np.asarray(Image.fromarray(img).resize((100, 133), Image.BILINEAR))
    assert np.array_equal(got, ref)


def _torch_branch(img: np.ndarray, mean, std, multiple: int) -> torch.Tensor:
    x = torch.as_tensor(np.ascontiguousarray(img.transpose(2, 0, 1)))
    x = (x - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    h, w = x.shape[-2:]
    hp, wp = -(-h // multiple) * multiple, -(-w // multiple) * multiple
    return F.pad(x, (0, wp - w, 0, hp - h), value=0.0)


def test_prepare_image_matches_torch() -> None:
    img = _image(75, 101)
    p = prepare_image(img, CONSTANTS)
    assert p.clip_input.shape == (1, 3, 96, 128) and p.clip_input.dtype == np.float32
    assert p.sam_input.shape == (1, 3, 1024, 1024) and p.sam_input.dtype == np.float32
    assert p.image_size == (75, 101) and p.padded_size == (96, 128)
    assert p.output_size == (75, 101)
    assert not p.clip_input[..., 75:, :].any() and not p.clip_input[..., :, 101:].any()
    clip_ref = _torch_branch(img, CONSTANTS.clip_mean, CONSTANTS.clip_std, 32)
    assert np.abs(p.clip_input[0] - clip_ref.numpy()).max() <= 1e-6
    sam_ref = _torch_branch(img, CONSTANTS.sam_mean, CONSTANTS.sam_std, 32)
    sam_ref = F.interpolate(sam_ref[None], (1024, 1024), mode="bilinear", align_corners=False)
    assert np.abs(p.sam_input - sam_ref.numpy()).max() <= 1e-5


def test_normalize_and_pad() -> None:
    img = _image(4, 5)
    x = normalize(img, (10.0, 20.0, 30.0), (2.0, 4.0, 8.0))
    assert x.shape == (3, 4, 5) and x.dtype == np.float32
    assert np.allclose(x[1], (img[..., 1].astype(np.float32) - 20.0) / 4.0)
    padded = pad_bottom_right(x, 4)
    assert padded.shape == (3, 4, 8) and not padded[..., 5:].any()
    assert pad_bottom_right(x, 1) is x


def test_preprocess_resizes_and_records_sizes() -> None:
    img = _image(60, 90)
    p = preprocess(img, CONSTANTS, (40, 1333))
    assert p.image_size == (40, 60) and p.padded_size == (64, 64) and p.output_size == (60, 90)
    q = preprocess(img, CONSTANTS, None, output_size=(30, 45))
    assert q.image_size == (60, 90) and q.padded_size == (64, 96) and q.output_size == (30, 45)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((0, 10, 3), np.uint8),
        [[[0, 0, 0]]],
    ],
)
def test_bad_images_raise_image_error(bad: object) -> None:
    with pytest.raises(ImageError) as info:
        prepare_image(bad, CONSTANTS)  # type: ignore[arg-type]
    assert isinstance(info.value, FrozenSegError) and isinstance(info.value, ValueError)
    assert "expected" in str(info.value)


@pytest.mark.parametrize("size, resize", [((120, 176), "default"), ((37, 301), (64, 96)), ((50, 33), None),
                                          ((480, 640), (800, 1333))])
def test_encoder_input_shape_is_the_prepared_clip_input_shape(size, resize):
    """What a server checks before spending memory equals what preprocessing then makes."""
    from frozenseg_runtime.image.preprocess import encoder_input_shape

    constants = PreprocessConstants.from_record(
        {"clip_mean": [0, 0, 0], "clip_std": [1, 1, 1], "sam_mean": [0, 0, 0], "sam_std": [1, 1, 1],
         "pad_multiple": 32, "sam_size": 64, "resize_short": 96, "resize_max": 160})
    image = np.zeros((*size, 3), np.uint8)
    prepared = preprocess(image, constants, resize)
    assert encoder_input_shape(size, constants, resize) == prepared.clip_input.shape[2:]
