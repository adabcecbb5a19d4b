"""A real Triton server for the serving tests: nvidia-pytriton's bundled tritonserver 2.51 on the
loopback address, serving a `--backend python` repository of the tiny preset, stopped at the end.

Needs the tool's venv with nvidia-pytriton (binary only) and the server venv
(scripts/make_triton_env.sh; FS_TRITON_ENV overrides its place). Without them the tests skip and
say so, except under FS_TRITON_REQUIRED=1 (README's test command), where they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def server_env() -> Path:
    return Path(os.environ.get("FS_TRITON_ENV", ROOT / ".triton-env"))


def require_triton() -> Path:
    """The server venv, or a skip (a failure under FS_TRITON_REQUIRED=1) naming what is missing."""
    missing = []
    try:
        from frozenseg_export.triton.local_server import bundled_server_dir

        bundled_server_dir()
    except Exception as exc:  # BackendError: the wheel is absent
        missing.append(str(exc))
    env = server_env()
    if not (env / "bin" / "python").exists():
        missing.append(f"no server venv at {env}: bash scripts/make_triton_env.sh")
    try:
        import tritonclient.grpc  # noqa: F401
        import tritonclient.http  # noqa: F401
    except ImportError:
        missing.append("tritonclient is not installed: pip install -e '.[serve]'")
    if missing:
        message = "Triton server tests need: " + "; ".join(missing)
        if os.environ.get("FS_TRITON_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return env


@pytest.fixture(scope="session")
def triton_env() -> Path:
    """The server venv (see require_triton)."""
    return require_triton()
