"""Engine records and refusals from the Python runtime's TensorRT backend, for the C++ one.

    .venv/bin/python runtime/cpp/tests/data/make_tensorrt_cases.py

Writes beside this script, under tensorrt/: artifact folders whose engines/index.json and metadata
sidecars were written by runtime/backends/tensorrt/{engine_index,engine_metadata}.py themselves (the
engine files are placeholder bytes: these cases stop before TensorRT would read them), and
cases.json with what Python's locate_engine, check_engine_compatible, rebuild_command and the
profile functions answer, messages included ("{ARTIFACTS}" stands for a case's folder).
No TensorRT is needed, here or in the C++ test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from frozenseg_runtime.backends.tensorrt.engine_index import engines_dir, record_engine
from frozenseg_runtime.backends.tensorrt.engine_metadata import (
    EngineMetadata,
    check_engine_compatible,
    metadata_path,
    rebuild_command,
    write_metadata,
)
from frozenseg_runtime.backends.tensorrt.env import tensorrt_version_problem
from frozenseg_runtime.backends.tensorrt.loader import locate_engine
from frozenseg_runtime.backends.profiles import check_shape, dim_range, profile_from_spec
from frozenseg_runtime.errors import FrozenSegError
from frozenseg_runtime.manifest import GraphSpec, TensorSpec

HERE = Path(__file__).resolve().parent
ONNX_SHA = "4a95fbaa5bcfb08e424672f97fa1a9709383a24f281d246e9c3a1386f91a46bd"
DIMS = {"batch": {"min": 1, "opt": 8, "max": 256}, "sequence": {"min": 2, "opt": 16, "max": 77}}
SPEC = GraphSpec(name="clip_text", file="clip_text.onnx", sha256=ONNX_SHA,
                 inputs=[TensorSpec("tokens", "int64", ["batch", "sequence"])],
                 outputs=[TensorSpec("text_features", "float32", ["batch", 768])],
                 dims=DIMS, opset=18)


def metadata(**changes: object) -> EngineMetadata:
    values: dict[str, object] = dict(
        graph="clip_text", precision="fp32", onnx_file="clip_text.onnx", onnx_sha256=ONNX_SHA,
        external_data=(("clip_text.onnx.data", "ab" * 32),), profiles=profile_from_spec(SPEC),
        tensorrt_version="10.3.0.26", gpu_name="NVIDIA H200", compute_capability="9.0",
        workspace_bytes=4 << 30, builder_optimization_level=3, sm_count=132,
        gpu_memory_bytes=150_011_707_392, manifest_precision="fp32",
        engine_file="clip_text.fp32.engine", engine_sha256="cd" * 32, engine_bytes=11,
        frozenseg_deploy_version="0.1.0", created="2026-12-02T00:00:00+00:00")
    values.update(changes)
    return EngineMetadata(**values)  # type: ignore[arg-type]


def recipe_one_sidecar() -> str:
    """A sidecar as recipe 1 wrote it: none of the fields that came with recipe 2."""
    data = metadata().to_json()
    for name in ("sm_count", "gpu_memory_bytes", "tf32", "activation_resize", "device_memory_bytes",
                 "build_recipe"):
        data.pop(name)
    return json.dumps(data, indent=2) + "\n"


def write_case(out: Path, name: str, meta: EngineMetadata | None, *, index_text: str | None = None,
               sidecar_text: str | None = None) -> Path:
    artifacts = out / name
    shutil.rmtree(artifacts, ignore_errors=True)
    folder = engines_dir(artifacts)
    folder.mkdir(parents=True)
    if meta is not None:
        engine = folder / meta.engine_file
        engine.write_bytes(b"not-an-plan")
        write_metadata(metadata_path(engine), meta)
        record_engine(folder, meta, metadata_path(engine).name)
        if sidecar_text is not None:
            metadata_path(engine).write_text(sidecar_text)
    if index_text is not None:
        (folder / "index.json").write_text(index_text)
    return artifacts


def outcome(call, artifacts: Path) -> dict[str, object]:
    try:
        value = call()
    except FrozenSegError as exc:
        return {"error": type(exc).__name__, "message": str(exc).replace(str(artifacts), "{ARTIFACTS}")}
    return {"value": value}


def locate_cases(out: Path) -> list[dict[str, object]]:
    cases = []
    plan = [
        ("recorded", metadata(), {}),
        ("stale_onnx", metadata(onnx_sha256="ef" * 32), {}),
        ("mixed_precision", metadata(precision="fp16", manifest_precision="mixed",
                                     engine_file="clip_text.fp16.engine"), {}),
        ("no_engines", None, {}),
        ("bad_index", metadata(), {"index_text": "{not json"}),
        ("index_schema", metadata(), {"index_text": json.dumps({"schema_version": 2, "engines": []})}),
        ("sidecar_schema", metadata(), {"sidecar_text": json.dumps({"schema_version": 0})}),
        ("recipe_one", metadata(), {"sidecar_text": recipe_one_sidecar()}),
        ("sidecar_missing_fields", metadata(), {"sidecar_text": json.dumps(
            {"schema_version": 1, "graph": "clip_text", "precision": "fp32"})}),
    ]
    for name, meta, extra in plan:
        artifacts = write_case(out, name, meta, **extra)
        for precision in ("fp32", "fp16"):
            spec = GraphSpec(**{**SPEC.__dict__, "precision": precision})

            def located(spec: GraphSpec = spec, artifacts: Path = artifacts) -> dict[str, object]:
                record = locate_engine(spec, artifacts)
                return {"engine": record.path.name, "graph": record.metadata.graph,
                        "precision": record.metadata.precision,
                        "tensorrt_version": record.metadata.tensorrt_version,
                        "rebuild": record.rebuild_command().replace(str(artifacts), "{ARTIFACTS}")}

            cases.append({"case": name, "precision": precision, **outcome(located, artifacts)})
    return cases


def compatibility_cases() -> list[dict[str, object]]:
    meta = metadata()
    targets = [
        {"tensorrt_version": "10.3.0.26", "gpu_name": "NVIDIA H200", "compute_capability": "9.0"},
        {"tensorrt_version": "10.4.0.26"},
        {"gpu_name": "NVIDIA H100 80GB HBM3"},
        {"compute_capability": "8.7", "gpu_name": "Orin (nvgpu)", "tensorrt_version": "10.3.0.30",
         "onnx_sha256": "00" * 32},
        {"sm_count": 132, "gpu_memory_bytes": 143_771 << 20},  # within the tolerance: the same GPU
        {"sm_count": 114},
        {"gpu_memory_bytes": 85_899_345_920},
        {"sm_count": 66, "gpu_memory_bytes": 79_000 << 20, "gpu_name": "NVIDIA H200"},
    ]
    artifacts = Path("/data/my artifacts")
    return [{"target": t, **outcome(lambda t=t: check_engine_compatible(meta, artifacts=artifacts, **t),
                                    artifacts)} for t in targets]


def profile_cases(out: Path) -> dict[str, object]:
    ranges = []
    for entry in ({"min": 1, "opt": 8, "max": 256}, {"min": 33, "opt": 500, "max": 1000, "multiple": 32},
                  {"min": 320, "opt": 336, "max": 640, "multiple": 32}, {"min": 5, "opt": 4, "max": 9},
                  {"min": 33, "opt": 40, "max": 60, "multiple": 32}, {"min": 1, "opt": 1, "max": 1, "multiple": 0}):
        ranges.append({"entry": entry, **outcome(lambda e=entry: list(dim_range("side", {"side": e})), out)})
    profile = profile_from_spec(GraphSpec(
        name="image", file="x.onnx", sha256="", inputs=[TensorSpec("image", "float32", [1, 3, "h", "w"])],
        outputs=[], dims={"h": {"min": 64, "opt": 512, "max": 1024, "multiple": 32},
                          "w": {"min": 64, "opt": 512, "max": 1024, "multiple": 32}}, opset=18))
    rng = profile["image"]
    shapes = [[1, 3, 512, 640], [1, 3, 512], [1, 3, 32, 640], [2, 3, 512, 512], [1, 3, 512, 650]]
    checks = [{"shape": s, **outcome(lambda s=s: check_shape("image", s, rng), out)} for s in shapes]
    return {"dim_ranges": ranges, "image_range": rng.as_json(), "checks": checks}


def main(out: Path = HERE / "tensorrt") -> None:
    cases = {
        "onnx_sha256": ONNX_SHA,
        "locate": locate_cases(out),
        "compatibility": compatibility_cases(),
        "rebuild_commands": [
            {"artifacts": a, "precision": p, "graphs": g, "force": f, "command": rebuild_command(a, p, g, force=f)}
            for a, p, g, f in [("artifacts", "fp32", ["decoder"], True), ("/data/my artifacts", "mixed", [], False),
                               ("it's here", "int8", ["clip_image", "sam_image"], True), ("", "fp16", None, True)]],
        "profiles": profile_cases(out),
        "version_problems": [{"version": v, "problem": tensorrt_version_problem(v)}
                             for v in ("10.1.0.27", "10.3.0.30", "11.1.0.6", "10.0.1.6", "8.6.2.3",
                                       "9.99", "nightly", "10")],
    }
    (out / "cases.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
