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


# What Triton 2.51 answers a BLS request when a graph model's instance lost its process (its stub:
# never restarted, so every later request to that instance fails the same way), and when the
# server is stopping (it refuses the requests of a pipeline request already in flight).
STUB_DEAD = ("not healthy", "health mutex")
SERVER_STOPPING = "Server not ready"


class GraphModelUnavailable(BackendError):
    """A graph model cannot answer on this server now: its process died, or the server is stopping.
    Sent as UNAVAILABLE (gRPC UNAVAILABLE, HTTP 503), so a client or a balancer goes elsewhere."""


def graph_model_error(model_name: str, message: str) -> BackendError:
    """A graph model's error; GraphModelUnavailable, saying why, when it is not the request's."""
    message = message.strip()
    if any(words in message for words in STUB_DEAD):
        return GraphModelUnavailable(f"Triton model {model_name!r} is down, its process died ({message}); this "
                                     f"server fails every request that reaches it until it is restarted")
    if SERVER_STOPPING in message:
        return GraphModelUnavailable(f"the server is stopping: Triton model {model_name!r} refused the "
                                     f"request ({message})")
    return BackendError(f"Triton model {model_name!r}: {message}")


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
            raise graph_model_error(self.model_name, response.error().message())
        out = {}
        for t in self.spec.outputs:
            tensor = pb_utils.get_output_tensor_by_name(response, t.name)
            if tensor is None:
                raise BackendError(f"Triton model {self.model_name!r} returned no {t.name!r}")
            out[t.name] = tensor.as_numpy()
        return out

    def _infer(self, session: str, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        request = self.request(feed)
        try:
            response = request.exec()
        except pb_utils.TritonModelException as exc:  # the call itself failed, not the model
            raise graph_model_error(self.model_name, str(exc)) from exc
        return self.outputs(response)

    async def infer_async(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`infer` awaiting the server, so the pipeline sends both image encoders at once."""
        self._active_session()
        self.check_feed(feed)
        request = self.request(feed)
        try:
            response = await request.async_exec()
        except pb_utils.TritonModelException as exc:
            raise graph_model_error(self.model_name, str(exc)) from exc
        return self.outputs(response)


def error_response(exc: BaseException, prefix: str) -> Any:
    """A request's failure as Triton's error response: INVALID_ARG for what the request got wrong
    (UsageError), UNAVAILABLE when a graph model cannot answer now, INTERNAL for the rest; the
    message starts with `prefix`."""
    code = pb_utils.TritonError.INTERNAL
    if isinstance(exc, UsageError):
        code = pb_utils.TritonError.INVALID_ARG
    elif isinstance(exc, GraphModelUnavailable):
        code = pb_utils.TritonError.UNAVAILABLE
    detail = str(exc) if isinstance(exc, FrozenSegError) else f"{type(exc).__name__}: {exc}"
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(f"{prefix}: {detail}", code))
