"""A `Runner` over a Triton model, called with BLS from inside a Python-backend model.

The pipeline model's `Segmenter` sees the graph models through this, as it sees ONNX Runtime or
TensorRT runners locally: the same feeds, the same stages, the same vocabulary cache. Importable
only inside Triton's Python backend stub (`triton_python_backend_utils`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from frozenseg_runtime.backends.base import BaseRunner
from frozenseg_runtime.backends.profiles import ShapeRange, check_feed_shapes
from frozenseg_runtime.errors import BackendError, FrozenSegError, UsageError
from frozenseg_runtime.manifest import GraphSpec

try:
    import triton_python_backend_utils as pb_utils
except ImportError:  # outside the stub: the module stays importable for documentation and typing
    pb_utils = None


class TritonModelRunner(BaseRunner[str]):
    """One graph served as the Triton model `model_name`; the server loads the model, so the
    session is only its name."""

    def __init__(self, spec: GraphSpec, model_name: str, profile: Mapping[str, ShapeRange] | None = None) -> None:
        """`profile`: the range a TensorRT plan was built for (None: any shape runs)."""
        super().__init__(spec)
        self.model_name = model_name
        self.profile = dict(profile) if profile is not None else None

    def _open(self) -> str:
        return self.model_name

    def max_shape(self, input_name: str) -> tuple[int, ...] | None:
        return None if self.profile is None else self.profile[input_name].max

    def request(self, feed: Mapping[str, np.ndarray]) -> Any:
        """The BLS request of one checked feed, asking for CPU outputs (the pipeline
        post-processes them with numpy)."""
        if self.profile is not None:  # a shape the plan refuses is the request's fault, said here
            check_feed_shapes({name: value.shape for name, value in feed.items()}, self.profile)
        inputs = [pb_utils.Tensor(t.name, np.ascontiguousarray(feed[t.name])) for t in self.spec.inputs]
        return pb_utils.InferenceRequest(
            model_name=self.model_name, inputs=inputs,
            requested_output_names=[t.name for t in self.spec.outputs],
            preferred_memory=pb_utils.PreferredMemory(pb_utils.TRITONSERVER_MEMORY_CPU, 0))

    def outputs(self, response: Any) -> dict[str, np.ndarray]:
        """A BLS response's outputs, or the graph model's error as a BackendError."""
        if response.has_error():
            raise BackendError(f"Triton model {self.model_name!r}: {response.error().message()}")
        out = {}
        for t in self.spec.outputs:
            tensor = pb_utils.get_output_tensor_by_name(response, t.name)
            if tensor is None:
                raise BackendError(f"Triton model {self.model_name!r} returned no {t.name!r}")
            out[t.name] = tensor.as_numpy()
        return out

    def _infer(self, session: str, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.outputs(self.request(feed).exec())

    async def infer_async(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`infer` awaiting the server, so the pipeline sends both image encoders at once."""
        self._active_session()
        self.check_feed(feed)
        return self.outputs(await self.request(feed).async_exec())


def error_response(exc: BaseException, prefix: str) -> Any:
    """A request's failure as Triton's error response: INVALID_ARG for what the request got wrong
    (UsageError), INTERNAL for the rest; the message starts with `prefix`."""
    code = pb_utils.TritonError.INVALID_ARG if isinstance(exc, UsageError) else pb_utils.TritonError.INTERNAL
    detail = str(exc) if isinstance(exc, FrozenSegError) else f"{type(exc).__name__}: {exc}"
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(f"{prefix}: {detail}", code))
