"""Reference cache keys and cache files from the Python runtime (runtime/text/cache.py).

    .venv/bin/python runtime/cpp/tests/data/make_cache_cases.py

writes beside this script: cache_cases.json (encoder and vocabulary keys of chosen inputs, and
what the .npz files hold), cache_python.npz (a file VocabularyCache itself wrote),
cache_python_f64.npz (float64 rows in Fortran order) and cache_python_deflated.npz
(np.savez_compressed), all deterministic.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from frozenseg_runtime.text.cache import VocabularyCache, encoder_key

HERE = Path(__file__).resolve().parent
VILD = ["a photo of a {}.", "This is a photo of a {}", "There is a {} in the scene"]
SHA = "0123456789abcdef" * 4

ENCODERS = [
    (SHA, VILD, "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a", 77),
    (SHA, [], None, 16),
    ("x", ["caf\u00e9 {}", "\u732b {} \U0001F431", "quote \" back \\ tab\t nl\n del\x7f nul\x00"],
     "b", 2),
]
SYNONYMS = [
    ["cat"],
    ["cat", "kitty", "\u732b", "caf\u00e9", "\U0001F431 emoji", "a \"quoted\" \\ name"],
    ["tab\tname", "del\x7fname", "ctrl\x01", "\u2028sep", "x" * 300],
]


def main() -> None:
    rng = np.random.default_rng(7)
    enc_keys = [encoder_key(s, t, b, c) for s, t, b, c in ENCODERS]
    vocab_keys = [[VocabularyCache(k).vocabulary_key(syn) for syn in SYNONYMS] for k in enc_keys]
    synonyms = ["cat", "kitty", "\u732b"]
    rows = rng.standard_normal((3, 5)).astype(np.float32)
    cache = VocabularyCache(enc_keys[0], Path(tempfile.mkdtemp()))
    cache.rows(synonyms, lambda s: rows[[synonyms.index(x) for x in s]])
    written = next(cache.directory.glob("*.npz"))
    (HERE / "cache_python.npz").write_bytes(written.read_bytes())
    key = cache.vocabulary_key(synonyms)
    rows64 = rng.standard_normal((2, 3))
    np.savez(HERE / "cache_python_f64.npz", rows=np.asfortranarray(rows64), key=np.array(key))
    np.savez_compressed(HERE / "cache_python_deflated.npz", rows=rows, key=np.array(key))
    cases = {
        "encoders": [{"text_graph_sha256": s, "templates": t, "bpe_sha256": b,
                      "context_length": c, "encoder_key": k}
                     for (s, t, b, c), k in zip(ENCODERS, enc_keys)],
        "synonyms": SYNONYMS,
        "vocabulary_keys": vocab_keys,
        "file": {"encoder_key": enc_keys[0], "synonyms": synonyms, "key": key,
                 "file_name": written.name, "rows": rows.tolist(),
                 "rows_f64_as_f32": rows64.astype(np.float32).tolist()},
    }
    (HERE / "cache_cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    print("cache_cases.json and three .npz files written")


if __name__ == "__main__":
    main()
