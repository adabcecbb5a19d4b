"""Atomic file writes: a path holds either its old content or the complete new one.

Every file the project writes goes through here (folders of files are built in a temporary
folder and renamed into place whole)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


def temporary_sibling(path: Path) -> Path:
    """A private name beside `path` (same folder, so the rename stays on one filesystem)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Let `write` fill a temporary file beside `path`, then rename it over `path`; for writers
    that want a path of their own (onnx.save_model, TensorRT, torch.save)."""
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes | bytearray | memoryview) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))
