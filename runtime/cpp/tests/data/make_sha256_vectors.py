"""Writes sha256_vectors.txt: Python hashlib digests the C++ SHA-256 must reproduce.

Lines: `pattern <length> <hex>` for the bytes (i * 31 + 7) % 256, i < length, at lengths around
the 64-byte block and 56-byte padding edges and past the 1 MiB read chunk of sha256_file; and
`file <path relative to the repository> <hex>` for the bundled CLIP BPE file, whose digest the
manifest pins as bpe_sha256.

Run from anywhere: .venv/bin/python runtime/cpp/tests/data/make_sha256_vectors.py
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
LENGTHS = (0, 1, 3, 55, 56, 57, 63, 64, 65, 111, 112, 119, 120, 127, 128, 129, 1000, 4096,
           (1 << 20) - 1, 1 << 20, (1 << 20) + 13, 3 * (1 << 20) + 7)
FILES = ("runtime/data/bpe_simple_vocab_16e6.txt.gz",)


def pattern(length: int) -> bytes:
    return bytes((i * 31 + 7) % 256 for i in range(length))


def main() -> None:
    lines = [f"pattern {n} {hashlib.sha256(pattern(n)).hexdigest()}" for n in LENGTHS]
    lines += [f"file {f} {hashlib.sha256((REPO / f).read_bytes()).hexdigest()}" for f in FILES]
    (HERE / "sha256_vectors.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
