"""Cache of synonym embeddings, in memory and on disk, keyed by content.

An embedding depends on the text graph (its sha256), the templates, the tokenizer and the
synonym itself, so the key hashes exactly those: a changed graph or template set can never be
served a stale entry, and a new vocabulary needs no re-export and no engine rebuild. Memory holds
one row per synonym; disk holds one file per vocabulary (written atomically).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from frozenseg_runtime.atomic import write_bytes_atomic

EncodeFn = Callable[[Sequence[str]], np.ndarray]  # synonyms -> (N, E) normalised rows


def encoder_key(text_graph_sha256: str, templates: Sequence[str], bpe_sha256: str | None,
                context_length: int) -> str:
    """Identity of the text encoder a cached row came from: the graph, the prompt templates and
    the tokenizer (its merges and context). Any change gives a new key, so no stale row is read."""
    return hashlib.sha256(json.dumps(
        [text_graph_sha256, list(templates), bpe_sha256, context_length]).encode()).hexdigest()


# The `cache_dir` that keeps the vocabulary cache in memory only: no folder. The one spelling of
# it, shared with the C API's `cache_dir` and Triton's `vocabulary_cache_dir` parameter.
MEMORY_ONLY = ""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "frozenseg-deploy" / "vocabulary"


def cache_folder(cache_dir: str | os.PathLike[str] | None) -> Path | None:
    """The folder of a `cache_dir` option: None is the default folder, MEMORY_ONLY none."""
    if cache_dir is None:
        return default_cache_dir()
    if os.fspath(cache_dir) == MEMORY_ONLY:
        return None
    return Path(cache_dir)


@dataclass
class CacheStats:
    memory_hits: int = 0
    disk_hits: int = 0
    misses: int = 0
    synonyms_encoded: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class VocabularyCache:
    """Synonym rows for one text encoder identity (`encoder_key`)."""

    encoder_key: str  # hash of text graph sha256 + templates + tokenizer identity
    directory: Path | None = None  # None: memory only
    stats: CacheStats = field(default_factory=CacheStats)
    max_rows: int | None = None  # memory holds at most this many synonyms, least recently used out

    def __post_init__(self) -> None:
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _touch(self, synonyms: Sequence[str]) -> None:
        """Mark rows used (most recent last) and drop the oldest beyond `max_rows`; called after
        a call's rows are taken, so one vocabulary larger than the limit still gets all its rows."""
        if self.max_rows is None:
            return
        for s in synonyms:
            if s in self._rows:
                self._rows.move_to_end(s)
        while len(self._rows) > self.max_rows:
            self._rows.popitem(last=False)

    def vocabulary_key(self, synonyms: Sequence[str]) -> str:
        payload = json.dumps([self.encoder_key, list(synonyms)], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    def rows(self, synonyms: Sequence[str], encode: EncodeFn) -> np.ndarray:
        """(len(synonyms), E) rows, computing only what neither memory nor disk holds."""
        with self._lock:
            if all(s in self._rows for s in synonyms):
                self.stats.memory_hits += 1
                rows = np.stack([self._rows[s] for s in synonyms])
                self._touch(synonyms)
                return rows
            from_disk = self._read_disk(synonyms)
            if from_disk is not None:
                self.stats.disk_hits += 1
                self._rows.update(zip(synonyms, from_disk))
                self._touch(synonyms)
                return from_disk
            self.stats.misses += 1
            known = {s: self._rows[s] for s in synonyms if s in self._rows}  # eviction-proof
            missing = list(dict.fromkeys(s for s in synonyms if s not in known))
        new_rows = encode(missing) if missing else np.zeros((0, 0), np.float32)
        known.update(zip(missing, new_rows))
        with self._lock:
            self.stats.synonyms_encoded += len(missing)
            self._rows.update(zip(missing, new_rows))
            rows = np.stack([known[s] for s in synonyms]).astype(np.float32)
            self._touch(synonyms)
        self._write_disk(synonyms, rows)
        return rows

    def _path(self, synonyms: Sequence[str]) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{self.vocabulary_key(synonyms)}.npz"

    def _read_disk(self, synonyms: Sequence[str]) -> np.ndarray | None:
        path = self._path(synonyms)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                rows = data["rows"]
                if data["key"].item() != self.vocabulary_key(synonyms) or rows.ndim != 2 \
                        or rows.shape[0] != len(synonyms):
                    return None
                return rows.astype(np.float32)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None  # unreadable or damaged entry: recompute and overwrite

    def _write_disk(self, synonyms: Sequence[str], rows: np.ndarray) -> None:
        path = self._path(synonyms)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, rows=rows, key=np.array(self.vocabulary_key(synonyms)))
        write_bytes_atomic(path, buf.getvalue())
