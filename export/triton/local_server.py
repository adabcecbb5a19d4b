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

What Triton 2.51 does on faults, and what is done here about it (docs/triton.md, Faults):

- a model instance's process (the Python backend's stub) that dies is not restarted, and the server
  goes on reporting itself and the model ready while every request reaching that instance fails:
  `failure()` notices it from the processes themselves and says how each ended (`triton-serve`
  restarts the server then), and `stop()` removes the shared memory such a process leaves behind;
- on SIGTERM it serves on, as usual, until every HTTP connection is closed (a keep-alive client
  never closes its own) or its exit timeout has passed, then stops what is in flight and exits with
  status 1, or crashes on its way out: `exit_note()` says so, and `stop()` kills the stubs such an
  exit leaves hanging (the pipeline's, in a BLS call that will never be answered).
"""

from __future__ import annotations

import ctypes
import http.client
import importlib.util
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from frozenseg_runtime.errors import BackendError

READY_TIMEOUT_S = 120.0
EXIT_TIMEOUT_S = 20.0  # tritonserver --exit-timeout-secs: how long it drains on SIGTERM
STOP_GRACE_S = 10.0  # stop() waits this beyond the exit timeout before SIGKILL
RESTART_STOP_S = 5.0  # a restart's wait before SIGKILL: a dead model fails what the drain would serve
PORT_ATTEMPTS = 3
STUB_BINARY = "triton_python_backend_stub"
# The stub's argv: binary, model.py, shm region, 2 sizes, parent pid, libpython, ipc handle, instance.
STUB_REGION_ARG, STUB_NAME_ARG = 2, 8
SHARED_MEMORY = Path("/dev/shm")


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


def describe_status(status: int | None) -> str:
    """Popen's returncode in words."""
    if status is None:
        return "still running"
    if status < 0:
        return f"killed by {_signal_name(-status)}"
    return f"exit status {status}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields from the state on (field 3), None when there is no such process.
    The command name is cut at its last ')': it may hold spaces and parentheses."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


@dataclass(frozen=True)
class ModelProcess:
    """A model instance's Python-backend stub: its process and its shared-memory region."""

    pid: int
    shm_region: str


def model_processes(server_pid: int) -> dict[str, ModelProcess]:
    """The server's live Python-backend stubs by model instance name (`frozenseg_decoder_0_0`).
    From /proc (Linux); empty elsewhere."""
    found: dict[str, ModelProcess] = {}
    try:
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
    except OSError:
        return found
    for entry in entries:
        fields = _proc_stat(int(entry.name))
        if fields is None or fields[0] == "Z" or fields[1] != str(server_pid):
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > STUB_NAME_ARG and argv[0].endswith(STUB_BINARY.encode()):
            name, region = (argv[i].decode(errors="replace") for i in (STUB_NAME_ARG, STUB_REGION_ARG))
            found[name] = ModelProcess(int(entry.name), region)
    return found


def process_end(pid: int) -> str:
    """How a child that no longer runs ended, read from its zombie's exit_code (/proc stat field
    52, Linux 3.5+) while its parent has not reaped it."""
    fields = _proc_stat(pid)
    if fields is None or fields[0] != "Z" or len(fields) < 50:
        return "ended (how is no longer known)"
    status = int(fields[49])
    if os.WIFSIGNALED(status):
        return f"was killed by {_signal_name(os.WTERMSIG(status))}"
    return f"exited with status {os.WEXITSTATUS(status)}"


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of the server's process group: a stub whose server exited at once (exit
    timeout, crash) can hang in a BLS call for ever, orphaned. The group's id is not reused while a
    member lives."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # none left


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalTritonServer:
    """`with LocalTritonServer(repo, env) as server: ... server.grpc_url ...`; stops on exit."""

    def __init__(self, repository: str | os.PathLike[str], python_env: str | os.PathLike[str],
                 log_file: str | os.PathLike[str] | None = None, address: str = "127.0.0.1",
                 http_port: int | None = None, grpc_port: int | None = None,
                 exit_timeout_s: float = EXIT_TIMEOUT_S) -> None:
        self.repository = Path(repository)
        self.python_env = Path(python_env)
        self.address = address
        self._auto_ports = http_port is None and grpc_port is None
        self.http_port = http_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self._work = tempfile.TemporaryDirectory(prefix="frozenseg-triton-")
        self.log_file = Path(log_file) if log_file else Path(self._work.name) / "tritonserver.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.exit_timeout_s = exit_timeout_s
        self._instances: dict[str, ModelProcess] = {}  # once ready
        self.returncode: int | None = None  # the last server process's, once it ended
        self._restarted = False

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
                # Triton drains for this long on SIGTERM, before stop() would kill it.
                "--exit-timeout-secs", str(max(1, round(self.exit_timeout_s)))], env

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
        with open(self.log_file, "ab" if self._restarted else "wb") as log:  # a restart keeps the old log
            self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                             start_new_session=True, preexec_fn=_parent_death_signal())
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    if "Address already in use" in self.log_tail():
                        raise _PortTaken()
                    raise BackendError(f"tritonserver exited ({describe_status(self._process.returncode)}) "
                                       f"before it was ready:\n{self.log_tail()}")
                if self._ready():
                    self._instances = model_processes(self._process.pid)
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

    def stop(self, timeout_s: float | None = None) -> int | None:
        """SIGTERM (Triton drains for its exit timeout), SIGKILL to the group if it has not ended
        `timeout_s` later (default: the exit timeout and STOP_GRACE_S). Returns the server's exit
        status (negative: the signal that ended it; None: it never started)."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.exit_timeout_s + STOP_GRACE_S if timeout_s is None else timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        _kill_group(process.pid)
        self._remove_shared_memory()
        self.returncode = process.returncode
        return process.returncode

    def _remove_shared_memory(self) -> None:
        """The regions of this server's stubs that are left (a stub killed, or the server): Triton
        removes only those of stubs that finalized."""
        for model in self._instances.values():
            if "/" not in model.shm_region:
                (SHARED_MEMORY / model.shm_region).unlink(missing_ok=True)

    def exit_note(self) -> str:
        """Triton's own words on a failed stop, from its log ("" if none): mostly an exit timeout
        spent waiting for HTTP clients' keep-alive connections, which do not close by themselves."""
        lines = self.log_tail(120).splitlines()
        failed = [line for line in lines if "failed to stop server" in line]
        if not failed:
            return ""
        note = failed[-1].split("] ", 1)[-1].strip().strip('"')
        waits = [m for m in (re.search(r"Timeout (\d+): Found (\d+) HTTP service connections", line)
                             for line in lines) if m]
        if waits and waits[-1].group(1) in ("0", "1") and int(waits[-1].group(2)) > 0:
            note += (f" (it served on for its exit timeout of {self.exit_timeout_s:.0f} s, waiting for "
                     f"{waits[-1].group(2)} open HTTP connection(s) to close)")
        after = lines[lines.index(failed[-1]) + 1:]
        crashes = [m.group(1) for m in (re.match(r"Signal \((\d+)\) received", line) for line in after) if m]
        if crashes:  # exiting at once with threads still running: seen to abort in malloc
            note += f"; then it crashed on signal {crashes[-1]} ({_signal_name(int(crashes[-1]))})"
        return note

    def restart(self, timeout_s: float = READY_TIMEOUT_S) -> int | None:
        """Stop (SIGKILL after RESTART_STOP_S: a model is down, and what Triton's drain would serve
        fails anyway) and start again on the same ports; returns the old server's status."""
        status = self.stop(RESTART_STOP_S)
        self._restarted = True
        with open(self.log_file, "ab") as log:
            log.write(f"--- restarted after {describe_status(status)} ---\n".encode())
        self.start(timeout_s)
        return status

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def failure(self) -> str | None:
        """What has gone wrong since the server was ready, in words; None while it and the process
        of every model instance run. Triton's own health endpoints say "ready" after a model
        instance's process died (2.51), so this looks at the processes."""
        process = self._process
        if process is None:
            return None
        if process.poll() is not None:
            return f"tritonserver (pid {process.pid}) ended by itself: {describe_status(process.returncode)}"
        live = model_processes(process.pid)
        dead = [f"{name} (pid {model.pid}) {process_end(model.pid)}"
                for name, model in sorted(self._instances.items()) if live.get(name) != model]
        if not dead:
            return None
        return (f"the process of model instance {'; '.join(dead)}; Triton does not restart it, and "
                f"requests reaching that instance fail")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> "LocalTritonServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._work.cleanup()
