"""mypy over the TensorRT runner and builder, against TensorRT's published type stubs.

TensorRT cannot run here (no GPU), but tensorrt-stubs installs, and it catches what no CPU test
can: a misspelt TensorRT method, a wrong argument type, an IProgressMonitor override that does
not match. Skipped only where tensorrt-stubs is not installed. The settings are pyproject.toml's
[tool.mypy]; `python tests/runtime/test_tensorrt_types.py` runs the same check and prints it.

Two things stand between mypy and these packages; a temporary folder put on MYPYPATH bridges both:
- our import names are not our folder names (`frozenseg_runtime` lives in `runtime/`, see
  package-dir) and mypy finds packages by folder: links named like the imports;
- tensorrt-stubs 10.13 installs `tensorrt/*.pyi` without py.typed, so mypy ignores it, and its
  generated files do not all parse (a parameter named `in`, a required parameter after defaults)
  and shadow `bool` with a DataType constant, which turns every `-> bool` into nothing mypy
  checks: copies, repaired (`repair_stub`, on APIs we never call).
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("frozenseg_runtime.backends.tensorrt", "frozenseg_export.tensorrt")
# Import name -> folder, as package-dir in pyproject.toml (only what the checked packages import).
IMPORT_ROOTS = {"frozenseg_runtime": ROOT / "runtime", "frozenseg_export": ROOT / "export"}
STUBS_DIST = "tensorrt-stubs"


def stubs_distribution() -> importlib.metadata.Distribution | None:
    try:
        return importlib.metadata.distribution(STUBS_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None


def _loosen_parameters(line: str) -> str:
    """`def f(self, a: X = None, b: int) -> R:` -> `def f(self, *args, **kwargs) -> R:`."""
    match = re.match(r"^(\s*def \w+)\((.*)\)(\s*->.*)$", line.rstrip("\n"))
    if match is None:
        return line
    first = match.group(2).split(",")[0].strip()
    params = f"{first}, *args, **kwargs" if first.startswith("self") else "*args, **kwargs"
    return f"{match.group(1)}({params}){match.group(3)}\n"


def repair_stub(text: str, name: str = "stub") -> str:
    """`text` with the slips of generated stubs fixed, or ValueError naming the line it can't fix."""
    lines = text.splitlines(keepends=True)
    for _ in range(100):
        try:
            ast.parse("".join(lines))
            break
        except SyntaxError as exc:
            index = (exc.lineno or 1) - 1
            line = lines[index]
            fixed = re.sub(r"([(,]\s*)in(?=\s*:)", r"\1in_", line)  # `in` is a keyword
            if fixed == line:
                fixed = _loosen_parameters(line)  # e.g. a parameter without default after defaults
            if fixed == line:
                raise ValueError(f"{name}:{exc.lineno}: {exc.msg}: {line.strip()}") from exc
            lines[index] = fixed
    else:
        raise ValueError(f"{name}: more than 100 lines do not parse")
    declarations = [i for i, line in enumerate(lines) if line.startswith("bool: ")]
    rest = "".join(line for i, line in enumerate(lines) if i not in declarations)
    if declarations and re.search(r"(?:->|:)\s*bool\b", rest):
        return rest  # the module's own DataType `bool` hid the builtin from its annotations
    return "".join(lines)


def mypy_path(folder: Path, stubs: importlib.metadata.Distribution) -> Path:
    """`folder` with links named like our imports and repaired copies of the TensorRT stubs."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, target in IMPORT_ROOTS.items():
        link = folder / name
        if not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)
    files = [f for f in stubs.files or () if f.suffix == ".pyi"]
    if not files:
        raise FileNotFoundError(f"{STUBS_DIST} lists no .pyi files (its RECORD is missing?)")
    for file in files:
        copy = folder / str(file)
        if copy.exists():
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(repair_stub(Path(str(stubs.locate_file(file))).read_text(), str(file)))
    return folder


def run_mypy(workdir: Path, stubs: importlib.metadata.Distribution,
             *targets: str) -> tuple[str, int]:
    """(mypy's report with our folder names, its exit status) for packages (`-p`) or files."""
    from mypy import api

    path = mypy_path(workdir / "mypy_path", stubs)
    args = ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(workdir / "cache")]
    for target in targets:
        args += ["-p", target] if not target.endswith(".py") else [target]
    saved = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(path)
    try:
        stdout, stderr, status = api.run(args)
    finally:
        if saved is None:
            os.environ.pop("MYPYPATH", None)
        else:
            os.environ["MYPYPATH"] = saved
    report = stdout + stderr
    for name, folder in IMPORT_ROOTS.items():
        shown = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
        report = report.replace(f"{path / name}{os.sep}", f"{shown}{os.sep}")
    return report, status


@pytest.fixture(scope="module")
def stubs() -> importlib.metadata.Distribution:
    dist = stubs_distribution()
    if dist is None:
        pytest.skip(f"{STUBS_DIST} is not installed (the README's test command installs it "
                    f"with --no-deps); the TensorRT code is type-checked only against it")
    return dist


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy")


def test_tensorrt_runner_and_builder_type_check(stubs, workdir):
    report, status = run_mypy(workdir, stubs, *PACKAGES)
    assert status == 0, f"mypy found errors in {', '.join(PACKAGES)}:\n{report}"


def test_the_stubs_are_really_checked(stubs, workdir):
    """A misuse of TensorRT's API is an error: the stubs resolve and `-> bool` is not hidden (a
    check that passes because TensorRT's types became Any would prove nothing)."""
    probe = workdir / "probe" / "tensorrt_probe.py"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(
        "import tensorrt as trt\n\n\n"
        "def misuse(engine: trt.ICudaEngine, context: trt.IExecutionContext) -> None:\n"
        "    engine.get_tensor_profile_shapes('x', 0)\n"
        "    if not context.execute_async_v3(0):\n"
        "        context.set_input_shape('x', 3)\n"
    )
    report, status = run_mypy(workdir, stubs, str(probe))
    assert status == 1, report
    assert 'has no attribute "get_tensor_profile_shapes"' in report, report
    assert 'No overload variant of "set_input_shape"' in report, report


def test_tensorrt_runner_is_a_runner(stubs, workdir):
    """The Segmenter sees runners only through `backends.base.Runner`: the TensorRT one fits it."""
    probe = workdir / "probe" / "runner_protocol.py"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(
        "from frozenseg_runtime.backends.base import Runner\n"
        "from frozenseg_runtime.backends.tensorrt.runner import TensorRTRunner\n\n\n"
        "def as_runner(runner: TensorRTRunner) -> Runner:\n"
        "    return runner\n"
    )
    report, status = run_mypy(workdir, stubs, str(probe))
    assert status == 0, report


def test_stub_repair():
    text = (
        "from __future__ import annotations\n"
        "class P:\n"
        "    def size(self, in: list[int], out: list[int]) -> int: ...\n"
        "    def scale(self, a: int = None, axis: int) -> bool: ...\n"
        "bool: DataType  # value = <DataType.BOOL: 4>\n"
    )
    repaired = repair_stub(text)
    assert "def size(self, in_: list[int], out: list[int]) -> int: ..." in repaired
    assert "def scale(self, *args, **kwargs) -> bool: ..." in repaired
    assert "bool: DataType" not in repaired  # annotations use bool: the constant went
    kept = "bool: DataType\n__all__ = ['bool']\n"
    assert repair_stub(kept) == kept  # nothing there reads `bool` as a type
    with pytest.raises(ValueError, match="stub:1"):
        repair_stub("x = = 1\n")


if __name__ == "__main__":
    import tempfile

    dist = stubs_distribution()
    if dist is None:
        sys.exit(f"{STUBS_DIST} is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        output, code = run_mypy(Path(tmp), dist, *PACKAGES)
    print(output, end="")
    sys.exit(code)
