"""The PyTorch reference's tensors, in float32 and float64, cached by content.

A check reruns the same images many times (another backend, another precision, the C++ library),
and the full-size reference costs minutes per image in float64, so its outputs are kept on disk.
An entry is keyed by everything it depends on: the weights (checkpoint sha256, or the synthetic
seed and kind), the preset, the image's pixels, the vocabulary and training vocabulary, the
pre-processing constants, the code that computes it (the reference package, the chain and the
numpy pre-processing, hashed) and torch's version. Any change gives a new key, never a stale entry.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_export.noise_floor import release_memory
from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.errors import ArtifactError
from frozenseg_runtime.image.preprocess import PreparedImage
from frozenseg_runtime.manifest import Manifest
from frozenseg_runtime.progress import Say
from frozenseg_runtime.text.cache import default_cache_dir as vocabulary_cache_dir
from frozenseg_runtime.text.vocabulary import Vocabulary

CACHE_SCHEMA = 2
PRECISIONS = ("float32", "float64", "isolated64")


def default_cache_dir() -> Path:
    """Beside the runtime's vocabulary cache: ~/.cache/frozenseg-deploy/reference."""
    return vocabulary_cache_dir().parent / "reference"


def code_version() -> str:
    """Hash of the source that computes a reference entry."""
    import torch

    import frozenseg_reference
    from frozenseg_export import reference_chain
    from frozenseg_runtime.image import ops, preprocess

    files = sorted(Path(frozenseg_reference.__file__).parent.rglob("*.py"))
    files += [Path(m.__file__) for m in (reference_chain, preprocess, ops) if m.__file__]
    digest = hashlib.sha256(torch.__version__.encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def image_digest(pixels: np.ndarray) -> str:
    """The image's content: its decoded, oriented pixels (re-encoding a file changes nothing)."""
    return hashlib.sha256(repr(pixels.shape).encode() + np.ascontiguousarray(pixels).tobytes()).hexdigest()


def _vocabulary_record(vocabulary: Vocabulary) -> list[Any]:
    return [list(map(list, vocabulary.names)), list(vocabulary.isthing)]


def entry_key(manifest: Manifest, image: str, vocabulary: Vocabulary, train: Vocabulary, code: str) -> str:
    record = [CACHE_SCHEMA, manifest.raw["weights"], manifest.raw["preset"]["name"], image,
              _vocabulary_record(vocabulary), _vocabulary_record(train),
              manifest.constants["preprocessing"], code]
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class ReferenceTensors:
    """One image's subgraph outputs (`graph/output`, batch dropped): the float32 and float64
    chains, and the float64 decoder on the float32 chain's decoder inputs (`isolated64`), which
    judges a decoder on the same inputs as the float32 one saw."""

    float32: dict[str, np.ndarray]
    float64: dict[str, np.ndarray]
    isolated64: dict[str, np.ndarray]


class ReferenceCache:
    """One `.npz` per entry, written atomically; `None` directory: nothing kept."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.npz"

    def has(self, key: str) -> bool:
        path = self._path(key)
        return path is not None and path.is_file() and zipfile.is_zipfile(path)

    def get(self, key: str) -> ReferenceTensors | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, zipfile.BadZipFile):
            return None  # damaged: recompute and overwrite
        split = {p: {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith(p + ":")} for p in PRECISIONS}
        return ReferenceTensors(split["float32"], split["float64"], split["isolated64"])

    def put(self, key: str, tensors: ReferenceTensors) -> None:
        path = self._path(key)
        if path is None:
            return
        buffer = io.BytesIO()
        np.savez(buffer, **{f"{p}:{k}": v for p in PRECISIONS for k, v in getattr(tensors, p).items()})
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, buffer.getvalue())


def reference_tensors(manifest: Manifest, checkpoint: str | None, prepared: Sequence[PreparedImage],
                      digests: Sequence[str], vocabulary: Vocabulary, train: Vocabulary,
                      cache: ReferenceCache,
                      say: Say) -> tuple[list[Callable[[], ReferenceTensors]], int]:
    """A loader of each image's reference tensors (from disk when the cache is on, so only one
    image's float64 tensors are in memory at a time), and the number of cache hits."""
    code = code_version()
    keys = [entry_key(manifest, d, vocabulary, train, code) for d in digests]
    present = [cache.has(k) for k in keys]
    missing = [i for i, f in enumerate(present) if not f]
    hits = len(keys) - len(missing)
    where = cache.directory if cache.directory is not None else "off"
    say(f"reference cache ({where}): {hits} of {len(keys)} images found"
        + ("; PyTorch is not run" if not missing else f"; running PyTorch on {len(missing)}"))
    held: dict[int, ReferenceTensors] = {}
    if missing:
        computed = _compute(manifest, checkpoint, [prepared[i] for i in missing], vocabulary, train, say)
        for i, tensors in zip(missing, computed):
            cache.put(keys[i], tensors)
            if cache.directory is None:
                held[i] = tensors
        del computed
        release_memory()

    def loader(i: int) -> Callable[[], ReferenceTensors]:
        def load() -> ReferenceTensors:
            tensors = held.pop(i, None) or cache.get(keys[i])
            if tensors is None:
                raise ArtifactError(f"reference cache entry {keys[i]} vanished while checking")
            return tensors
        return load

    return [loader(i) for i in range(len(keys))], hits


def _compute(manifest: Manifest, checkpoint: str | None, prepared: Sequence[PreparedImage],
             vocabulary: Vocabulary, train: Vocabulary, say: Say) -> list[ReferenceTensors]:
    from frozenseg_export.precision.floor import rebuild_reference
    from frozenseg_export.reference_chain import encode_vocabularies, run_chain_tensors, run_decoder_float64

    model = rebuild_reference(manifest, checkpoint)
    runs = {}
    for precision in PRECISIONS[:2]:
        wide = precision == "float64"
        say(f"reference {precision}: text encoder on {vocabulary.num_classes} classes")
        tensors = encode_vocabularies(model, {"check": vocabulary}, wide, train)["check"]
        runs[precision] = run_chain_tensors(model, prepared, tensors, wide, say)
        release_memory()
    runs["isolated64"] = run_decoder_float64(model, runs["float32"], tensors, say)
    del model
    release_memory()
    return [ReferenceTensors(a, b, c) for a, b, c in zip(runs["float32"], runs["float64"], runs["isolated64"])]
