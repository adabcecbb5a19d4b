"""`ARTIFACTS/engines/trtexec_<precision>.sh`: the same builds as `frozenseg-deploy build`, for trtexec.

For a device where TensorRT's Python API is not at hand (a bare JetPack image has trtexec in
/usr/src/tensorrt/bin) or to benchmark with trtexec: strongly typed, TF32 off (--noTF32), the
manifest's profile, the same workspace, optimization level and timing cache. Paths are relative to the artifacts folder,
so the script travels with it. Writing it needs no tensorrt.

Engines land in `engines/trtexec/`, apart from the runtime's: the runtime loads only engines
recorded (with their TensorRT version and GPU) by `frozenseg-deploy build`.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Mapping
from pathlib import Path

from frozenseg_export.tensorrt.builder import BuildOptions, selected_manifest, timing_cache_path
from frozenseg_runtime.atomic import write_bytes_atomic
from frozenseg_runtime.backends.tensorrt.engine_index import (
    ENGINES_DIR,
    engine_file_name,
    engines_dir,
)
from frozenseg_runtime.backends.profiles import ShapeRange, profile_from_spec, profile_shapes

TRTEXEC_DIR = "trtexec"


def script_name(precision: str) -> str:
    return f"trtexec_{precision}.sh"


def shapes_arg(flag: str, profile: Mapping[str, ShapeRange], which: str) -> str:
    """`--minShapes=image:1x3x320x320,...` for which in min / opt / max."""
    return f"--{flag}=" + profile_shapes(profile, which)


def trtexec_args(onnx: str, profile: Mapping[str, ShapeRange], engine: str, workspace_mib: int,
                 opt_level: int, timing_cache: str) -> list[str]:
    """trtexec's arguments for one engine (paths as given)."""
    return [
        f"--onnx={onnx}",
        "--stronglyTyped",
        "--noTF32",  # TF32 is on by default, strongly typed or not: fp32 must be fp32
        shapes_arg("minShapes", profile, "min"),
        shapes_arg("optShapes", profile, "opt"),
        shapes_arg("maxShapes", profile, "max"),
        f"--memPoolSize=workspace:{int(workspace_mib)}M",
        f"--builderOptimizationLevel={int(opt_level)}",
        f"--timingCacheFile={timing_cache}",
        f"--saveEngine={engine}",
        "--skipInference",
    ]


def _relative(path: Path, root: Path) -> str:
    """`path` relative to the artifacts folder when inside it (portable), else absolute."""
    path, root = path.resolve(), root.resolve()
    return os.path.relpath(path, root) if path.is_relative_to(root) else os.fspath(path)


def render_script(artifacts: str | os.PathLike[str], options: BuildOptions) -> str:
    manifest = selected_manifest(artifacts, options)
    root = manifest.root
    cache = _relative(timing_cache_path(root, options), root)
    lines = [
        "#!/usr/bin/env bash",
        f"# FrozenSeg TensorRT engines ({options.precision}) with trtexec; written by frozenseg-deploy build.",
        "# Run it on the device that will run the engines (engines are tied to the TensorRT version",
        "# and the GPU). It builds what `frozenseg-deploy build` builds, into engines/trtexec/; the",
        "# runtime loads only engines recorded by `frozenseg-deploy build` (with their metadata).",
        "set -euo pipefail",
        'cd "$(dirname "$0")/.."',
        'TRTEXEC="${TRTEXEC:-$(command -v trtexec || echo /usr/src/tensorrt/bin/trtexec)}"',
        f"mkdir -p {ENGINES_DIR}/{TRTEXEC_DIR}",
    ]
    for name, spec in manifest.graphs.items():
        engine = f"{ENGINES_DIR}/{TRTEXEC_DIR}/{engine_file_name(name, spec.precision)}"
        args = trtexec_args(spec.file, profile_from_spec(spec), engine, options.workspace_mib,
                            options.opt_level, cache)
        lines.append(f"echo {shlex.quote(f'building {name} ({spec.precision})')}")
        lines.append('"$TRTEXEC" ' + " \\\n    ".join(shlex.quote(a) for a in args))
    return "\n".join(lines) + "\n"


def write_trtexec_script(artifacts: str | os.PathLike[str], options: BuildOptions) -> Path:
    """Write (atomically) and return `ARTIFACTS/engines/trtexec_<precision>.sh`, executable."""
    folder = engines_dir(artifacts)
    folder.mkdir(parents=True, exist_ok=True)
    path = write_bytes_atomic(folder / script_name(options.precision), render_script(artifacts, options).encode())
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
