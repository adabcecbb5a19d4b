"""Atomic file writes: a path holds either its old content or the complete new one.

Every file the project writes goes through here (folders of files are built in a temporary
folder and renamed into place whole)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def folder_atomic(out: str | os.PathLike[str]) -> Iterator[Path]:
    """`with folder_atomic(out) as tmp:` fill `tmp`, a fresh folder beside `out`; on success it
    replaces `out` whole (the previous `out` comes back if that rename fails), on any error it
    is removed. Temporaries left by killed processes are removed first."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_folders(out)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if out.exists():
            out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            if old.exists():
                old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after a successful rename


def _remove_stale_folders(out: Path) -> None:
    """Temporary folders of `out` whose process is gone (e.g. killed)."""
    for tmp in out.parent.glob(f".{out.name}.tmp-*"):
        try:
            os.kill(int(tmp.name.rsplit("-", 1)[1]), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:
            pass
