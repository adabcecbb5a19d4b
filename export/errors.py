"""Errors only the exporter raises (export, quantize, build), under the runtime's kinds
(runtime/errors.py: their exit statuses), so the torch-free runtime does not carry them."""

from __future__ import annotations

from frozenseg_runtime.errors import EXIT_CODES, CheckError, FrozenSegError, UsageError


class QuantizeError(UsageError):
    """Bad quantize options (unknown precision, INT8 without calibration images...)."""


class CalibrationImageError(UsageError):
    """The calibration or evaluation image folder is missing, empty or unreadable."""


class ReferenceWeightsError(UsageError):
    """The weights given for the float64 reference are not the ones the artifacts came from."""


class ExportError(CheckError):
    """Export failed its own checks (graph hygiene, TensorRT readiness or parity)."""


class OnnxExportError(CheckError):
    """torch.onnx could not export a subgraph, or the graph it wrote is unusable."""


class CalibrationError(CheckError):
    """INT8 calibration could not produce usable ranges."""


class EngineBuildError(CheckError):
    """TensorRT could not build an engine."""


# fs_status of the C++ library's C API (export/cpp_library.py) -> the exit code of the Python
# error kind that means the same (runtime/errors.py).
STATUS_EXIT_CODES = {
    1: EXIT_CODES["usage"],     # FS_INVALID_ARGUMENT
    2: EXIT_CODES["usage"],     # FS_INVALID_INPUT
    3: EXIT_CODES["artifact"],  # FS_ARTIFACT_ERROR
    4: EXIT_CODES["backend"],   # FS_BACKEND_ERROR
    5: EXIT_CODES["backend"],   # FS_INFERENCE_ERROR: the backend failed while running
    6: FrozenSegError.exit_code,  # FS_OUT_OF_MEMORY
    7: FrozenSegError.exit_code,  # FS_INTERNAL_ERROR: a bug in the library
}


class CppLibraryError(FrozenSegError):
    """A call of the C++ library's C API failed: `status` is its `fs_status`, `message` its
    `fs_last_error`. It exits with the code of the Python error kind the status stands for
    (STATUS_EXIT_CODES): a refused vocabulary 2, damaged artifacts 3, a backend 4."""

    def __init__(self, status: int, message: str, context: str = "") -> None:
        super().__init__(f"{context}status {status}: {message}")
        self.status = status
        self.message = message
        self.exit_code = STATUS_EXIT_CODES.get(status, FrozenSegError.exit_code)
