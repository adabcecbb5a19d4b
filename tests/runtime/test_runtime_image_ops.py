"""resize_bilinear must equal torch's F.interpolate(bilinear, align_corners=False)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from frozenseg_runtime.image.ops import resize_bilinear

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch_resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    t = torch.from_numpy(x).reshape((-1, 1) + x.shape[-2:])
    out = F.interpolate(t, size=size, mode="bilinear", align_corners=False)
    return out.numpy().reshape(x.shape[:-2] + tuple(size))


@pytest.mark.parametrize(
    "in_hw, out_hw",
    [
        ((7, 9), (21, 36)),  # integer upsampling
        ((50, 60), (25, 20)),  # integer downsampling
        ((37, 53), (61, 29)),  # non-integer, mixed
        ((200, 300), (800, 1216)),  # mask logits to a padded COCO-size input
        ((1216, 800), (300, 200)),  # large downsampling
        ((32, 32), (1024, 1024)),
        ((1, 1), (4, 6)),
        ((5, 5), (1, 1)),
        ((40, 30), (40, 30)),  # same size
        ((40, 30), (40, 77)),  # one axis unchanged
    ],
)
def test_matches_torch(in_hw: tuple[int, int], out_hw: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(in_hw) * 1000 + sum(out_hw))
    x = rng.standard_normal((2, 3) + in_hw).astype(np.float32)
    got = resize_bilinear(x, out_hw)
    assert got.shape == (2, 3) + out_hw and got.dtype == np.float32
    assert np.abs(got - _torch_resize(x, out_hw)).max() <= 1e-5


def test_same_size_returns_input_values() -> None:
    x = np.random.default_rng(0).standard_normal((4, 13, 17)).astype(np.float32)
    got = resize_bilinear(x, (13, 17))
    assert np.array_equal(got, x)


def test_two_dimensional_input() -> None:
    x = np.random.default_rng(1).standard_normal((9, 11)).astype(np.float32)
    got = resize_bilinear(x, (20, 5))
    assert got.shape == (20, 5)
    assert np.abs(got - _torch_resize(x, (20, 5))).max() <= 1e-5


def test_memory_beyond_output_is_bounded() -> None:
    """Chunking keeps temporaries small: peak extra memory is the output plus ~64 MB."""
    x = np.random.default_rng(2).standard_normal((60, 200, 300)).astype(np.float32)
    tracemalloc.start()
    try:
        out = resize_bilinear(x, (800, 1216))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - out.nbytes < 128 * 1024 * 1024


def test_rejects_bad_size() -> None:
    with pytest.raises(ValueError):
        resize_bilinear(np.zeros((3, 3), np.float32), (0, 4))
    with pytest.raises(ValueError):
        resize_bilinear(np.zeros((3,), np.float32), (2, 2))
