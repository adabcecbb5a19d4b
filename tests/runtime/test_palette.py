"""The overlay palette is runtime/data/palette.rgb, and that file is the colours overlays have
always had: numpy's default_rng(7) draw (the recipe in runtime/data/README.md)."""

from __future__ import annotations

import numpy as np

from frozenseg_runtime.output.palette import PALETTE_FILE, palette


def test_the_file_is_its_recipe():
    recipe = np.random.default_rng(7).integers(40, 256, size=(4096, 3), dtype=np.uint8)
    assert PALETTE_FILE.read_bytes() == recipe.tobytes()


def test_palette_is_the_first_n_colours():
    for n in (0, 1, 6, 150, 2048, 4096):
        want = np.random.default_rng(7).integers(40, 256, size=(max(n, 1), 3), dtype=np.uint8)
        got = palette(n)
        assert got.dtype == np.uint8 and got.shape == (max(n, 1), 3)
        np.testing.assert_array_equal(got, want)
    assert palette(6)[0].tolist() == [157, 102, 233]


def test_past_the_file_the_colours_repeat():
    np.testing.assert_array_equal(palette(4100)[4096:], palette(4))
