"""The CLI turns each kind of project error into its documented exit status and lets anything
else (a bug) through with its traceback."""

from __future__ import annotations

import pytest

import frozenseg_runtime.segment_command as segment_command
from frozenseg_export import errors as export_errors
from frozenseg_export.cli import build_parser, main
from frozenseg_reference import errors as reference_errors
from frozenseg_runtime import errors


def _segment_raising(monkeypatch, exc: BaseException) -> None:
    def run(args):
        raise exc

    monkeypatch.setattr(segment_command, "run_segment", run)


@pytest.mark.parametrize("exc, status", [
    (errors.VocabularyError("no classes"), 2),
    (errors.ImageError("not an image"), 2),
    (errors.ManifestError("no manifest.json"), 3),
    (errors.EngineMismatchError("engine from other graphs"), 3),
    (errors.TensorRTUnavailableError("no TensorRT"), 4),
    (errors.BackendError("no such backend"), 4),
    (export_errors.ExportError("parity fails"), 5),
    (export_errors.EngineBuildError("builder failed"), 5),
    (reference_errors.CheckpointError("not a checkpoint"), 2),
])
def test_each_error_kind_has_its_exit_status(monkeypatch, tmp_path, capsys, exc, status):
    _segment_raising(monkeypatch, exc)
    code = main(["segment", "x.png", "--artifacts", str(tmp_path), "--vocabulary", "cat",
                 "--out", str(tmp_path / "out")])
    assert code == status
    assert f"frozenseg-deploy segment: error: {exc}" in capsys.readouterr().err


@pytest.mark.parametrize("bug", [KeyError("pred_masks"), RuntimeError("ONNX Runtime failed"),
                                 ValueError("numpy shape mismatch")])
def test_a_bug_is_not_turned_into_a_user_error(monkeypatch, tmp_path, bug):
    _segment_raising(monkeypatch, bug)
    with pytest.raises(type(bug)):
        main(["segment", "x.png", "--artifacts", str(tmp_path), "--vocabulary", "cat",
              "--out", str(tmp_path / "out")])


def test_every_project_error_derives_from_the_root_and_has_a_kind():
    kinds = (errors.UsageError, errors.ArtifactError, errors.BackendError, errors.CheckError)
    classes = [c for module in (errors, export_errors, reference_errors) for c in vars(module).values()
               if isinstance(c, type) and issubclass(c, Exception)]
    assert len(classes) > 20
    for cls in classes:
        assert issubclass(cls, errors.FrozenSegError), cls
        if cls is export_errors.CppLibraryError:  # its kind is its C status's, per instance
            assert export_errors.CppLibraryError(3, "x").exit_code == errors.EXIT_CODES["artifact"]
        elif cls not in (errors.FrozenSegError,) + kinds:
            assert sum(issubclass(cls, k) for k in kinds) == 1, cls
    assert errors.EXIT_CODES == {"usage": 2, "artifact": 3, "backend": 4, "check": 5}
    assert all(issubclass(c, ValueError) for c in (errors.VocabularyError, errors.ImageError))


def test_no_error_class_is_defined_outside_the_errors_modules():
    """The runtime's errors.py, and the reference's and exporter's for errors only they raise."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    defined = []
    for folder in ("frozenseg", "export", "runtime"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Exception")):
                    defined.append(f"{path.relative_to(root)}:{node.name}")
    homes = ("runtime/errors.py:", "export/errors.py:", "frozenseg/errors.py:")
    assert all(d.startswith(homes) for d in defined), defined


@pytest.mark.parametrize("argv, fragment", [
    (["segment", "a.png", "--artifacts", "x", "--vocabulary", "cat", "--out", "o",
      "--task", "depth"], "invalid choice: 'depth'"),
    (["segment", "a.png", "--artifacts", "x", "--vocabulary", "cat", "--out", "o",
      "--precision", "fp8"], "invalid choice: 'fp8'"),
    (["export", "--out", "o", "--synthetic", "trained"], "invalid choice: 'trained'"),
    (["export", "--out", "o", "--preset", "huge"], "invalid choice: 'huge'"),
    (["quantize", "--artifacts", "a", "--mixed", "decoder=fp16"], "one precision"),
])
def test_choices_come_from_the_code(capsys, argv, fragment):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert fragment in capsys.readouterr().err


def test_nothing_raises_the_bare_root():
    """Exit status 1 is left to `quantize --require-bars`: every raise names a kind."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    bare = [f"{p.relative_to(root)}" for folder in ("frozenseg", "export", "runtime")
            for p in (root / folder).rglob("*.py")
            if re.search(r"raise FrozenSegError\(", p.read_text())]
    assert bare == []
