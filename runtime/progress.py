"""Progress messages of long work, one way for every command: `[command] message` on stderr.

Functions that report progress take a `say: Say`; callers pass `progress("export")` to show it,
a list's `append` to keep it, or `quiet` to drop it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

Say = Callable[[str], None]


def progress(command: str) -> Say:
    """A `say` that prints `[command] message` to stderr at once (stdout stays for results)."""

    def say(message: str) -> None:
        print(f"[{command}] {message}", file=sys.stderr, flush=True)

    return say


def quiet(message: str) -> None:
    """A `say` that drops every message."""


@contextlib.contextmanager
def quiet_root_logger(level: int = logging.ERROR) -> Iterator[None]:
    """Raise the root logger's level for a block: libraries (open_clip, ONNX Runtime's quantizer)
    warn about things we do on purpose; the level is restored after, never set globally."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(level)
    try:
        yield
    finally:
        root.setLevel(previous)
