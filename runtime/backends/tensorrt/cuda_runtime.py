"""The CUDA runtime API through cuda-python, whichever module layout is installed.

cuda-python >= 12.6 (and 13.x) ships it as `cuda.bindings.runtime`; older releases as
`cuda.cudart`. Every call returns `(error, *values)`; `call` turns a non-success error into a
`CudaError` naming it. This is all that the TensorRT builder and runner need from CUDA: no pycuda,
no torch. Nothing here is imported until a TensorRT path asks for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from frozenseg_runtime.errors import CudaError

if TYPE_CHECKING:
    import numpy as np

CUDA_PYTHON_HINT = (
    "pip install cuda-python (cuda-python 12.x for a CUDA 12 driver such as JetPack 6's, 13.x for "
    "a CUDA 13 driver)"
)

_module: Any = None
_module_lock = threading.Lock()


def cudart() -> Any:
    """The cuda-python runtime module; ImportError (with what to install) when absent."""
    global _module
    with _module_lock:
        if _module is None:
            try:
                from cuda.bindings import runtime as module  # cuda-python >= 12.6
            except ImportError:
                try:
                    from cuda import cudart as module  # older cuda-python
                except ImportError as exc:
                    raise ImportError(f"cuda-python is not installed: {CUDA_PYTHON_HINT}") from exc
            _module = module
        return _module


def _error_text(rt: Any, err: Any) -> str:
    """`cudaErrorInsufficientDriver (CUDA driver version is insufficient ...)`: name and meaning."""
    words = []
    for lookup in (rt.cudaGetErrorName, rt.cudaGetErrorString):
        try:
            _, text = lookup(err)
        except Exception:  # noqa: BLE001 - the text is only for the message
            continue
        words.append(text.decode(errors="replace") if isinstance(text, bytes) else str(text))
    if not words:
        return str(err)
    return words[0] if len(words) == 1 else f"{words[0]} ({words[1]})"


def call(result: Any, what: str = "CUDA call") -> Any:
    """Unpack `(error, *values)`: raise on error, else None, the value, or the values."""
    rt = cudart()
    err, *values = result if isinstance(result, tuple) else (result,)
    if err != rt.cudaError_t.cudaSuccess:
        raise CudaError(f"{what} failed: {_error_text(rt, err)}")
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


def device_count() -> tuple[int, str | None]:
    """(number of CUDA devices, why none) without raising: no driver counts as no device."""
    try:
        rt = cudart()
    except ImportError as exc:
        return 0, str(exc)
    try:
        err, *values = rt.cudaGetDeviceCount()
    except RuntimeError as exc:  # cuda-python 13 loads libcudart on first use; it may be absent
        return 0, f"the CUDA runtime library cannot be loaded: {exc}"
    if err != rt.cudaError_t.cudaSuccess:
        return 0, _error_text(rt, err)
    count = int(values[0])
    return count, None if count else "cudaGetDeviceCount reports 0 devices"


@dataclass(frozen=True)
class DeviceInfo:
    """What an engine is tied to: the GPU's name, compute capability (major.minor), SM count and
    memory (the last two tell Jetson Orin modules apart: all report "Orin", 8.7)."""

    index: int
    name: str
    compute_capability: str
    total_memory: int
    integrated: bool  # Jetson: GPU and CPU share one memory
    sm_count: int = 0


def device_info(index: int = 0) -> DeviceInfo:
    rt = cudart()
    prop = call(rt.cudaGetDeviceProperties(index), "cudaGetDeviceProperties")
    name = prop.name.decode(errors="replace") if isinstance(prop.name, bytes) else str(prop.name)
    return DeviceInfo(
        index=index,
        name=name.split("\x00", 1)[0].strip(),
        compute_capability=f"{prop.major}.{prop.minor}",
        total_memory=int(prop.totalGlobalMem),
        integrated=bool(prop.integrated),
        sm_count=int(prop.multiProcessorCount),
    )


def set_device(index: int) -> None:
    """The current device is per thread in CUDA: call it on each thread that enqueues work."""
    call(cudart().cudaSetDevice(index), "cudaSetDevice")


class DeviceBuffer:
    """A cudaMalloc'ed block, freed once (explicitly or when collected)."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = max(int(nbytes), 1)  # a zero-byte request still gets a valid address
        self.ptr: int = int(call(cudart().cudaMalloc(self.nbytes), f"cudaMalloc({self.nbytes} bytes)"))

    def free(self) -> None:
        if self.ptr:
            ptr, self.ptr = self.ptr, 0
            call(cudart().cudaFree(ptr), "cudaFree")

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:  # noqa: BLE001 - interpreter shutdown: the driver frees it anyway
            pass


class PinnedBuffer:
    """Page-locked host memory (cudaMallocHost): cudaMemcpyAsync from pageable numpy memory is
    staged by the driver and effectively synchronous; from pinned memory it is a real DMA."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = max(int(nbytes), 1)
        self.ptr: int = int(call(cudart().cudaMallocHost(self.nbytes), f"cudaMallocHost({self.nbytes} bytes)"))

    def view(self, shape: tuple[int, ...], dtype: type[np.generic]) -> np.ndarray:
        """The first bytes of the buffer as an array of `shape` (no copy; valid until freed)."""
        import ctypes

        import numpy as np

        count = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if count > self.nbytes:
            raise ValueError(f"{count} bytes asked of a pinned buffer of {self.nbytes}")
        raw = memoryview((ctypes.c_char * self.nbytes).from_address(self.ptr)).cast("B")
        array: np.ndarray = np.frombuffer(raw, dtype=dtype, count=count // np.dtype(dtype).itemsize)
        return array.reshape(shape)

    def free(self) -> None:
        if self.ptr:
            ptr, self.ptr = self.ptr, 0
            call(cudart().cudaFreeHost(ptr), "cudaFreeHost")

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:  # noqa: BLE001 - interpreter shutdown: the driver frees it anyway
            pass


class Stream:
    """A non-blocking CUDA stream (it does not synchronise with the legacy default stream)."""

    def __init__(self) -> None:
        rt = cudart()
        self.raw: Any = call(rt.cudaStreamCreateWithFlags(rt.cudaStreamNonBlocking), "cudaStreamCreate")

    @property
    def handle(self) -> int:
        """The cudaStream_t as an integer, which is what TensorRT's Python API takes."""
        return int(self.raw)

    def synchronize(self) -> None:
        call(cudart().cudaStreamSynchronize(self.raw), "cudaStreamSynchronize")

    def destroy(self) -> None:
        if self.raw is not None:
            raw, self.raw = self.raw, None
            call(cudart().cudaStreamDestroy(raw), "cudaStreamDestroy")


def copy_to_device(dst: int, src: int, nbytes: int, stream: Stream) -> None:
    """Enqueue host (pinned, alive until the sync) -> device."""
    rt = cudart()
    call(rt.cudaMemcpyAsync(dst, src, nbytes, rt.cudaMemcpyKind.cudaMemcpyHostToDevice, stream.raw),
         "cudaMemcpyAsync H2D")


def copy_to_host(dst: int, src: int, nbytes: int, stream: Stream) -> None:
    """Enqueue device -> host (pinned); read it after `stream.synchronize()`."""
    rt = cudart()
    call(rt.cudaMemcpyAsync(dst, src, nbytes, rt.cudaMemcpyKind.cudaMemcpyDeviceToHost, stream.raw),
         "cudaMemcpyAsync D2H")


def clear_error() -> None:
    """Reset the thread's last CUDA error, which a failed capture leaves behind (trtexec does the
    same after endCaptureOnError), so the next call does not report it as its own."""
    rt = cudart()
    rt.cudaGetLastError()


class CudaGraph:
    """An instantiated CUDA graph captured from the work one callable enqueues on a stream.

    Capture is thread-local, so the other encoder's thread may keep using CUDA meanwhile."""

    def __init__(self, graph: Any, graph_exec: Any) -> None:
        self._graph = graph
        self._exec = graph_exec

    @classmethod
    def capture(cls, stream: Stream, enqueue: Callable[[], None]) -> "CudaGraph":
        """Capture what `enqueue` puts on `stream`. On any failure nothing leaks: the stream has
        left capture mode, a partial graph is destroyed and the sticky error is cleared (as
        trtexec's endCaptureOnError); the error is raised."""
        rt = cudart()
        call(rt.cudaStreamBeginCapture(stream.raw, rt.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal),
             "cudaStreamBeginCapture")
        try:
            enqueue()
        except BaseException:
            err, partial = rt.cudaStreamEndCapture(stream.raw)  # leave capture mode whatever happened
            if err == rt.cudaError_t.cudaSuccess and partial:
                rt.cudaGraphDestroy(partial)
            clear_error()
            raise
        try:
            graph = call(rt.cudaStreamEndCapture(stream.raw), "cudaStreamEndCapture")
        except CudaError:  # cudaErrorStreamCaptureInvalidated: no graph came back
            clear_error()
            raise
        try:
            graph_exec = call(rt.cudaGraphInstantiate(graph, 0), "cudaGraphInstantiate")
        except CudaError:
            rt.cudaGraphDestroy(graph)
            clear_error()
            raise
        return cls(graph, graph_exec)

    def launch(self, stream: Stream) -> None:
        call(cudart().cudaGraphLaunch(self._exec, stream.raw), "cudaGraphLaunch")

    def destroy(self) -> None:
        rt = cudart()
        if self._exec is not None:
            graph_exec, self._exec = self._exec, None
            call(rt.cudaGraphExecDestroy(graph_exec), "cudaGraphExecDestroy")
        if self._graph is not None:
            graph, self._graph = self._graph, None
            call(rt.cudaGraphDestroy(graph), "cudaGraphDestroy")
