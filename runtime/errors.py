"""Typed errors of the torch-free runtime.

Callers (a CLI, a web service) catch `FrozenSegError` to tell bad user input apart from bugs; the
subclasses also derive from `ValueError` so that generic input-validation handlers still work.
Messages say what was expected, what was received and how to fix it.
"""

from __future__ import annotations

__all__ = ["FrozenSegError", "VocabularyError", "ImageError"]


class FrozenSegError(Exception):
    """Base class of every error the runtime raises on purpose."""


class VocabularyError(FrozenSegError, ValueError):
    """The class vocabulary given by the user cannot be used."""


class ImageError(FrozenSegError, ValueError):
    """The image given by the user cannot be used."""
