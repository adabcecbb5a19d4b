"""The C++ tests' expected values that come from the Python runtime are what it says today.

Some C++ tests compare against files written by generators under runtime/cpp/tests/data/ (TensorRT
engine records and refusals; the graph registry and the encoder-schedule rule need none, the C++
library reads them from the manifest). Regenerating them here and comparing byte
for byte means a change to the Python side that the C++ side does not follow fails a test,
instead of leaving the C++ tests checking against an old answer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "runtime" / "cpp" / "tests" / "data"


def _generator(name: str):
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tensorrt_fixtures_are_what_the_python_backend_writes_and_says(tmp_path):
    out = tmp_path / "tensorrt"
    out.mkdir()
    _generator("make_tensorrt_cases").main(out)
    fresh, committed = _files(out), _files(DATA / "tensorrt")
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"regenerate with make_tensorrt_cases.py: {changed}"
