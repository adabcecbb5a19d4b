"""A damaged vocabulary-cache entry is recomputed and overwritten, never served or raised."""

from __future__ import annotations

import numpy as np

from frozenseg_runtime.text.cache import VocabularyCache


def _encode(synonyms):
    return np.arange(len(synonyms) * 3, dtype=np.float32).reshape(len(synonyms), 3) + 1


def test_a_corrupt_zip_and_a_wrong_row_count_are_recomputed(tmp_path):
    synonyms = ["cat", "dog"]
    cache = VocabularyCache("k" * 64, tmp_path)
    path = cache._path(synonyms)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 not really a zip")  # looks like a zip, is not one
    assert np.array_equal(cache.rows(synonyms, _encode), _encode(synonyms))
    # the right key, one row too few
    np.savez(path, rows=np.zeros((1, 3), np.float32), key=np.array(cache.vocabulary_key(synonyms)))
    fresh = VocabularyCache("k" * 64, tmp_path)
    assert np.array_equal(fresh.rows(synonyms, _encode), _encode(synonyms))
    assert fresh.stats.misses == 1 and fresh.stats.disk_hits == 0
