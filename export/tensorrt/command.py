"""`frozenseg-deploy build`: TensorRT engines for exported artifacts, on this machine's GPU.

Registered on the CLI's subparsers by `add_build_command`. Every build also (re)writes the trtexec
script of the same builds; `--trtexec-only` writes just that script, which needs no TensorRT and
no GPU (export anywhere, build on the Jetson). Without tensorrt, cuda-python or a CUDA GPU the
command fails with `TensorRTUnavailableError`, which names what to install.
"""

from __future__ import annotations

import argparse

from frozenseg_export.tensorrt.builder import (
    DEFAULT_OPT_LEVEL,
    DEFAULT_PRECISION,
    DEFAULT_WORKSPACE_MIB,
    BuildOptions,
    build_engines,
)
from frozenseg_export.tensorrt.trtexec import write_trtexec_script
from frozenseg_runtime import graphs
from frozenseg_runtime.backends.tensorrt.env import require_tensorrt
from frozenseg_runtime.errors import TensorRTUnavailableError
from frozenseg_runtime.manifest import PRECISIONS
from frozenseg_runtime.progress import progress

_say = progress("build")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of MiB, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_build_command(
        sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "build",
        help="build TensorRT engines for exported artifacts on this GPU",
        description="Build one TensorRT engine per graph (strongly typed; the precision is the "
        "manifest's: fp32, or fp16 / int8 / mixed written by `quantize`) into ARTIFACTS/engines/, "
        "with a metadata sidecar and engines/index.json for the runtime's tensorrt backend. "
        "Engines built from the same inputs are kept; --force rebuilds them. Also writes "
        "engines/trtexec_<precision>.sh with the same builds for trtexec.",
    )
    p.add_argument("--artifacts", required=True, help="folder written by `frozenseg-deploy export`")
    p.add_argument("--precision", choices=PRECISIONS, default=DEFAULT_PRECISION,
                   help=f"manifest precision to build (default {DEFAULT_PRECISION})")
    p.add_argument("--graphs", nargs="+", choices=graphs.GRAPHS, default=list(graphs.GRAPHS), metavar="GRAPH",
                   help=f"graphs to build (default all: {' '.join(graphs.GRAPHS)})")
    p.add_argument("--workspace-mib", type=_positive_int, default=DEFAULT_WORKSPACE_MIB,
                   help=f"TensorRT workspace limit in MiB (default {DEFAULT_WORKSPACE_MIB}; "
                   "less on an 8 GB Jetson)")
    p.add_argument("--opt-level", type=int, choices=range(6), default=DEFAULT_OPT_LEVEL,
                   help=f"builder optimization level 0-5 (default {DEFAULT_OPT_LEVEL})")
    p.add_argument("--timing-cache", metavar="PATH",
                   help="timing cache file, loaded if present and saved after each build "
                   "(default ARTIFACTS/engines/timing.cache)")
    p.add_argument("--force", action="store_true", help="rebuild engines that are up to date")
    p.add_argument("--trtexec-only", action="store_true",
                   help="only write engines/trtexec_<precision>.sh (needs no TensorRT, no GPU)")
    p.set_defaults(run=run_build)
    return p


def options_from_args(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(
        precision=args.precision,
        graphs=tuple(dict.fromkeys(args.graphs)),
        workspace_mib=args.workspace_mib,
        opt_level=args.opt_level,
        timing_cache=args.timing_cache,
        force=args.force,
    )


def run_build(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    if args.trtexec_only:
        _say(f"wrote {write_trtexec_script(args.artifacts, options)}")
        return 0
    try:
        require_tensorrt()
    except TensorRTUnavailableError as exc:
        raise TensorRTUnavailableError(
            f"{exc}. (`frozenseg-deploy build --artifacts {args.artifacts} --precision "
            f"{options.precision} --trtexec-only` writes the trtexec commands without TensorRT.)"
        ) from exc
    _say(f"wrote {write_trtexec_script(args.artifacts, options)}")
    build_engines(args.artifacts, options)
    return 0
