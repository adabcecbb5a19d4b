"""The C++ tests' expected values that come from the Python runtime are what it says today.

Some C++ tests compare against files written by generators under runtime/cpp/tests/data/ (the
graph registry, TensorRT engine records and refusals). Regenerating them here and comparing byte
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


def test_graph_registry_fixture_is_the_python_registry(tmp_path):
    _generator("make_graph_registry").main(tmp_path)
    assert (tmp_path / "graph_registry.json").read_bytes() == (DATA / "graph_registry.json").read_bytes()


def test_schedule_fixture_is_the_python_rule(tmp_path):
    _generator("make_schedule_cases").main(tmp_path)
    assert (tmp_path / "schedule_cases.json").read_bytes() == (DATA / "schedule_cases.json").read_bytes()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tensorrt_fixtures_are_what_the_python_backend_writes_and_says(tmp_path):
    out = tmp_path / "tensorrt"
    out.mkdir()
    _generator("make_tensorrt_cases").main(out)
    fresh, committed = _files(out), _files(DATA / "tensorrt")
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"regenerate with make_tensorrt_cases.py: {changed}"


def test_a_changed_registry_is_caught(tmp_path, monkeypatch):
    """The comparison above can fail: a registry with a graph's sharing flipped gives other bytes."""
    module = _generator("make_graph_registry")
    import frozenseg_runtime.graphs as graphs

    info = graphs.REGISTRY["decoder"]
    monkeypatch.setitem(module.REGISTRY, "decoder", type(info)(**{**info.__dict__, "shares_activations": False}))
    module.main(tmp_path)
    assert (tmp_path / "graph_registry.json").read_bytes() != (DATA / "graph_registry.json").read_bytes()
