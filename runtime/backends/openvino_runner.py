"""OpenVINO on the CPU (`openvino-cpu`) as a runner: the manifest's ONNX graphs compiled by OpenVINO.

Named `openvino_runner` so that it never shadows the `openvino` package, which is imported only
when this backend is chosen (a missing one is a BackendError naming what to install).

OpenVINO's CPU plugin is fastest on static shapes, so each distinct feed shape gets its own
compiled model, kept in a small least-recently-used cache (`MAX_SHAPES`): an image size or a
vocabulary size seen again runs at once, and a server seeing ever new sizes holds a bounded number
of compiled models. Compiled blobs also go to OpenVINO's own disk cache (`CACHE_DIR`) beside the
vocabulary cache, so a new process compiles a seen shape from the blob instead of from ONNX.

Precision is always set, never left to OpenVINO: its CPU plugin computes in bfloat16 by default on
CPUs that have it, so FP32 graphs ask for f32 explicitly, and graphs marked for bf16
(`GraphSpec.compute_precision`) ask for bf16 after the CPU flags were checked; each compiled
model's precision is read back and a mismatch refused.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime.backends.base import BaseRunner
from frozenseg_runtime.backends.cpu_features import require_bf16
from frozenseg_runtime.backends.names import OPENVINO_CPU
from frozenseg_runtime.errors import BackendError, PrecisionUnavailableError
from frozenseg_runtime.manifest import BF16, GraphSpec
from frozenseg_runtime.text.cache import MEMORY_ONLY, default_cache_dir

BACKEND = OPENVINO_CPU
DEVICE = "CPU"
MAX_SHAPES = 4  # compiled models kept per graph, one per feed shape; the oldest goes beyond
PERFORMANCE_HINTS = ("LATENCY", "THROUGHPUT")
# The runtime's precision names -> OpenVINO's INFERENCE_PRECISION_HINT values.
INFERENCE_PRECISIONS = {"fp32": "f32", BF16: "bf16"}

Shape = tuple[tuple[int, ...], ...]  # one shape per input, in the manifest's order


def import_openvino() -> Any:
    try:
        import openvino
    except ImportError as exc:
        raise BackendError(
            "OpenVINO is not installed: pip install 'frozenseg-deploy[openvino]' (or openvino) "
            "for the openvino-cpu backend") from exc
    return openvino


def openvino_available() -> bool:
    """Whether the openvino package imports here (what `auto` asks before picking it)."""
    try:
        import_openvino()
    except BackendError:
        return False
    return True


def compiled_cache_folder(cache_dir: str | os.PathLike[str] | None) -> Path | None:
    """OpenVINO's blob folder for the runtime's `cache_dir` option: `openvino/` beside the default
    vocabulary folder (None), inside a given folder, or none (MEMORY_ONLY)."""
    if cache_dir is None:
        return default_cache_dir().parent / "openvino"
    if os.fspath(cache_dir) == MEMORY_ONLY:
        return None
    return Path(cache_dir) / "openvino"


def compile_config(spec: GraphSpec, threads: int | None, performance_hint: str,
                   cache_folder: Path | None) -> dict[str, str]:
    """The CPU plugin's properties for one graph: precision (checked against the CPU for bf16),
    performance hint, threads and blob cache."""
    precision = spec.compute_precision or "fp32"
    if precision not in INFERENCE_PRECISIONS:
        raise PrecisionUnavailableError(
            f"{spec.name}: OpenVINO computes {', '.join(INFERENCE_PRECISIONS)} here, not {precision!r}")
    if precision == BF16:
        require_bf16(spec.name)
    if performance_hint not in PERFORMANCE_HINTS:
        raise BackendError(f"OpenVINO performance hint must be one of {', '.join(PERFORMANCE_HINTS)}, "
                           f"got {performance_hint!r}")
    config = {"INFERENCE_PRECISION_HINT": INFERENCE_PRECISIONS[precision],
              "PERFORMANCE_HINT": performance_hint}
    if threads:
        config["INFERENCE_NUM_THREADS"] = str(threads)
    if cache_folder is not None:
        config["CACHE_DIR"] = os.fspath(cache_folder)
    return config


class OpenVinoSession:
    """One graph read by OpenVINO and its compiled models, one per feed shape (at most
    `max_shapes`, least recently used out). Safe to share between threads."""

    def __init__(self, path: Path, spec: GraphSpec, config: dict[str, str], max_shapes: int) -> None:
        ov = import_openvino()
        self.spec = spec
        self.config = config
        self.max_shapes = max_shapes
        self.compiles = 0  # compiled models made so far (blob cache hits included)
        self._core = ov.Core()
        self._model = self._core.read_model(os.fspath(path))
        self._compiled: OrderedDict[Shape, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def shapes(self) -> tuple[Shape, ...]:
        """The feed shapes with a compiled model, oldest first."""
        with self._lock:
            return tuple(self._compiled)

    def compiled(self, shape: Shape) -> Any:
        """The compiled model of one feed shape: cached, or compiled now (evicting the oldest)."""
        with self._lock:
            model = self._compiled.get(shape)
            if model is not None:
                self._compiled.move_to_end(shape)
                return model
            model = self._compile(shape)
            self._compiled[shape] = model
            while len(self._compiled) > self.max_shapes:
                self._compiled.popitem(last=False)
            return model

    def _compile(self, shape: Shape) -> Any:
        ov = import_openvino()
        static = self._model.clone()
        static.reshape({t.name: ov.PartialShape(list(s)) for t, s in zip(self.spec.inputs, shape)})
        try:
            compiled = self._core.compile_model(static, DEVICE, self.config)
        except RuntimeError as exc:  # OpenVINO's own failure: a BackendError naming the graph
            reason = str(exc).strip().splitlines()[-1]
            version = ov.get_version().split("-")[0]
            raise BackendError(
                f"{self.spec.name} ({self.spec.precision} file, feed {[list(s) for s in shape]}): "
                f"OpenVINO {version} cannot compile it for the CPU ({reason}); run it with "
                f"--backend onnxruntime-cpu") from exc
        self.compiles += 1
        asked = self.config["INFERENCE_PRECISION_HINT"]
        got = compiled.get_property("INFERENCE_PRECISION_HINT")
        if got != getattr(ov.Type, asked):
            raise PrecisionUnavailableError(
                f"{self.spec.name}: OpenVINO was asked to compute in {asked} but compiled for {got}; "
                f"the runtime does not run one precision under the name of another")
        return compiled


class OpenVinoRunner(BaseRunner[OpenVinoSession]):
    """One ONNX graph on OpenVINO's CPU plugin; its session is an `OpenVinoSession`.

    `threads`: INFERENCE_NUM_THREADS (None: OpenVINO's default, every core); `performance_hint`:
    PERFORMANCE_HINT (LATENCY: one request at a time as fast as it goes); `cache_dir`: the
    runtime's cache option (compiled_cache_folder)."""

    def __init__(self, path: str | os.PathLike, spec: GraphSpec, threads: int | None = None,
                 performance_hint: str = "LATENCY", cache_dir: str | os.PathLike[str] | None = None,
                 max_shapes: int = MAX_SHAPES) -> None:
        super().__init__(spec)
        self.path = Path(path)
        self.threads = threads
        self.performance_hint = performance_hint
        self.cache_folder = compiled_cache_folder(cache_dir)
        self.max_shapes = max_shapes

    def _open(self) -> OpenVinoSession:
        config = compile_config(self.spec, self.threads, self.performance_hint, self.cache_folder)
        return OpenVinoSession(self.path, self.spec, config, self.max_shapes)

    def _infer(self, session: OpenVinoSession,
               feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        shape = tuple(tuple(int(d) for d in feed[t.name].shape) for t in self.spec.inputs)
        compiled = session.compiled(shape)
        # A request per call: requests are not thread-safe, and a call's outputs are its own.
        outputs = compiled.create_infer_request().infer(
            {t.name: np.ascontiguousarray(feed[t.name]) for t in self.spec.inputs})
        return {t.name: np.asarray(outputs[compiled.output(t.name)]) for t in self.spec.outputs}

    @property
    def session(self) -> OpenVinoSession:
        """The active session (its compile count and cached shapes), for tools and tests."""
        return self._active_session()
