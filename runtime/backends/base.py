"""What every backend runner is: `activate()`, `infer(feed) -> dict`, `deactivate()`, a
context manager; plus the one check of a feed against the manifest's tensor specs.

Runners follow polygraphy's shape (backend/<name>/{loader,runner}.py): loading a graph or an
engine is apart from running it, and the Segmenter sees only this protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

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
