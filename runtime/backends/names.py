"""Backend names and `auto`'s rule as a manifest records it (`runtime.backend_choice`): plain data
that the manifest reader needs to check a record when it loads one, and the factory to act on it.
The factory imports the manifest, so they live here, importing nothing of the runtime but its
errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frozenseg_runtime.errors import ManifestError

OPENVINO_CPU = "openvino-cpu"
BACKENDS = ("auto", "onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-trt", "tensorrt", OPENVINO_CPU)
# What `auto` picks, the first usable: ONNX Runtime on a GPU, then OpenVINO on the CPU (on the
# tiny preset's image encoders 1.5-1.7x ONNX Runtime's speed on 2 cores), then ONNX Runtime's CPU.
AUTO_ORDER = ("onnxruntime-trt", "onnxruntime-cuda", OPENVINO_CPU, "onnxruntime-cpu")
# Backends `auto` gives FP32 files only (factory._auto_among says why): none since stop 33, when
# OpenVINO ran quantize's INT8 files within their bars and compiled the INT8 decoder.
FP32_FILES_ONLY: tuple[str, ...] = ()
# The rule of a manifest written before it was recorded (stop 31): its exporter's then, kept as
# that history (C++: unrecorded_backend_choice), not as this runtime's current opinion.
UNRECORDED_CHOICE = {"auto_order": ["onnxruntime-trt", "onnxruntime-cuda", OPENVINO_CPU, "onnxruntime-cpu"],
                     "fp32_files_only": [OPENVINO_CPU]}
# Names auto may never try: itself, and tensorrt, which needs engines built on this machine.
NEVER_AUTO = ("auto", "tensorrt")


@dataclass(frozen=True)
class BackendChoice:
    """`auto`'s rule for one manifest: the order it tries backends in, and those it gives FP32
    files only."""

    auto_order: tuple[str, ...]
    fp32_files_only: tuple[str, ...]


def choice_record() -> dict[str, list[str]]:
    """`auto`'s rule, for the manifest's `runtime.backend_choice`: both runtimes read it there."""
    return {"auto_order": list(AUTO_ORDER), "fp32_files_only": list(FP32_FILES_ONLY)}


def parse_backend_choice(runtime: Any) -> BackendChoice:
    """The rule a manifest's `runtime` section records (UNRECORDED_CHOICE when it has none), checked
    as the C++ reader checks it (core/manifest.cpp, same messages)."""
    record = runtime["backend_choice"] if isinstance(runtime, dict) and "backend_choice" in runtime \
        else UNRECORDED_CHOICE
    lists = []
    for key in ("auto_order", "fp32_files_only"):
        value = record.get(key) if isinstance(record, dict) else None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ManifestError(f"manifest runtime.backend_choice.{key} must be a list of backend names")
        lists.append(tuple(value))
    order, fp32_only = lists
    for name in order + fp32_only:
        if name not in BACKENDS or name in NEVER_AUTO:
            raise ManifestError(f"manifest runtime.backend_choice names backend '{name}', which auto may not pick")
    if not order:
        raise ManifestError("manifest runtime.backend_choice.auto_order is empty")
    return BackendChoice(order, fp32_only)
