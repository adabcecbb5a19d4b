"""Export safety: skip when up to date, mismatching checkpoints fail before writing, an
interrupted export leaves nothing half-written."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from frozenseg_export.onnx.run import ExportOptions, run_export
from frozenseg_reference.checkpoint import CheckpointError


def test_rerun_with_identical_inputs_is_skipped(tiny_artifacts):
    out, _ = tiny_artifacts
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    messages: list[str] = []
    run_export(out, ExportOptions(preset="tiny", text_graph_max_classes=None), say=messages.append)
    assert any("up to date" in m for m in messages)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_changed_file_is_not_up_to_date(tiny_artifacts, tmp_path):
    from frozenseg_export.onnx.run import up_to_date
    from frozenseg_runtime.manifest import load_manifest

    out, _ = tiny_artifacts
    key = load_manifest(out).raw["export_key"]
    assert up_to_date(out, key)
    assert not up_to_date(out, "0" * 64)
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in out.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    with open(copy / "sam_image.onnx", "ab") as f:
        f.write(b"tampered")
    assert not up_to_date(copy, key)


def test_checkpoint_of_another_preset_fails_before_writing(tmp_path, tiny_model, write_checkpoint):
    ckpt = write_checkpoint(tiny_model, tmp_path / "tiny.pth")
    out = tmp_path / "artifacts"
    with pytest.raises(CheckpointError, match="does not match preset 'tiny_resnet'"):
        run_export(out, ExportOptions(checkpoint=str(ckpt), preset="tiny_resnet"), say=lambda m: None)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [ckpt]


def _export_process(out, *extra):
    """The export as its own process, with Ctrl-C's default action: a suite started in the
    background (`cmd &`, nohup) passes SIGINT on ignored, and Python then keeps ignoring it."""
    return subprocess.Popen(
        [sys.executable, "-m", "frozenseg_export.cli", "export", "--preset", "tiny", "--out",
         str(out), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_partial(out, proc, timeout=300.0):
    """Wait until the temporary folder holds a first graph: the export is mid-way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        temps = list(out.parent.glob(f".{out.name}.tmp-*"))
        if temps and any(temps[0].glob("*.onnx")):
            return temps[0]
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.2)
    raise AssertionError("export never got mid-way")


def _interrupt(proc) -> None:
    """Ctrl-C, repeated like an impatient user: a SIGINT landing while a native library runs
    has been seen to go unnoticed (about 1 run in 10 here), and these tests are about cleanup."""
    for _ in range(20):
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=2)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait(timeout=120)


def test_killed_export_is_cleaned_up_and_an_interrupted_one_leaves_no_artifact(tmp_path):
    """A killed export leaves its temporary folder (SIGKILL gives no chance to clean up); the next
    export removes it before it starts its own, and that one, interrupted mid-way with Ctrl-C,
    removes its own and leaves no artifact. One test for both: each export process costs the
    suite about 15 s before it is mid-way."""
    out = tmp_path / "artifacts"
    proc = _export_process(out, "--no-verify")
    stale = _wait_for_partial(out, proc)
    proc.kill()
    proc.wait(timeout=60)
    assert not out.exists()
    assert stale.exists()
    after = _export_process(out, "--no-verify")
    own = out.with_name(f".{out.name}.tmp-{after.pid}")
    deadline = time.monotonic() + 300
    while not own.exists():
        assert after.poll() is None, after.stderr.read()
        assert time.monotonic() < deadline, "the next export never started its temporary folder"
        time.sleep(0.1)
    assert not stale.exists(), "the next export removes a killed export's temporary folder"
    assert _wait_for_partial(out, after) == own
    _interrupt(after)
    assert after.returncode != 0
    assert not out.exists()
    assert not own.exists(), "an interrupted export removes its temporary folder"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_export_key_covers_every_source_file_of_every_stage():
    """The skip key hashes the reference, the exporter (all its subpackages) and the runtime code
    the reference shares: a change in any of them means a new export."""
    from pathlib import Path

    from frozenseg_export.onnx.run import source_files

    root = Path(__file__).resolve().parents[2]
    covered = {p.resolve() for p in source_files()}
    expected = {p.resolve() for folder in ("frozenseg", "export", "runtime")
                for p in (root / folder).rglob("*.py") if "cpp" not in p.relative_to(root).parts}
    assert covered == expected
    assert root / "export" / "onnx" / "units.py" in covered
    assert root / "export" / "precision" / "int8.py" in covered
