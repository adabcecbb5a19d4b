"""What a test needs installed, and what happens when it is missing: a skip that names it, or a
failure where the suite must run everything (README's test command sets the FS_*_REQUIRED flags)."""

from __future__ import annotations

import os

import pytest

OPENVINO_REQUIRED = "FS_OPENVINO_REQUIRED"


def require_openvino() -> str:
    """The openvino-cpu backend's name once OpenVINO's Python package imports. Missing, it skips
    (at module level too), or fails under FS_OPENVINO_REQUIRED=1: README's test command installs
    the `openvino` extra, while the Python 3.10 leg runs without it and may skip."""
    try:
        import openvino  # noqa: F401
    except ImportError as error:
        message = f"OpenVINO is not installed ({error}): pip install 'frozenseg-deploy[openvino]'"
        if os.environ.get(OPENVINO_REQUIRED) == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return "openvino-cpu"
