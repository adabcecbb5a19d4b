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


def require_cpp_library(library: str | os.PathLike, backend: str | None = None) -> str:
    """The C++ library's path once it is built, and built with `backend` when one is named
    (openvino-cpu also needs OpenVINO's Python package: the tests compare with it). Missing, it
    skips, or fails under FS_CPP_REQUIRED=1 (README's command builds it, with OpenVINO)."""
    from frozenseg_export.cpp_library import library_backends

    path = os.fspath(library)
    if not os.path.isfile(path):
        _missing(f"{path} is not built (README's test command builds it: cmake --build build)")
    if backend is not None and backend not in library_backends(path):
        _missing(f"{path} was built without {backend} (for openvino-cpu: scripts/fetch_openvino_sdk.sh, "
                 f"then reconfigure)")
    if backend == "openvino-cpu":
        require_openvino()
    return path


def _missing(message: str) -> None:
    if os.environ.get("FS_CPP_REQUIRED") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
