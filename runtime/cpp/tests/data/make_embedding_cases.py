"""Reference template averaging and padded embeddings from runtime/text/embedding.py.

    .venv/bin/python runtime/cpp/tests/data/make_embedding_cases.py

writes embedding_cases.json beside this script (deterministic). float32 values are stored as
their IEEE bit patterns (uint32), so the C++ test compares bits, not decimal renderings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from frozenseg_runtime.text.embedding import average_templates, padded_embeddings
from frozenseg_runtime.text.vocabulary import padded_synonym_index, parse_vocabulary

HERE = Path(__file__).resolve().parent


def bits(a: np.ndarray) -> list[int]:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).ravel().tolist()


def main() -> None:
    rng = np.random.default_rng(11)
    cases = []
    # (synonyms, templates, width): a template set like VILD's, widths below, at and above
    # numpy's pairwise block (8 / 128 elements), a zero row (the 1e-12 floor).
    for s, t, e in [(3, 14, 24), (1, 2, 260), (1, 1, 7), (2, 3, 129)]:
        feats = (rng.standard_normal((s * t, e)) * rng.uniform(0.1, 30)).astype(np.float32)
        if e == 7:
            feats[:] = 0.0
        cases.append({"synonyms": s, "templates": t, "width": e, "features": bits(feats),
                      "expected": bits(average_templates(feats, t))})
    vocab = parse_vocabulary([["cat", "kitty", "feline"], ["dog"], ["grass", "lawn"]])
    _, index, _ = padded_synonym_index(vocab)
    rows = rng.standard_normal((6, 4)).astype(np.float32)
    padded = {"rows": bits(rows), "width": 4, "index": index.tolist(),
              "expected": bits(padded_embeddings(rows, index))}
    out = {"average_templates": cases, "padded_embeddings": padded}
    path = HERE / "embedding_cases.json"
    path.write_text(json.dumps(out), encoding="utf-8")
    print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
