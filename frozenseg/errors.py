"""Errors only the PyTorch reference raises, under the runtime's kinds (runtime/errors.py), so the
torch-free runtime does not carry them."""

from __future__ import annotations

from frozenseg_runtime.errors import UsageError


class CheckpointError(UsageError):
    """A checkpoint file cannot be read or does not fit the preset."""


class SyntheticModeError(UsageError):
    """An unknown kind of synthetic weights was asked for."""
