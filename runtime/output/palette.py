"""The overlay palette: the colours of `runtime/data/palette.rgb`, the one file both runtimes read.

Class `i` takes the file's triple `i` (modulo its 4096 triples; no vocabulary reaches that, the
decoder accepts at most 2048 classes). The C++ library's build turns the same file into a header
(runtime/cpp/src/output/visualize.cpp), so both overlays paint with the same bytes.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

PALETTE_FILE = Path(__file__).resolve().parents[1] / "data" / "palette.rgb"


@functools.cache
def _colours() -> np.ndarray:
    colours = np.frombuffer(PALETTE_FILE.read_bytes(), dtype=np.uint8).reshape(-1, 3)
    colours.flags.writeable = False
    return colours


def palette(n: int) -> np.ndarray:
    """n distinct-looking RGB colours (at least one), (n, 3) uint8, stable for a given n: the
    first n of the palette file's."""
    colours = _colours()
    return colours[np.arange(max(n, 1)) % len(colours)]
