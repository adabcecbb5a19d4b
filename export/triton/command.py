"""`frozenseg-deploy triton` (write a model repository) and `triton-serve` (run it locally)."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from frozenseg_export.triton.model_config import GRAPH_BACKENDS, INSTANCE_KINDS, ServingSettings, instance_kind
from frozenseg_runtime.errors import BackendError, UsageError
from frozenseg_runtime.image.loading import MAX_IMAGE_PIXELS
from frozenseg_runtime.manifest import PRECISIONS
from frozenseg_runtime.progress import Say, progress
from frozenseg_runtime.segment_command import pixel_limit_arg
from frozenseg_runtime.triton.pipeline_model import DEFAULT_CACHE_ROWS

if TYPE_CHECKING:
    from frozenseg_export.triton.local_server import LocalTritonServer

DEFAULT_RESTARTS = 3
WATCH_INTERVAL_S = 1.0  # how often triton-serve checks the server and its model processes


def _whole(text: str, least: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a {what} whole number, got {text!r}")
    return value


def _positive(text: str) -> int:
    return _whole(text, 1, "positive")


def _count(text: str) -> int:
    return _whole(text, 0, "non-negative")


def add_triton_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "triton",
        help="write a Triton Inference Server model repository from exported artifacts",
        description="One Triton model per graph and the `frozenseg` pipeline model (Python backend, "
                    "BLS): it decodes the image, runs the CLIP and SAM models at once, encodes the "
                    "request's vocabulary only on a cache miss, runs the decoder and post-processes "
                    "the task. Serve the folder with tritonserver (docs/triton.md).")
    p.add_argument("--artifacts", required=True, help="folder written by `frozenseg-deploy export`")
    p.add_argument("--out", required=True, help="the model repository to write")
    p.add_argument("--backend", choices=GRAPH_BACKENDS, default="onnxruntime",
                   help="the graph models' Triton backend: onnxruntime (onnxruntime_onnx), tensorrt "
                        "(tensorrt_plan; plans built by the repository's build_engines.sh in the "
                        "serving container) or python (ONNX Runtime inside Python-backend models, for "
                        "servers without those backends). Default onnxruntime")
    p.add_argument("--precision", choices=PRECISIONS, default=PRECISIONS[0],
                   help="graphs from the manifest: fp32, or fp16/int8/mixed after `quantize`")
    p.add_argument("--instances", type=_positive, default=1, help="instances of every model (default 1)")
    p.add_argument("--instance-kind", choices=INSTANCE_KINDS, default="auto",
                   help="where the graph models run (auto: GPU, CPU for --backend python)")
    p.add_argument("--python-env", help="a venv with numpy<2, Pillow (and onnxruntime for --backend "
                   "python) for the Python-backend models (EXECUTION_ENV_PATH); default: the "
                   "server's own Python")
    p.add_argument("--threads", type=_positive, help="ONNX Runtime intra-op threads per graph instance")
    p.add_argument("--vocabulary-cache-dir", default="",
                   help="a server-side folder for the vocabulary cache (default: memory, per instance)")
    p.add_argument("--vocabulary-cache-rows", type=_positive, default=DEFAULT_CACHE_ROWS,
                   help="synonym embeddings each pipeline instance keeps in memory, least recently "
                        "used out (default %(default)s)")
    p.add_argument("--max-image-pixels", type=pixel_limit_arg, default=MAX_IMAGE_PIXELS, metavar="N|none",
                   help="the pipeline refuses images of more pixels, checked before decoding "
                        "(decompression bombs; default %(default)s)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(run=run_triton)

    s = sub.add_parser(
        "triton-serve",
        help="serve a model repository on this machine with nvidia-pytriton's bundled tritonserver",
        description="Starts the Triton server that the nvidia-pytriton wheel carries (Python backend "
                    "only: a --backend python repository) and serves until interrupted.")
    s.add_argument("--repository", required=True)
    s.add_argument("--python-env", required=True, help="the venv the repository's models run in")
    s.add_argument("--address", default="127.0.0.1", help="listen address (default loopback only)")
    s.add_argument("--http-port", type=_positive, default=8000)
    s.add_argument("--grpc-port", type=_positive, default=8001)
    s.add_argument("--restarts", type=_count, default=DEFAULT_RESTARTS,
                   help="times the server is restarted when a model instance's process dies (Triton "
                        "2.51 does not restart it, and goes on failing the requests that reach it); "
                        "beyond them, or with 0, triton-serve stops with the reason (default %(default)s)")
    s.set_defaults(run=run_triton_serve)


def run_triton(args: argparse.Namespace) -> int:
    from frozenseg_export.triton.repository import RepositoryOptions, write_repository

    say = progress("triton")
    if args.backend == "tensorrt" and args.instance_kind == "cpu":
        raise UsageError("TensorRT plans run on a GPU: --backend tensorrt takes --instance-kind gpu (or auto)")
    python_env = os.path.abspath(args.python_env) if args.python_env else None
    if python_env and not (Path(python_env) / "bin" / "python").exists():
        raise UsageError(f"--python-env {args.python_env}: no bin/python there (a venv folder)")
    deployment = ServingSettings(backend=args.backend, precision=args.precision, instances=args.instances,
                            instance_kind=instance_kind(args.backend, args.instance_kind),
                            python_env=python_env, intra_op_threads=args.threads)
    start = time.perf_counter()
    out = write_repository(args.artifacts, args.out,
                           RepositoryOptions(deployment, args.vocabulary_cache_dir,
                                             "none" if args.max_image_pixels is None else str(args.max_image_pixels),
                                             args.vocabulary_cache_rows, args.force), say)
    say(f"model repository {out} written in {time.perf_counter() - start:.1f} s; serving: {out}/README.md")
    return 0


def run_triton_serve(args: argparse.Namespace) -> int:
    from frozenseg_export.triton.local_server import LocalTritonServer, describe_status

    say = progress("triton-serve")
    server = LocalTritonServer(args.repository, args.python_env, address=args.address,
                               http_port=args.http_port, grpc_port=args.grpc_port)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGHUP):  # a service manager's stop, like Ctrl-C
        signal.signal(sig, lambda *_: stopping.set())
    with server:
        say(f"serving {args.repository}: HTTP {server.http_url}, gRPC {server.grpc_url}; tritonserver "
            f"pid {server.pid}; log {server.log_file}; Ctrl-C stops")
        try:
            watch(server, stopping, say, args.restarts)
        except KeyboardInterrupt:
            pass
        say(f"stopping the server (Triton drains for {server.exit_timeout_s:.0f} s at most)")
        began = time.monotonic()
        status = server.stop()
        note = f" ({server.exit_note()})" if status else ""
        say(f"tritonserver stopped in {time.monotonic() - began:.1f} s: {describe_status(status)}{note}")
    return 0


def watch(server: LocalTritonServer, stopping: threading.Event, say: Say, restarts: int) -> None:
    """Serve until `stopping` is set. A model instance's process that died is reported and the
    server restarted, at most `restarts` times (Triton would go on failing that instance's
    requests while it reports itself ready); the server ending by itself is an error with its
    status and log."""
    from frozenseg_export.triton.local_server import describe_status

    restarted = 0
    while not stopping.wait(WATCH_INTERVAL_S):
        failure = server.failure()
        if failure is None:
            continue
        if not server.running:
            raise BackendError(f"{failure}; its log {server.log_file} ends:\n{server.log_tail()}")
        if restarted == restarts:
            raise BackendError(f"{failure}; stopping: no restart left (--restarts {restarts}); "
                               f"log {server.log_file}")
        restarted += 1
        say(f"{failure}: restarting the server ({restarted} of --restarts {restarts})")
        began = time.monotonic()
        status = server.restart()
        say(f"serving again {time.monotonic() - began:.1f} s later (the old tritonserver: "
            f"{describe_status(status)}; the new one: pid {server.pid})")
