"""The suite's session-wide exports: a quantized copy of an export, and the stress chain (the
tiny preset's `--synthetic stress` export, then its quantized copy) made in a process of its own.

Why a process: an export of the tiny preset takes about 90 s, most of it torch.export's tracing of
the decoder on one core, and a quantize about 100 s. The stress chain depends on nothing the rest
of the session makes, so conftest starts it when the session starts and the default export runs
beside it on the other core; a test that needs it waits for what is not done yet."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

EXPORT_RESULT = "export.pickle"
QUANTIZE_RESULT = "quantize.pickle"
LOG = "stress-chain.log"


def quantize_copy(artifacts: Path, base: Path, eval_count: int) -> tuple[Path, Path, dict[str, Any], list[str]]:
    """A copy of an export under `base`, lowered to FP16, INT8 and mixed (calibrated on two
    generated images): (artifacts, calibration folder, precisions, messages)."""
    from PIL import Image

    from frozenseg_export.precision.run import QuantizeOptions, run_quantize
    from frozenseg_export.synthetic_images import structured_images

    out = base / "artifacts"
    shutil.copytree(artifacts, out)
    calibration = base / "calibration"
    calibration.mkdir()
    for i, image in enumerate(structured_images(2, seed=3)):
        Image.fromarray(image).save(calibration / f"image{i}.png")
    messages: list[str] = []
    options = QuantizeOptions(calibration_images=str(calibration), calibration_count=2, eval_count=eval_count)
    precisions = run_quantize(out, options, say=messages.append)
    return out, calibration, precisions, messages


def _write_result(path: Path, value: Any) -> None:
    """Pickled and written atomically: the parent never reads half a result."""
    from frozenseg_runtime.atomic import write_bytes_atomic

    write_bytes_atomic(path, pickle.dumps(value))


def _attempt(path: Path, make: Callable[[], Any]) -> bool:
    """Write `make()`'s value to `path`, or the traceback in its place; whether it was made."""
    try:
        value = make()
    except BaseException:  # noqa: BLE001 (handed to the test that needs it)
        _write_result(path, ("failed", traceback.format_exc()))
        return False
    _write_result(path, ("ok", value))
    return True


def _stress_chain(base: str, quantize: bool) -> None:
    """The child's work: export, then (if asked) quantize, each result written when it is done."""
    folder = Path(base)
    log = open(folder / LOG, "w", buffering=1)  # noqa: SIM115 (the process's own stdout and stderr)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    from frozenseg_export.onnx.run import ExportOptions, run_export

    out = folder / "export-stress" / "tiny"

    def export() -> tuple[Path, list[str]]:
        messages: list[str] = []
        run_export(out, ExportOptions(preset="tiny", synthetic="stress", text_graph_max_classes=None),
                   say=messages.append)
        return out, messages

    if _attempt(folder / EXPORT_RESULT, export) and quantize:
        _attempt(folder / QUANTIZE_RESULT, lambda: quantize_copy(out, folder / "stress-quantize", eval_count=1))


class StressChain:
    """The stress chain in a spawned process, started by `start()` or by the first `result(name)`,
    which waits for one of its results."""

    def __init__(self, base: Path, quantize: bool) -> None:
        self.base = base
        self.quantizes = quantize
        self.process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> None:
        if self.process is None:
            self.process = multiprocessing.get_context("spawn").Process(
                target=_stress_chain, args=(os.fspath(self.base), self.quantizes), name="stress-chain")
            self.process.start()

    def result(self, name: str) -> Any:
        self.start()
        assert self.process is not None
        path = self.base / name
        while not path.is_file():
            if not self.process.is_alive() and not path.is_file():
                raise RuntimeError(f"the stress chain's process exited ({self.process.exitcode}) without "
                                   f"{name}; its log:\n{self._log_tail()}")
            time.sleep(0.2)
        status, value = pickle.loads(path.read_bytes())
        if status != "ok":
            raise RuntimeError(f"the stress chain failed making {name}:\n{value}")
        return value

    def stop(self) -> None:
        """Ends the process if the session ends first (a test run with -x, or -k on a few tests)."""
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
        if self.process is not None:
            self.process.join(timeout=60)

    def _log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join((self.base / LOG).read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"
