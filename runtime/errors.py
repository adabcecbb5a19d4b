"""Every error the project raises on purpose, under one root: `FrozenSegError`.

Callers (the CLI, a web service, Triton) catch `FrozenSegError` to tell a problem the user can fix
apart from a bug: anything else, from torch, ONNX Runtime or our own code, is a bug and must
surface with its traceback. Four kinds sit under the root, each with its exit status in the CLI:

    UsageError     2  what the user gave cannot be used (also ValueError)
    ArtifactError  3  artifacts are missing, corrupt or do not match each other
    BackendError   4  a backend is unknown, not installed or not usable on this machine
    CheckError     5  the tool's own checks failed (export parity, calibration, engine build)

Messages say what was expected, what came and how to fix it. The runtime holds this module (the
lowest layer: the reference and the exporter import it too), with the errors the runtime raises;
those only the reference or only the exporter raises sit under the same kinds in
frozenseg/errors.py and export/errors.py.
"""

from __future__ import annotations


class FrozenSegError(Exception):
    """Root of every error the project raises on purpose; never raised itself (each error has a
    kind below)."""

    exit_code = 1


# -- the user's input ------------------------------------------------------------------------------
class UsageError(FrozenSegError, ValueError):
    """What the user gave cannot be used."""

    exit_code = 2


class VocabularyError(UsageError):
    """The class vocabulary given by the user cannot be used."""


class ImageError(UsageError):
    """The image given by the user cannot be used."""


class InputError(UsageError):
    """A feed does not match the graph's declared inputs."""


class ProfileShapeError(UsageError):
    """An input shape lies outside the range a TensorRT engine was built for."""


# -- the artifacts ---------------------------------------------------------------------------------
class ArtifactError(FrozenSegError, ValueError):
    """Artifacts are missing, corrupt, or do not match the manifest or each other."""

    exit_code = 3


class ManifestError(ArtifactError):
    """manifest.json is missing, unreadable or not of the expected schema."""


class ProfileError(ArtifactError):
    """The manifest's declared ranges cannot make a TensorRT optimization profile."""


class TokenizerMismatchError(ArtifactError):
    """The installed tokenizer is not the one the artifacts were exported with."""


class EngineMissingError(ArtifactError, RuntimeError):
    """No TensorRT engine was built for a graph and precision."""


class EngineMismatchError(ArtifactError, RuntimeError):
    """A TensorRT engine was built from other graphs, or for another TensorRT or GPU."""


class EngineMetadataError(ArtifactError):
    """A TensorRT engine's metadata file is missing or malformed."""


# -- the machine -----------------------------------------------------------------------------------
class BackendError(FrozenSegError, RuntimeError):
    """A backend is unknown, not installed, or not usable on this machine."""

    exit_code = 4


class TensorRTUnavailableError(BackendError):
    """TensorRT (or a GPU for it) is not available here."""


class PrecisionUnavailableError(BackendError):
    """A runtime precision cannot run here: bf16 on a CPU without native bfloat16, or on a
    backend that cannot compute in it (never emulated or silently run in another precision)."""


class CudaError(BackendError):
    """A CUDA runtime call failed."""


class ServerError(BackendError):
    """A Triton server refused or failed a request (`frozenseg_runtime.triton.client`); the message
    is the server's own, `status` its status (HTTP status or gRPC code) when it gave one."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message if status is None else f"{message} (status {status})")
        self.status = status


# -- the tool's own checks ---------------------------------------------------------------------------
class CheckError(FrozenSegError, RuntimeError):
    """A result failed the tool's own checks."""

    exit_code = 5


EXIT_CODES: dict[str, int] = {
    "usage": UsageError.exit_code,
    "artifact": ArtifactError.exit_code,
    "backend": BackendError.exit_code,
    "check": CheckError.exit_code,
}
