"""Errors only the exporter raises (export, quantize, build), under the runtime's kinds
(runtime/errors.py: their exit statuses), so the torch-free runtime does not carry them."""

from __future__ import annotations

from frozenseg_runtime.errors import CheckError, UsageError


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
