"""Is TensorRT usable here: the `tensorrt` package, cuda-python and a CUDA GPU.

The builder (`frozenseg-deploy build`) and the runtime's `tensorrt` backend ask the same question;
the answer is one typed error whose message says what is missing and what to install.
"""

from __future__ import annotations

from types import ModuleType

from frozenseg_runtime.backends.tensorrt import cuda_runtime
from frozenseg_runtime.errors import TensorRTUnavailableError

INSTALL_HINT = (
    "pip install tensorrt cuda-python (or pip install 'frozenseg-deploy[tensorrt]'); on a Jetson, "
    "TensorRT comes with JetPack: sudo apt install python3-libnvinfer, then pip install "
    "'cuda-python>=12.6,<13'"
)
# The oldest TensorRT this code runs on: strongly typed networks (10.0), device_memory_size_v2 and
# set_device_memory with a size (10.1). JetPack 6.0 ships TensorRT 8.6; 6.1 and 6.2 ship 10.3.
MIN_TENSORRT = (10, 1)
# What every TensorRT Python package has; a folder of type stubs (tensorrt-stubs) has none of it.
_REAL_API = ("__version__", "Builder", "Runtime", "Logger")


def import_tensorrt() -> ModuleType:
    """The real `tensorrt` package, or TensorRTUnavailableError.

    `import tensorrt` also succeeds where only tensorrt-stubs is installed: its `tensorrt/` folder
    of `.pyi` files imports as an empty namespace package (no `__file__`, no API)."""
    try:
        import tensorrt
    except (ImportError, OSError) as exc:  # OSError: the package is there, libnvinfer is not
        raise TensorRTUnavailableError(
            f"TensorRT's Python package cannot be imported ({exc}): {INSTALL_HINT}"
        ) from exc
    if getattr(tensorrt, "__file__", None) is None or not all(hasattr(tensorrt, n) for n in _REAL_API):
        where = ", ".join(getattr(tensorrt, "__path__", [])) or "an empty module"
        raise TensorRTUnavailableError(
            f"TensorRT is not installed: only its type stubs are (`tensorrt` is {where}, without "
            f"TensorRT's Python API): {INSTALL_HINT}"
        )
    return tensorrt


def tensorrt_version_problem(version: str) -> str | None:
    """Why TensorRT `version` ("10.3.0.30") cannot run this code, or None when it can."""
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return f"TensorRT reports an unreadable version {version!r}"
    if (major, minor) >= MIN_TENSORRT:
        return None
    need = ".".join(map(str, MIN_TENSORRT))
    return (f"TensorRT {version} is too old: FrozenSeg needs TensorRT >= {need} (strongly typed "
            f"networks, device_memory_size_v2, user-managed context memory). On a Jetson that is "
            f"JetPack 6.1 or later (TensorRT 10.3; JetPack 6.0 has TensorRT 8.6); elsewhere pip "
            f"install 'tensorrt>={need}'")


def require_tensorrt(device: int = 0) -> tuple[ModuleType, cuda_runtime.DeviceInfo]:
    """(the tensorrt module, the GPU it will run on), or TensorRTUnavailableError."""
    trt = import_tensorrt()
    problem = tensorrt_version_problem(str(trt.__version__))
    if problem is not None:
        raise TensorRTUnavailableError(problem)
    try:
        cuda_runtime.cudart()
    except ImportError as exc:
        raise TensorRTUnavailableError(f"{exc}; TensorRT needs it here: {INSTALL_HINT}") from exc
    count, why = cuda_runtime.device_count()
    if count == 0:
        raise TensorRTUnavailableError(
            f"no CUDA GPU found ({why}): TensorRT engines are built and run on an NVIDIA GPU with "
            f"its driver; on a machine without one, export here and build on the target "
            f"(`frozenseg-deploy build --trtexec-only` writes trtexec commands for it)"
        )
    if device >= count:
        raise TensorRTUnavailableError(f"CUDA device {device} requested, only {count} present")
    return trt, cuda_runtime.device_info(device)
