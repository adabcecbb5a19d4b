"""The graph registry (runtime/graphs.py) as JSON, for the C++ runtime's copy of it to be checked.

    .venv/bin/python runtime/cpp/tests/data/make_graph_registry.py

Writes graph_registry.json beside this script. test_core_manifest.cpp asserts that the C++
registry (core/manifest.cpp) says the same; tests/cpp/test_cpp_fixtures.py that this file is what
the Python registry says today, so neither side can change alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from frozenseg_runtime.graphs import REGISTRY

HERE = Path(__file__).resolve().parent


def registry_json() -> str:
    graphs = [{"name": info.name, "inputs": list(info.inputs), "outputs": list(info.outputs),
               "shares_activations": info.shares_activations} for info in REGISTRY.values()]
    return json.dumps({"graphs": graphs}, indent=1) + "\n"


def main(out: Path = HERE) -> None:
    (out / "graph_registry.json").write_text(registry_json())


if __name__ == "__main__":
    main()
