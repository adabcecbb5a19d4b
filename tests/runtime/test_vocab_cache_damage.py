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


def test_memory_keeps_the_most_recently_used_rows_within_its_limit():
    """A long-running server bounds the cache: least recently used synonyms go first, a
    vocabulary larger than the limit still gets all its rows, and a dropped row is encoded again."""
    calls = []

    def encode(synonyms):
        calls.append(list(synonyms))
        return _encode(synonyms)

    cache = VocabularyCache("k" * 64, None, max_rows=3)
    cache.rows(["cat", "dog"], encode)
    cache.rows(["cat"], encode)  # cat is now the most recent
    cache.rows(["cow", "emu"], encode)  # 4 rows: dog, the least recent, goes
    assert list(cache._rows) == ["cat", "cow", "emu"]
    assert cache.rows(["cat", "emu"], encode).shape == (2, 3) and cache.stats.memory_hits == 2
    big = ["a", "b", "c", "d", "e"]
    assert np.array_equal(cache.rows(big, encode), _encode(big))  # more than the limit, all rows
    assert len(cache._rows) == 3
    cache.rows(["dog"], encode)
    assert calls == [["cat", "dog"], ["cow", "emu"], big, ["dog"]]
    unbounded = VocabularyCache("k" * 64, None)
    unbounded.rows(big, encode)
    assert len(unbounded._rows) == 5
