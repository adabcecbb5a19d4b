"""Write a Triton model repository from exported artifacts, atomically.

    OUT/frozenseg/config.pbtxt            the BLS pipeline (Python backend)
    OUT/frozenseg/1/model.py              imports runtime/triton/pipeline_model.py
    OUT/frozenseg/1/manifest.json         constants, graph specs (the one source of truth)
    OUT/frozenseg/1/frozenseg_runtime/    the torch-free runtime, copied: the server needs only
                                          numpy and Pillow, and no PYTHONPATH
    OUT/frozenseg_<graph>/config.pbtxt    one model per graph
    OUT/frozenseg_<graph>/1/model.onnx    onnxruntime and python backends (python: + model.py,
                                          manifest.json and the runtime, as above)
    OUT/frozenseg_<graph>/1/model.plan    tensorrt: built by OUT/build_engines.sh inside the
                                          serving container, from OUT/frozenseg_<graph>/onnx/
    OUT/README.md                         how to serve this repository

The repository is built in a temporary sibling folder and renamed into place (`folder_atomic`), so
a failed or interrupted run never leaves half a repository where a server would load it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import frozenseg_runtime
from frozenseg_export.tensorrt.builder import DEFAULT_OPT_LEVEL, DEFAULT_WORKSPACE_MIB
from frozenseg_export.tensorrt.trtexec import trtexec_args
from frozenseg_export.triton.model_config import ServingSettings, graph_config, pipeline_config
from frozenseg_runtime.atomic import folder_atomic
from frozenseg_runtime.backends.profiles import profile_from_spec
from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.manifest import MANIFEST_NAME, Manifest, load_manifest, verify_artifacts
from frozenseg_runtime.triton import graph_model, pipeline_model, protocol

RUNTIME_PACKAGE = "frozenseg_runtime"
VERSION = "1"
ONNX_DIR = "onnx"  # tensorrt: the graph build_engines.sh builds from (not a version folder)
PLAN_FILE = "model.plan"
BUILD_SCRIPT = "build_engines.sh"
# What of the runtime the server-side models import; not the C++ sources that share its folder.
_RUNTIME_SKIP = ("cpp", "__pycache__", "*.pyc")

Say = Callable[[str], None]


@dataclass(frozen=True)
class RepositoryOptions:
    deployment: ServingSettings
    vocabulary_cache_dir: str = ""  # "" = each pipeline instance caches in memory
    max_image_pixels: str = ""  # "" = the runtime's default limit, "none" = no limit, or a count
    vocabulary_cache_rows: int = pipeline_model.DEFAULT_CACHE_ROWS  # per pipeline instance
    force: bool = False


def graph_model_name(graph: str) -> str:
    """`frozenseg_<graph>`: the graph models sit beside a user's other models."""
    return f"{protocol.PIPELINE_MODEL}_{graph}"


def write_repository(artifacts: str | os.PathLike[str], out: str | os.PathLike[str],
                     options: RepositoryOptions, say: Say = print) -> Path:
    deployment = options.deployment
    out = Path(out)
    if out.exists() and not options.force:
        raise UsageError(f"{out} exists: pass --force to replace it")
    source = Path(artifacts).resolve()
    if source == out.resolve() or source.is_relative_to(out.resolve()):
        raise UsageError(f"--out {out} holds the artifacts {artifacts}: replacing it would delete them")
    manifest = load_manifest(artifacts).with_precision(deployment.precision)
    verify_artifacts(manifest)  # a corrupt graph is refused here, not at server start
    with folder_atomic(out) as tmp:
        _write(manifest, tmp, options, say)
    return out


def _write(manifest: Manifest, root: Path, options: RepositoryOptions, say: Say) -> None:
    deployment = options.deployment
    models = {name: graph_model_name(name) for name in manifest.graphs}
    for name, spec in manifest.graphs.items():
        folder = root / models[name]
        version = folder / VERSION
        version.mkdir(parents=True)
        extra: dict[str, str] = {}
        if deployment.backend == "python":
            extra = {pipeline_model.PRECISION: deployment.precision, graph_model.GRAPH: name}
            if deployment.intra_op_threads:
                extra[graph_model.THREADS] = str(deployment.intra_op_threads)
            _python_model(version, "graph_model", manifest)
        graph_dir = folder / ONNX_DIR if deployment.backend == "tensorrt" else version
        _link_graph(manifest, name, graph_dir)
        (folder / "config.pbtxt").write_text(graph_config(models[name], spec, deployment, extra))
        say(f"{models[name]}: {spec.precision} {spec.file} ({deployment.backend})")
    params = {
        pipeline_model.PRECISION: deployment.precision,
        pipeline_model.GRAPH_MODELS: json.dumps(models),
        pipeline_model.GRAPH_BACKEND: deployment.backend,
        pipeline_model.VOCABULARY_CACHE_DIR: options.vocabulary_cache_dir,
        pipeline_model.MAX_IMAGE_PIXELS: options.max_image_pixels,
        pipeline_model.VOCABULARY_CACHE_ROWS: str(options.vocabulary_cache_rows),
    }
    pipeline = root / protocol.PIPELINE_MODEL
    (pipeline / VERSION).mkdir(parents=True)
    _python_model(pipeline / VERSION, "pipeline_model", manifest)
    (pipeline / "config.pbtxt").write_text(pipeline_config(protocol.PIPELINE_MODEL, deployment, params))
    say(f"{protocol.PIPELINE_MODEL}: the pipeline (Python backend, BLS) over {', '.join(models.values())}")
    if deployment.backend == "tensorrt":
        _write_executable(root / BUILD_SCRIPT, build_script(manifest, models))
        say(f"{BUILD_SCRIPT}: run it inside the serving container to build the {PLAN_FILE} files")
    (root / "README.md").write_text(serving_readme(deployment))


def _python_model(version: Path, module: str, manifest: Manifest) -> None:
    """model.py importing the server-side module, the manifest, and the runtime copied beside."""
    (version / "model.py").write_text(
        f'"""Written by frozenseg-deploy triton: the code is {RUNTIME_PACKAGE}/triton/{module}.py."""\n'
        f"from {RUNTIME_PACKAGE}.triton.{module} import TritonPythonModel  # noqa: F401\n")
    shutil.copy2(manifest.root / MANIFEST_NAME, version / MANIFEST_NAME)
    shutil.copytree(Path(frozenseg_runtime.__file__).parent, version / RUNTIME_PACKAGE,
                    ignore=shutil.ignore_patterns(*_RUNTIME_SKIP))


def _link_graph(manifest: Manifest, name: str, folder: Path) -> None:
    """The graph as `model.onnx`, its external-data files beside it under their own names (the
    graph refers to them by name). Hard links where the filesystem allows: full-size graphs are
    gigabytes, and artifacts are never modified in place."""
    spec = manifest.graphs[name]
    folder.mkdir(parents=True, exist_ok=True)
    pairs = [(manifest.root / spec.file, folder / graph_model.GRAPH_FILE)]
    pairs += [(manifest.root / file, folder / Path(file).name) for file, _ in spec.external_data]
    for source, target in pairs:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def build_script(manifest: Manifest, models: dict[str, str]) -> str:
    """trtexec for every graph, into `<model>/1/model.plan`: run where the server runs, since a
    plan only loads in the TensorRT version (and on the GPU) that built it."""
    lines = [
        "#!/usr/bin/env bash",
        "# Builds the TensorRT plans of this repository; written by frozenseg-deploy triton.",
        "# Run it inside the Triton container that will serve them, e.g.",
        "#   docker run --gpus all --rm -v $PWD:/models nvcr.io/nvidia/tritonserver:<yy.mm>-py3 \\",
        f"#     bash /models/{BUILD_SCRIPT}",
        "set -euo pipefail",
        'cd "$(dirname "$0")"',
        'TRTEXEC="${TRTEXEC:-$(command -v trtexec || echo /usr/src/tensorrt/bin/trtexec)}"',
    ]
    for name, spec in manifest.graphs.items():
        model = models[name]
        lines.append(f"mkdir -p {model}/{VERSION}")
        args = trtexec_args(f"{model}/{ONNX_DIR}/{graph_model.GRAPH_FILE}", profile_from_spec(spec),
                            f"{model}/{VERSION}/{PLAN_FILE}", DEFAULT_WORKSPACE_MIB, DEFAULT_OPT_LEVEL,
                            "timing.cache")
        lines.append('"$TRTEXEC" ' + " \\\n    ".join(shlex.quote(a) for a in args))
    return "\n".join(lines) + "\n"


def _write_executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def serving_readme(deployment: ServingSettings) -> str:
    """The commands that serve this repository (docs/triton.md has the whole story)."""
    packages = "'numpy<2' pillow" + (" onnxruntime" if deployment.backend == "python" else "")
    steps = []
    if deployment.backend == "tensorrt":
        steps.append(f"bash /models/{BUILD_SCRIPT}   # once, inside the container: the plans")
    steps += [f"pip install {packages}", "tritonserver --model-repository /models"]
    return (
        f"# FrozenSeg on Triton ({deployment.backend} graphs, {deployment.precision})\n\n"
        "Written by `frozenseg-deploy triton`. In NVIDIA's Triton container:\n\n"
        "```bash\n"
        "docker run --gpus all --rm -it --shm-size=2g -p 8000:8000 -p 8001:8001 -p 8002:8002 -v $PWD:/models \\\n"
        "  nvcr.io/nvidia/tritonserver:<yy.mm>-py3 bash\n"
        + "".join(f"{s}\n" for s in steps) + "```\n\n"
        "Then, from any machine with frozenseg-deploy:\n\n"
        "```bash\n"
        "frozenseg-deploy triton-client photo.jpg --url localhost:8001 --protocol grpc \\\n"
        "  --vocabulary 'cat,dog,grass' --task panoptic --out out/\n"
        "```\n"
    )
