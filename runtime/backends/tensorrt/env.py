"""Is TensorRT usable here: the `tensorrt` package, cuda-python and a CUDA GPU.

The builder (`frozenseg-deploy build`) and the runtime's `tensorrt` backend ask the same question;
the answer is one typed error whose message says what is missing and what to install.
"""

from __future__ import annotations

from typing import Any

from frozenseg_runtime.backends.tensorrt import cuda_runtime as cuda_rt
from frozenseg_runtime.errors import FrozenSegError

INSTALL_HINT = (
    "pip install tensorrt cuda-python (or pip install 'frozenseg-deploy[tensorrt]'); on a Jetson, "
    "TensorRT comes with JetPack: sudo apt install python3-libnvinfer, then pip install "
    "'cuda-python>=12.6,<13'"
)


class TensorRTUnavailableError(FrozenSegError, RuntimeError):
    """TensorRT's Python package, cuda-python or a CUDA GPU is missing."""


def import_tensorrt() -> Any:
    try:
        import tensorrt
    except (ImportError, OSError) as exc:  # OSError: the package is there, libnvinfer is not
        raise TensorRTUnavailableError(
            f"TensorRT's Python package cannot be imported ({exc}): {INSTALL_HINT}"
        ) from exc
    return tensorrt


def require_tensorrt(device: int = 0) -> tuple[Any, cuda_rt.DeviceInfo]:
    """(the tensorrt module, the GPU it will run on), or TensorRTUnavailableError."""
    trt = import_tensorrt()
    try:
        cuda_rt.cudart()
    except ImportError as exc:
        raise TensorRTUnavailableError(f"{exc}; TensorRT needs it here: {INSTALL_HINT}") from exc
    count, why = cuda_rt.device_count()
    if count == 0:
        raise TensorRTUnavailableError(
            f"no CUDA GPU found ({why}): TensorRT engines are built and run on an NVIDIA GPU with "
            f"its driver; on a machine without one, export here and build on the target "
            f"(`frozenseg-deploy build --trtexec-only` writes trtexec commands for it)"
        )
    if device >= count:
        raise TensorRTUnavailableError(f"CUDA device {device} requested, only {count} present")
    return trt, cuda_rt.device_info(device)


def tensorrt_problem() -> str | None:
    """Why TensorRT cannot be used here, or None when it can."""
    try:
        require_tensorrt()
    except TensorRTUnavailableError as exc:
        return str(exc)
    return None
