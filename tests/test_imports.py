"""Static import rules, read with `ast` so that no project module is executed:

- no import cycle anywhere in the project, lazy (function-level) imports included, because a lazy
  cycle is still two modules that cannot be understood, tested or moved apart;
- `frozenseg_runtime` never imports torch or any other heavy / export-time package, at any depth,
  so that the runtime installs with numpy + pillow (+ onnxruntime / TensorRT) alone;
- layering: `frozenseg_reference` may import `frozenseg_runtime` (its numpy code) but never
  `frozenseg_export`; `frozenseg_export` may import both; `frozenseg_bench` (the `bench` command,
  registered by the exporter's command line) may import all three, and neither the runtime nor
  the reference imports it.

What is an edge. `import a.b.c` and `from a.b import c` (c a submodule) are edges to `a.b.c`;
`from a.b import name` (name not a submodule) is an edge to the package `a.b` (its __init__).
Python also runs every parent package's __init__ on the way, but that implicit step is an edge
only when that __init__ itself imports project modules when it runs (top level, not inside a
function such as a PEP 562 `__getattr__`): an __init__ that imports nothing cannot close a cycle,
and one that imports lazily does not make its importers depend on what it imports.
`if TYPE_CHECKING:` imports never run, so they are left out of the cycle check, but they still
count for the forbidden-import and layering checks (a type-only dependency is still a dependency
of the code's meaning, and it would need the package installed to type-check).
`importlib.import_module("x")` / `__import__("x")` with a literal name count as imports of x.
"""

from __future__ import annotations

import ast
import textwrap
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Folder -> import name, as `package-dir` in pyproject.toml.
PROJECT_ROOTS: dict[str, str] = {
    "frozenseg": "frozenseg_reference",
    "export": "frozenseg_export",
    "runtime": "frozenseg_runtime",
    "benchmarks/bench": "frozenseg_bench",
}
# Top-level package -> top-level import names it must never import (at any depth).
HEAVY = {"torch", "torchvision", "open_clip", "timm", "segment_anything", "onnx", "polygraphy",
         # not named in the rule, but each imports `onnx` itself
         "onnxscript", "onnxslim"}
FORBIDDEN: dict[str, frozenset[str]] = {
    "frozenseg_runtime": frozenset(HEAVY | {"frozenseg_reference", "frozenseg_export", "frozenseg_bench"}),
    "frozenseg_reference": frozenset({"frozenseg_export", "frozenseg_bench"}),
    "frozenseg_export": frozenset(),
    "frozenseg_bench": frozenset(),
}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as written (absolute) and where it is."""

    importer: str  # module that imports
    target: str  # absolute dotted name imported (a project module or any other)
    file: str  # relative to the scanned root
    line: int
    lazy: bool  # inside a function body: runs only when the function is called
    type_only: bool  # under `if TYPE_CHECKING:`: never runs

    def where(self) -> str:
        kind = "TYPE_CHECKING" if self.type_only else "lazy" if self.lazy else "top level"
        return f"{self.file}:{self.line} ({kind})"


@dataclass
class Project:
    modules: dict[str, Path]  # dotted name -> file
    imports: list[Import]  # every import, project or not, dotted names resolved

    def __repr__(self) -> str:  # pytest prints fixtures on failure; keep that short
        return f"Project({len(self.modules)} modules, {len(self.imports)} imports)"


def _module_name(path: Path, folder: Path, package: str) -> str:
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _ImportCollector(ast.NodeVisitor):
    """Every import in one file, with relative names resolved and its context recorded."""

    def __init__(self, module: str, is_package: bool, file: str, modules: set[str]) -> None:
        self.module = module
        # The package that relative imports are relative to.
        self.package = module if is_package else module.rpartition(".")[0]
        self.file = file
        self.modules = modules
        self.found: list[Import] = []
        self._depth_function = 0
        self._depth_type_only = 0

    def _add(self, target: str, node: ast.stmt | ast.expr) -> None:
        self.found.append(
            Import(self.module, target, self.file, node.lineno,
                   lazy=self._depth_function > 0, type_only=self._depth_type_only > 0)
        )

    def _function(self, node: ast.AST) -> None:
        self._depth_function += 1
        self.generic_visit(node)
        self._depth_function -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.visit(node.test)
        self._depth_type_only += 1
        for child in node.body:
            self.visit(child)
        self._depth_type_only -= 1
        for child in node.orelse:  # the else branch runs
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            if node.level - 1 >= len(base):
                raise ValueError(f"{self.file}:{node.lineno}: relative import beyond top level")
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        from_package = False
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if alias.name != "*" and submodule in self.modules:
                self._add(submodule, node)  # `from pkg import submodule`
            else:
                from_package = True  # a name defined in `source` itself
        if from_package:
            self._add(source, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (name in ("import_module", "__import__") and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                and not node.args[0].value.startswith(".")):
            self._add(node.args[0].value, node)
        self.generic_visit(node)


def _in_package(path: Path, package_root: Path) -> bool:
    """Part of the importable package: every folder from the file up to the root has an
    __init__.py (runtime/cpp/'s generator scripts are not)."""
    folder = path.parent
    while folder != package_root:
        if not (folder / "__init__.py").is_file():
            return False
        folder = folder.parent
    return True


def scan(root: Path, roots: dict[str, str]) -> Project:
    """Parse every .py file under root/<folder> for each folder -> import name in `roots`."""
    files: dict[str, Path] = {}
    for folder, package in roots.items():
        for path in sorted((root / folder).rglob("*.py")):
            if _in_package(path, root / folder):
                files[_module_name(path, root / folder, package)] = path
    imports: list[Import] = []
    for module, path in files.items():
        file = path.relative_to(root).as_posix()
        collector = _ImportCollector(module, path.name == "__init__.py", file, set(files))
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        imports.extend(collector.found)
    return Project(files, imports)


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph(project: Project) -> dict[str, dict[str, Import]]:
    """Edges module -> project module (one Import as the witness) that run at some point:
    TYPE_CHECKING imports left out; parent-package __init__s only where they do import work."""
    runs = [imp for imp in project.imports if not imp.type_only]
    # An __init__ does import work if it imports a project module when it runs (top level).
    working_inits = {imp.importer for imp in runs
                     if not imp.lazy and project.modules[imp.importer].name == "__init__.py"
                     and _project_module(imp.target, project.modules) is not None}
    graph: dict[str, dict[str, Import]] = defaultdict(dict)
    for imp in runs:
        target = _project_module(imp.target, project.modules)
        if target is None:
            continue
        # A module inside a package runs after that package's __init__ has started, so
        # importing the package again from inside it is a no-op, not an edge.
        inside = set(_parents(imp.importer)) | {imp.importer}
        steps = [p for p in _parents(target) if p in working_inits and p not in inside]
        steps.append(target)
        for step in steps:
            if step != imp.importer and step not in graph[imp.importer]:
                graph[imp.importer][step] = imp
    return graph


def _project_module(name: str, modules: dict[str, Path]) -> str | None:
    """The project module that `import name` lands on (longest known prefix), or None."""
    for candidate in [name, *reversed(_parents(name))]:
        if candidate in modules:
            return candidate
    return None


def find_cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """One readable cycle [a, b, ..., a] per strongly connected component (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    nodes = sorted(set(graph) | {t for edges in graph.values() for t in edges})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return [_shortest_cycle(graph, component) for component in components]


def _shortest_cycle(graph: dict[str, dict[str, Import]], component: list[str]) -> list[str]:
    """Shortest cycle through the component's first module (breadth-first inside it)."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, {})):
                if child not in members or child in previous:
                    continue
                previous[child] = node
                if child == start:
                    chain = [start]
                    while chain[-1] != start or len(chain) == 1:
                        chain.append(previous[chain[-1]])
                    return chain[::-1]
                following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in component {component}")  # impossible for an SCC


def describe_cycle(graph: dict[str, dict[str, Import]], cycle: list[str]) -> str:
    """'a -> b -> a' and, under it, the import line behind each arrow."""
    lines = [" -> ".join(cycle)]
    for a, b in pairwise(cycle):
        imp = graph[a][b]
        via = "" if imp.target == b else f", importing {imp.target} runs {b}/__init__"
        lines.append(f"    {a} -> {b}: {imp.where()}{via}")
    return "\n".join(lines)


def forbidden_imports(project: Project, rules: dict[str, frozenset[str]]) -> list[str]:
    """'importer imports target at file:line (kind)' for every import a rule forbids."""
    found = []
    for imp in project.imports:
        banned = rules.get(imp.importer.split(".")[0], frozenset())
        if imp.target.split(".")[0] in banned:
            found.append(f"{imp.importer} imports {imp.target} at {imp.where()}")
    return found


# --- the project ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> Project:
    found = scan(ROOT, PROJECT_ROOTS)
    for package in PROJECT_ROOTS.values():  # the scan must not pass by finding nothing
        assert package in found.modules, f"{package}/__init__.py not found under {ROOT}"
    assert "frozenseg_reference.common" in found.modules
    return found


def test_no_import_cycles(project: Project) -> None:
    graph = import_graph(project)
    cycles = [describe_cycle(graph, cycle) for cycle in find_cycles(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_runtime_imports_no_torch_no_export_no_reference(project: Project) -> None:
    rules = {"frozenseg_runtime": FORBIDDEN["frozenseg_runtime"]}
    found = forbidden_imports(project, rules)
    assert not found, "frozenseg_runtime must stay torch-free:\n" + "\n".join(found)


def test_layering_reference_never_imports_export(project: Project) -> None:
    rules = {"frozenseg_reference": FORBIDDEN["frozenseg_reference"]}
    found = forbidden_imports(project, rules)
    assert not found, "frozenseg_reference must not import frozenseg_export:\n" + "\n".join(found)


# --- the checker on a synthetic project, so that these tests can fail -------------------------

SYNTHETIC = {
    "core/__init__.py": "",
    "core/a.py": "from core import b\n",  # a -> b at top level
    "core/b.py": "def f():\n    from .a import thing\n    return thing\n",  # b -> a, lazy
    "core/c.py": "from core import d\n",
    "core/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from core import c\n",
    # An eager __init__ and its own submodules: importing the package from inside it is no edge.
    "core/inner/__init__.py": "from core.inner import x\n",
    "core/inner/x.py": "from core.inner import w\n",
    "core/inner/w.py": "",
    "core/lazyinit/__init__.py": "def __getattr__(name):\n    from core.lazyinit import y\n"
                                 "    return getattr(y, name)\n",
    "core/lazyinit/y.py": "from core.lazyinit import z\n",
    "core/lazyinit/z.py": "import json\n",
    "core/eager/__init__.py": "from core.eager.p import P\n",  # does import work when it runs
    "core/eager/p.py": "from core import q\nP = 1\n",
    "core/q.py": "def g():\n    import core.eager.other\n",  # q -> core.eager -> p -> q
    "core/eager/other.py": "",
    "rt/__init__.py": "",
    "rt/ok.py": "import onnxruntime\nimport numpy\n",
    "rt/bad.py": "def load():\n    import torch.nn\n    return torch\n",
    "rt/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from core import a\n",
    "rt/dyn.py": "import importlib\nm = importlib.import_module('onnx.helper')\n",
}


@pytest.fixture()
def synthetic(tmp_path: Path) -> Project:
    for name, text in SYNTHETIC.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return scan(tmp_path, {"core": "core", "rt": "rt"})


def test_checker_finds_a_lazy_cycle_and_only_real_ones(synthetic: Project) -> None:
    graph = import_graph(synthetic)
    cycles = {" -> ".join(cycle) for cycle in find_cycles(graph)}
    # a <-> b (lazy, relative), and q -> (eager __init__) -> p -> q; not c <-> d (TYPE_CHECKING),
    # not lazyinit <-> y (its import runs only in __getattr__), not inner <-> x.
    assert cycles == {"core.a -> core.b -> core.a",
                      "core.eager -> core.eager.p -> core.q -> core.eager"}
    assert set(graph["core.a"]) == {"core.b"}  # `from core import b`: trivial core/__init__
    report = describe_cycle(graph, ["core.a", "core.b", "core.a"])
    assert "core/b.py:2 (lazy)" in report and "core/a.py:1 (top level)" in report
    report = describe_cycle(graph, ["core.q", "core.eager", "core.eager.p", "core.q"])
    assert "core/q.py:2 (lazy), importing core.eager.other runs core.eager/__init__" in report


def test_checker_finds_forbidden_imports(synthetic: Project) -> None:
    rules = {"rt": frozenset({"torch", "onnx", "core"})}
    found = forbidden_imports(synthetic, rules)
    assert [line.split(" at ")[0] for line in found] == [
        "rt.bad imports torch.nn",  # lazy
        "rt.dyn imports onnx.helper",  # importlib, and onnxruntime in rt.ok is not onnx
        "rt.typed imports core.a",  # TYPE_CHECKING still counts for layering
    ]
