"""Run the Triton server that `nvidia-pytriton` bundles, on this machine, on the loopback address.

For development and the test suite, on machines without NVIDIA's container: the wheel carries
`tritonserver` 2.51 and the Python backend (no ONNX Runtime or TensorRT backend, so serve a
`--backend python` repository). Two traps are handled here:

- the Python backend's stub links `libpython3.X.so`, and must load the one of the interpreter its
  models run in (not the system's): LD_LIBRARY_PATH gets that interpreter's LIBDIR;
- the server passes no PYTHONPATH to the stub: the repository carries the runtime beside each
  model.py, and third-party packages come from the venv named by EXECUTION_ENV_PATH in
  config.pbtxt (`frozenseg-deploy triton --python-env`).

Install the binary with `pip install --no-deps nvidia-pytriton==0.7.0` (its own requirements pin
numpy<2, which the server's venv has, not the tool's).
"""

from __future__ import annotations

import ctypes
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from frozenseg_runtime.errors import BackendError

READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
PORT_ATTEMPTS = 3


class _PortTaken(Exception):
    """The server could not bind a port picked for it (another process took it meanwhile)."""


def bundled_server_dir() -> Path:
    """pytriton/tritonserver of the installed nvidia-pytriton wheel."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("no bundled Triton server: pip install --no-deps nvidia-pytriton==0.7.0")
    folder = Path(list(spec.submodule_search_locations)[0]) / "tritonserver"
    if not (folder / "bin" / "tritonserver").is_file():
        raise BackendError(f"{folder} has no bin/tritonserver: reinstall nvidia-pytriton")
    return folder


def python_of(env: str | os.PathLike[str]) -> tuple[str, str]:
    """(X.Y, LIBDIR) of the venv's interpreter: the stub to take and the libpython to load."""
    python = Path(env) / "bin" / "python"
    probe = "import sys, sysconfig; print(f'{sys.version_info[0]}.{sys.version_info[1]}'); " \
            "print(sysconfig.get_config_var('LIBDIR'))"
    try:
        version, libdir = subprocess.run([str(python), "-c", probe], check=True, capture_output=True,
                                         text=True, timeout=60).stdout.split()
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise BackendError(f"cannot run the server's Python {python}: {exc}") from exc
    return version, libdir


def _parent_death_signal() -> Callable[[], None] | None:
    """What the server's process runs before exec: SIGTERM when the thread that started it ends,
    so a killed test run or `triton-serve` never leaves a server behind (Linux; None elsewhere).
    Resolved here, not after fork: the child of a threaded parent must not load libraries."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalTritonServer:
    """`with LocalTritonServer(repo, env) as server: ... server.grpc_url ...`; stops on exit."""

    def __init__(self, repository: str | os.PathLike[str], python_env: str | os.PathLike[str],
                 log_file: str | os.PathLike[str] | None = None, address: str = "127.0.0.1",
                 http_port: int | None = None, grpc_port: int | None = None) -> None:
        self.repository = Path(repository)
        self.python_env = Path(python_env)
        self.address = address
        self._auto_ports = http_port is None and grpc_port is None
        self.http_port = http_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self._work = tempfile.TemporaryDirectory(prefix="frozenseg-triton-")
        self.log_file = Path(log_file) if log_file else Path(self._work.name) / "tritonserver.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"{self.address}:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"{self.address}:{self.grpc_port}"

    def _backends(self, server: Path, version: str) -> Path:
        """A backend folder whose python/ holds the backend and the stub of the venv's Python."""
        stub = server / "python_backend_stubs" / version / "triton_python_backend_stub"
        if not stub.is_file():
            raise BackendError(f"nvidia-pytriton has no Python backend stub for Python {version}")
        python = Path(self._work.name) / "backends" / "python"
        python.mkdir(parents=True, exist_ok=True)
        for source in (server / "backends" / "python" / "libtriton_python.so",
                       server / "backends" / "python" / "triton_python_backend_utils.py", stub):
            target = python / source.name
            if not target.exists():
                target.symlink_to(source)  # the stub's RUNPATH resolves from its real place
        return python.parent

    def command(self) -> tuple[list[str], dict[str, str]]:
        server = bundled_server_dir()
        version, libdir = python_of(self.python_env)
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [libdir, env.get("LD_LIBRARY_PATH")]))
        return [str(server / "bin" / "tritonserver"), "--model-repository", str(self.repository),
                "--backend-directory", str(self._backends(server, version)),
                "--http-address", self.address, "--http-port", str(self.http_port),
                "--grpc-address", self.address, "--grpc-port", str(self.grpc_port),
                "--allow-metrics", "false", "--log-verbose", "0",
                # Triton drains in-flight requests for this long, before stop() would kill it.
                "--exit-timeout-secs", str(int(STOP_TIMEOUT_S * 2 / 3))], env

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> "LocalTritonServer":
        """Start and wait until every model is ready. Ports picked here that another process took
        meanwhile are picked again (up to PORT_ATTEMPTS times)."""
        if self._process is not None:
            raise BackendError("this server is already started")
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                return self._start_once(timeout_s)
            except _PortTaken:
                if not self._auto_ports or attempt == PORT_ATTEMPTS:
                    raise BackendError(f"tritonserver could not bind its ports:\n{self.log_tail()}") from None
                self.http_port, self.grpc_port = free_port(), free_port()
        raise AssertionError("unreachable")

    def _start_once(self, timeout_s: float) -> "LocalTritonServer":
        args, env = self.command()
        with open(self.log_file, "wb") as log:
            self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                             start_new_session=True, preexec_fn=_parent_death_signal())
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    if "Address already in use" in self.log_tail():
                        raise _PortTaken()
                    raise BackendError(f"tritonserver exited with status {self._process.returncode} before "
                                       f"it was ready:\n{self.log_tail()}")
                if self._ready():
                    return self
                time.sleep(0.5)
            raise BackendError(f"tritonserver was not ready within {timeout_s:.0f} s:\n{self.log_tail()}")
        except BaseException:  # not ready, interrupted, or a port taken: never leave it running
            self.stop()
            raise

    def _ready(self) -> bool:
        """GET /v2/health/ready, never through a proxy the environment may name."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"http://{self.http_url}/v2/health/ready", timeout=2) as reply:
                return reply.status == 200
        except (OSError, http.client.HTTPException):
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM (Triton drains in-flight requests), SIGKILL to the group if it hangs."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return process.returncode

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> "LocalTritonServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._work.cleanup()
