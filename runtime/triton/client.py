"""Segment over Triton: the `frozenseg` model's client, and `frozenseg-deploy triton-client`.

    with TritonSegmentClient("localhost:8001", "grpc") as client:
        result, info = client.segment("photo.jpg", "cat,dog,grass", task="panoptic")

`result` is the runtime's `SegmentationResult`, so `save_result` writes the files `segment` writes.
Needs `tritonclient[http,grpc]` (pip install 'frozenseg-deploy[serve]'); imported on first use.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.errors import BackendError, ServerError, UsageError
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.output.files import save_result
from frozenseg_runtime.output.postprocess import TASKS, SegmentationResult
from frozenseg_runtime.progress import progress
from frozenseg_runtime.segment_command import add_resize_option
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary
from frozenseg_runtime.triton import protocol

PROTOCOLS = ("grpc", "http")
DEFAULT_PORTS = {"http": 8000, "grpc": 8001}  # Triton's
# gRPC statuses of a request the server never answered: no connection or a lost one, the deadline.
GRPC_DEADLINE = "StatusCode.DEADLINE_EXCEEDED"
GRPC_NO_ANSWER = ("StatusCode.UNAVAILABLE", GRPC_DEADLINE)


def _tritonclient(kind: str) -> Any:
    try:
        if kind == "grpc":
            import tritonclient.grpc as module
        else:
            import tritonclient.http as module
    except ImportError as exc:
        raise BackendError(f"the Triton client needs tritonclient: pip install 'tritonclient[{kind}]' "
                           f"(or 'frozenseg-deploy[serve]')") from exc
    return module


def request_tensors(image: bytes, vocabulary: Vocabulary, task: str,
                    resize: tuple[int, int] | None | str = "default") -> dict[str, np.ndarray]:
    """The `frozenseg` model's inputs for one image ("default" resize: the manifest's, sent as
    no `resize` input)."""
    tensors = {protocol.IMAGE: np.array([image], dtype=object),
               protocol.VOCABULARY: protocol.vocabulary_tensor(vocabulary),
               protocol.TASK: np.array([task.encode()], dtype=object)}
    if resize != "default":
        tensors[protocol.RESIZE] = protocol.resize_tensor(resize)  # type: ignore[arg-type]
    return tensors


class TritonSegmentClient:
    """One connection to a server; safe to use from one thread (make one per thread)."""

    def __init__(self, url: str, protocol_name: str = "grpc", model: str = protocol.PIPELINE_MODEL,
                 timeout_s: float = 600.0) -> None:
        if protocol_name not in PROTOCOLS:
            raise BackendError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol_name!r}")
        self.protocol = protocol_name
        self.url = url
        self.model = model
        self.timeout_s = timeout_s
        self._module = _tritonclient(protocol_name)
        if protocol_name == "http":
            self._client = self._module.InferenceServerClient(url, network_timeout=timeout_s,
                                                              connection_timeout=timeout_s)
        else:
            self._client = self._module.InferenceServerClient(url)

    def infer(self, tensors: dict[str, np.ndarray], outputs: tuple[str, ...]) -> dict[str, np.ndarray]:
        """One raw request: the server's error comes back as a ServerError with its message."""
        inputs = []
        for name, value in tensors.items():
            item = self._module.InferInput(name, list(value.shape), _triton_dtype(value))
            item.set_data_from_numpy(value)
            inputs.append(item)
        requested = [self._module.InferRequestedOutput(name) for name in outputs]
        from tritonclient.utils import InferenceServerException

        try:
            if self.protocol == "grpc":
                response = self._client.infer(self.model, inputs, outputs=requested,
                                              client_timeout=self.timeout_s)
            else:
                response = self._client.infer(self.model, inputs, outputs=requested)
        except InferenceServerException as exc:
            raise self._server_error(exc.message() or "", exc.status()) from exc
        # tritonclient.http lets the connection's own errors through: refused, reset, closed
        # mid-answer (geventhttpclient's HTTPParseError is an http.client.HTTPException), timed out.
        except TimeoutError as exc:
            raise ServerError(f"{self._no_answer()} within its timeout of {self.timeout_s:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise ServerError(f"{self._no_answer()}: {type(exc).__name__}: {exc}") from exc
        return {name: response.as_numpy(name) for name in outputs}

    def _no_answer(self) -> str:
        return f"no answer from the Triton server at {self.url} ({self.protocol})"

    def _server_error(self, message: str, status: str | None) -> ServerError:
        """The pipeline's own errors ("frozenseg: ...") as they are; gRPC's lost connection or
        deadline as no answer; anything else the server said, naming the server."""
        if message.startswith(f"{protocol.PIPELINE_MODEL}: "):
            return ServerError(message, status)
        if status == GRPC_DEADLINE:
            return ServerError(f"{self._no_answer()} within its timeout of {self.timeout_s:g} s", status)
        if status in GRPC_NO_ANSWER:
            return ServerError(f"{self._no_answer()}: {message}", status)
        return ServerError(f"the Triton server at {self.url} ({self.protocol}): {message}", status)

    def segment(self, image: str | os.PathLike[str] | bytes, vocabulary: Any, task: str = "semantic",
                resize: tuple[int, int] | None | str = "default") -> tuple[SegmentationResult, dict[str, Any]]:
        """One image (a file path or its bytes, sent as they are: the server decodes them) with
        a vocabulary in any form `parse_vocabulary` takes; `resize` as `Segmenter.segment`'s."""
        if task not in TASKS:
            raise UsageError(f"task must be one of {TASKS}, got {task!r}")
        vocab = parse_vocabulary(vocabulary)
        data = image if isinstance(image, bytes) else Path(image).read_bytes()
        outputs = self.infer(request_tensors(data, vocab, task, resize), protocol.TASK_OUTPUTS[task])
        return protocol.result_from_tensors(outputs, vocab)

    def is_ready(self) -> bool:
        try:
            return bool(self._client.is_model_ready(self.model))
        except Exception:  # not up yet, or refused: not ready
            return False

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "TritonSegmentClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _triton_dtype(value: np.ndarray) -> str:
    from tritonclient.utils import np_to_triton_dtype

    return np_to_triton_dtype(value.dtype)


def perf_analyzer_input(images: list[str | os.PathLike[str]], vocabulary: Any, task: str,
                        resize: tuple[int, int] | None | str = "default") -> dict[str, Any]:
    """perf_analyzer's `--input-data` JSON, one entry per image. An encoded image file is binary,
    so it travels as "b64" of the BYTES tensor as Triton serialises it (length-prefixed); the
    vocabulary (JSON text) and the task as "content"."""
    from tritonclient.utils import serialize_byte_tensor

    vocab = parse_vocabulary(vocabulary)
    entries = []
    for path in images:
        tensors = request_tensors(Path(path).read_bytes(), vocab, task, resize)
        entry: dict[str, Any] = {}
        for name, value in tensors.items():
            if name == protocol.IMAGE:
                raw = serialize_byte_tensor(value).item()  # a 0-d object array of the bytes
                entry[name] = {"b64": base64.b64encode(raw).decode(), "shape": list(value.shape)}
            elif value.dtype == object:
                entry[name] = {"content": [v.decode() for v in value.reshape(-1)], "shape": list(value.shape)}
            else:
                entry[name] = {"content": value.reshape(-1).tolist(), "shape": list(value.shape)}
        entries.append(entry)
    return {"data": entries}


# -- frozenseg-deploy triton-client ---------------------------------------------------------------
def add_triton_client_command(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "triton-client",
        help="segment images on a Triton server serving `frozenseg-deploy triton`'s repository",
        description="Send images and a vocabulary to the `frozenseg` model over gRPC or HTTP and "
                    "write the files `segment` writes (label / panoptic PNGs, overlay, summary).")
    p.add_argument("images", nargs="+", help="image files, sent as they are (the server decodes them)")
    p.add_argument("--url", default=None, help="HOST:PORT (default localhost:8001 for grpc, :8000 for http)")
    p.add_argument("--protocol", choices=PROTOCOLS, default=PROTOCOLS[0])
    p.add_argument("--vocabulary", required=True, help="class list: file or 'cat,dog,grass'")
    p.add_argument("--task", choices=TASKS, default=TASKS[0])
    p.add_argument("--out", help="output folder (required unless --perf-input)")
    add_resize_option(p)
    p.add_argument("--model", default=protocol.PIPELINE_MODEL, help="the pipeline model's name")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per request")
    p.add_argument("--perf-input", metavar="FILE",
                   help="write these requests as perf_analyzer --input-data JSON instead of sending them")
    p.set_defaults(run=run_triton_client)
    return p


def run_triton_client(args: argparse.Namespace) -> int:
    say = progress("triton-client")
    url = args.url or f"localhost:{DEFAULT_PORTS[args.protocol]}"
    vocabulary = parse_vocabulary(args.vocabulary)
    if args.perf_input:
        write_bytes_atomic(args.perf_input, json.dumps(
            perf_analyzer_input(args.images, vocabulary, args.task, args.resize)).encode())
        say(f"{args.perf_input}: {len(args.images)} requests for perf_analyzer --input-data")
        return 0
    if not args.out:
        raise UsageError("--out is required (the folder for the files), unless --perf-input")
    with TritonSegmentClient(url, args.protocol, args.model, args.timeout) as client:
        total = len(args.images)
        for i, path in enumerate(args.images, 1):
            start = time.perf_counter()
            data = Path(path).read_bytes()  # sent as it is; decoded here only for the overlay
            result, info = client.segment(data, vocabulary, args.task, args.resize)
            image = load_image(data)
            files = save_result(result, image, args.out, Path(path).stem)
            say(f"[{i}/{total}] {path}: {time.perf_counter() - start:.2f} s ({info.get('served_by', '')}) -> "
                f"{', '.join(f.name for f in files)}")
    return 0
