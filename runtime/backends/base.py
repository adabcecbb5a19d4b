"""What every backend runner is: `activate()`, `infer(feed) -> dict`, `deactivate()`, a
context manager; the one check of a feed against the manifest's tensor specs; and `BaseRunner`,
which implements that lifecycle, its lock and the feed check once for every backend.

Runners follow polygraphy's shape (backend/<name>/{loader,runner}.py, and its `BaseRunner`):
loading a graph or an engine is apart from running it, and the Segmenter sees only this protocol.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from frozenseg_runtime.errors import InputError
from frozenseg_runtime.manifest import GraphSpec

# The manifest's dtype names -> numpy, for every backend.
NUMPY_DTYPES: dict[str, type[np.generic]] = {
    "float32": np.float32, "float16": np.float16, "int64": np.int64, "int32": np.int32,
    "bool": np.bool_}


@runtime_checkable
class Runner(Protocol):
    """One graph on one backend."""

    spec: GraphSpec

    def activate(self) -> "Runner": ...

    def deactivate(self) -> None: ...

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def max_shape(self, input_name: str) -> tuple[int, ...] | None:
        """The largest shape the loaded graph accepts for an input, or None when any size runs
        (ONNX Runtime); a TensorRT engine is bound to the range it was built for."""
        ...

    def __enter__(self) -> "Runner": ...

    def __exit__(self, *exc: object) -> None: ...


def check_feed(spec: GraphSpec, feed: Mapping[str, np.ndarray]) -> None:
    """Every declared input is present, of the declared dtype, rank and fixed dims."""
    for tensor in spec.inputs:
        if tensor.name not in feed:
            raise InputError(f"{spec.name}: missing input {tensor.name!r}")
        value = feed[tensor.name]
        want = NUMPY_DTYPES[tensor.dtype]
        if value.dtype != want:
            raise InputError(
                f"{spec.name}: input {tensor.name!r} must be {tensor.dtype}, got {value.dtype}")
        if value.ndim != len(tensor.shape) or any(
            isinstance(d, int) and d != s for d, s in zip(tensor.shape, value.shape)
        ):
            raise InputError(
                f"{spec.name}: input {tensor.name!r} must have shape {list(tensor.shape)}, "
                f"got {list(value.shape)}")


Session = TypeVar("Session")
RunnerT = TypeVar("RunnerT", bound="BaseRunner[Any]")


class BaseRunner(ABC, Generic[Session]):
    """A `Runner`'s lifecycle, written once: `activate` opens a session (what the backend loads:
    an ONNX Runtime session, a TensorRT engine with its buffers) unless one is open, `deactivate`
    closes it, both under the runner's lock, so threads may share a runner; `infer` refuses to
    run before `activate` and checks the feed against the manifest before the backend sees it.

    A backend writes `_open`, `_infer` and, when its session holds more than memory, `_close`."""

    def __init__(self, spec: GraphSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._session: Session | None = None

    @abstractmethod
    def _open(self) -> Session:
        """Load what running needs (called once per activation, under the lock)."""

    def _close(self, session: Session) -> None:
        """Release an open session (called under the lock); dropping it is enough by default."""

    @abstractmethod
    def _infer(self, session: Session, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run a checked feed on an open session."""

    def activate(self: RunnerT) -> RunnerT:
        with self._lock:
            if self._session is None:
                self._session = self._open()
        return self

    def deactivate(self) -> None:
        with self._lock:
            session, self._session = self._session, None
            if session is not None:
                self._close(session)

    def __enter__(self: RunnerT) -> RunnerT:
        return self.activate()

    def __exit__(self, *exc: object) -> None:
        self.deactivate()

    def max_shape(self, input_name: str) -> tuple[int, ...] | None:
        return None  # any size runs, unless the backend was built for a range

    def check_feed(self, feed: Mapping[str, np.ndarray]) -> None:
        check_feed(self.spec, feed)

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        session = self._active_session()
        self.check_feed(feed)
        return self._infer(session, feed)

    def _active_session(self) -> Session:
        session = self._session
        if session is None:
            raise RuntimeError(f"{self.spec.name}: call activate() before infer()")
        return session
