"""The machine and the software versions a figure belongs to."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from frozenseg_runtime.schedule import usable_cores

JETSON_MODEL = Path("/proc/device-tree/model")


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _first_version(*distributions: str) -> str | None:
    return next((v for v in map(_version, distributions) if v), None)


def _command(*argv: str) -> str | None:
    """A tool's output (stripped), or None where the tool is missing or fails."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip() or None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def jetson_model() -> str | None:
    """The module's name from the device tree ("NVIDIA Jetson AGX Orin Developer Kit"), or None."""
    try:
        model = JETSON_MODEL.read_bytes().rstrip(b"\0").decode(errors="replace")
    except OSError:
        return None
    return model if "jetson" in model.lower() else None


def gpu_facts() -> dict[str, Any]:
    """GPU name, driver, CUDA as torch and nvidia-smi see them (None where absent)."""
    facts: dict[str, Any] = {"gpu": None, "gpu_memory_mib": None, "driver": None, "cuda_runtime": None}
    smi = _command("nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits")
    if smi:
        name, memory, driver = (part.strip() for part in smi.splitlines()[0].split(",")[:3])
        facts.update(gpu=name, gpu_memory_mib=float(memory), driver=driver)
    try:
        import torch

        if torch.cuda.is_available():
            facts["gpu"] = facts["gpu"] or torch.cuda.get_device_name()
            facts["cuda_runtime"] = torch.version.cuda
            facts["compute_capability"] = ".".join(map(str, torch.cuda.get_device_capability()))
    except ImportError:
        pass
    jetson = jetson_model()
    if jetson:
        facts["jetson_model"] = jetson
        facts["jetson_power_mode"] = _command("nvpmodel", "-q")
        facts["gpu"] = jetson  # torch says only "Orin" on every Orin module
    return facts


def onnxruntime_facts() -> dict[str, Any]:
    try:
        import onnxruntime
    except ImportError:
        return {"onnxruntime": None, "onnxruntime_providers": []}
    return {"onnxruntime": onnxruntime.__version__,
            "onnxruntime_providers": onnxruntime.get_available_providers()}


def tensorrt_version() -> str | None:
    """TensorRT's version, or None where only its type stubs (or nothing) are installed."""
    from frozenseg_runtime.backends.tensorrt.env import import_tensorrt
    from frozenseg_runtime.errors import TensorRTUnavailableError

    try:
        return str(import_tensorrt().__version__)
    except TensorRTUnavailableError:
        return None


def torch_facts() -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        return {"torch": None, "torch_threads": None}
    return {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}


def describe_environment() -> dict[str, Any]:
    """Everything `bench` writes under `environment`."""
    return {
        "cpu": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **gpu_facts(),
        **torch_facts(),
        **onnxruntime_facts(),
        "tensorrt": tensorrt_version(),
        "numpy": _version("numpy"),
        "frozenseg_deploy": _first_version("frozenseg-deploy"),
        "thread_environment": {name: os.environ[name] for name in
                               ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
                               if name in os.environ},
    }
