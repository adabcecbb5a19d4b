"""Progress messages of long work, one way for every command: `[command] message` on stderr.

Functions that report progress take a `say: Say`; callers pass `progress("export")` to show it,
a list's `append` to keep it, or `quiet` to drop it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

Say = Callable[[str], None]


def progress(command: str) -> Say:
    """A `say` that prints `[command] message` to stderr at once (stdout stays for results)."""

    def say(message: str) -> None:
        print(f"[{command}] {message}", file=sys.stderr, flush=True)

    return say


def quiet(message: str) -> None:
    """A `say` that drops every message."""
