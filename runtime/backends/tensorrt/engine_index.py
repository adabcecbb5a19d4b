"""`ARTIFACTS/engines/index.json`: which engine file serves each (graph, precision).

The builder records each engine it writes; the runtime's `tensorrt` backend looks engines up here,
so it never guesses file names. Written atomically (a reader sees the old index or the new one),
with paths relative to the engines folder so that an artifacts folder can be copied as a whole.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.backends.tensorrt.engine_metadata import EngineMetadata, rebuild_command
from frozenseg_runtime.errors import EngineMetadataError, EngineMissingError

ENGINES_DIR = "engines"
INDEX_NAME = "index.json"
INDEX_SCHEMA = 1


@dataclass(frozen=True)
class IndexEntry:
    graph: str
    precision: str
    engine: str  # file name in the engines folder
    metadata: str  # its JSON sidecar
    content_key: str


def engines_dir(artifacts: str | os.PathLike[str]) -> Path:
    return Path(artifacts) / ENGINES_DIR


def engine_file_name(graph: str, precision: str) -> str:
    return f"{graph}.{precision}.engine"


def read_index(folder: str | os.PathLike[str]) -> dict[tuple[str, str], IndexEntry]:
    """The index of an engines folder; empty when there is none yet."""
    path = Path(folder) / INDEX_NAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema_version") != INDEX_SCHEMA:
            raise ValueError(f"schema_version {data.get('schema_version')!r} is not {INDEX_SCHEMA}")
        entries = [IndexEntry(**e) for e in data["engines"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise EngineMetadataError(
            f"cannot read engine index {path}: {exc}; delete it and run frozenseg-deploy build --force"
        ) from exc
    return {(e.graph, e.precision): e for e in entries}


def write_index(folder: str | os.PathLike[str], entries: dict[tuple[str, str], IndexEntry]) -> Path:
    ordered = [asdict(entries[k]) for k in sorted(entries)]
    text = json.dumps({"schema_version": INDEX_SCHEMA, "engines": ordered}, indent=2) + "\n"
    return write_bytes_atomic(Path(folder) / INDEX_NAME, text.encode())


def record_engine(folder: str | os.PathLike[str], meta: EngineMetadata, metadata_file: str) -> IndexEntry:
    """Add or replace the entry of `meta`'s (graph, precision)."""
    entries = read_index(folder)
    entry = IndexEntry(meta.graph, meta.precision, meta.engine_file, metadata_file, meta.content_key)
    entries[(meta.graph, meta.precision)] = entry
    write_index(folder, entries)
    return entry


def find_engine(artifacts: str | os.PathLike[str], graph: str, precision: str) -> IndexEntry:
    """The entry of (graph, precision), or EngineMissingError with the build command."""
    folder = engines_dir(artifacts)
    entry = read_index(folder).get((graph, precision))
    if entry is None:
        mixed = "" if precision == "fp32" else " (or with the manifest precision that uses it, e.g. --precision mixed)"
        raise EngineMissingError(
            f"no TensorRT engine for {graph} at {precision} in {folder / INDEX_NAME}: build it on "
            f"this machine with {rebuild_command(artifacts, precision, [graph], force=False)}{mixed}"
        )
    return entry
