"""TensorRT build logic that needs no GPU: profiles, engine metadata and its checks, the engine
index, build planning and the content cache, the trtexec script, and the `build` command's
behaviour where TensorRT is absent (made absent for real: `import tensorrt` fails)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import types
from dataclasses import replace
from pathlib import Path

import pytest

from frozenseg_export.tensorrt.builder import (
    BuildOptions,
    plan_builds,
    selected_manifest,
    up_to_date,
)
from frozenseg_export.tensorrt.command import add_build_command
from frozenseg_export.tensorrt.trtexec import render_script, trtexec_args, write_trtexec_script
from frozenseg_runtime import graphs
from frozenseg_runtime.backends.factory import make_runner, resolve_backend
from frozenseg_runtime.backends.tensorrt.engine_index import (
    INDEX_NAME,
    find_engine,
    read_index,
    record_engine,
    write_index,
)
from frozenseg_runtime.backends.tensorrt.engine_metadata import (
    KEY_FIELDS,
    EngineMetadata,
    check_engine_compatible,
    memory_matches,
    metadata_path,
    read_metadata,
    rebuild_command,
    write_metadata,
)
from frozenseg_runtime.backends.tensorrt.env import (
    import_tensorrt,
    require_tensorrt,
    tensorrt_version_problem,
)
from frozenseg_runtime.backends.tensorrt.loader import artifacts_root
from frozenseg_runtime.backends.profiles import (
    ShapeRange,
    check_feed_shapes,
    dim_range,
    output_max_shapes,
    profile_from_spec,
)
from frozenseg_runtime.errors import (
    ArtifactError,
    BackendError,
    EngineMetadataError,
    EngineMismatchError,
    EngineMissingError,
    FrozenSegError,
    ManifestError,
    ProfileError,
    ProfileShapeError,
    TensorRTUnavailableError,
)
from frozenseg_runtime.manifest import load_manifest, sha256_file

TRT, GPU, CC = "10.3.0.30", "Orin", "8.7"


@pytest.fixture
def art(tiny_artifacts, tmp_path, clone_artifacts) -> Path:
    return clone_artifacts(tiny_artifacts[0], tmp_path / "art")


@pytest.fixture
def no_tensorrt(monkeypatch):
    """`import tensorrt` raises ImportError, as on a machine without it (a None entry in
    sys.modules is Python's own way to make an import fail)."""
    monkeypatch.setitem(sys.modules, "tensorrt", None)


@pytest.fixture
def tensorrt_stubs_only(monkeypatch):
    """`import tensorrt` gives what it gives where only tensorrt-stubs is installed: its folder of
    .pyi files as a namespace package, without `__file__` or any of TensorRT's API."""
    stubs = types.ModuleType("tensorrt")
    stubs.__file__ = None
    stubs.__path__ = ["/site-packages/tensorrt"]
    monkeypatch.setitem(sys.modules, "tensorrt", stubs)


def _meta(**changes) -> EngineMetadata:
    base = EngineMetadata(
        graph="decoder", precision="fp16", onnx_file="decoder.fp16.onnx", onnx_sha256="a" * 64,
        external_data=(("decoder.fp16.onnx.data", "b" * 64),),
        profiles={"seen": ShapeRange((1,), (150,), (2048,), (1,))},
        tensorrt_version=TRT, gpu_name=GPU, compute_capability=CC, workspace_bytes=1 << 30,
        builder_optimization_level=3, manifest_precision="fp16", engine_file="decoder.fp16.engine",
    )
    return replace(base, **changes)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frozenseg-deploy")
    add_build_command(parser.add_subparsers(dest="command", required=True))
    return parser


def _add_precisions(folder: Path) -> None:
    """Give a cloned artifacts folder fp16 and mixed entries, as `quantize` writes them: the fp16
    'graphs' are copies of the fp32 files under new names (only the plumbing is tested here)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    fp16 = {}
    for name in graphs.GRAPHS:
        target = folder / f"{name}.fp16.onnx"
        shutil.copy2(folder / f"{name}.onnx", target)
        fp16[name] = {"file": target.name, "sha256": sha256_file(target), "external_data": [],
                      "precision": "fp16"}
    fp32 = {name: {"file": e["file"], "sha256": e["sha256"], "external_data": [], "precision": "fp32"}
            for name, e in manifest["graphs"].items()}
    mixed = {graphs.CLIP_IMAGE: fp16[graphs.CLIP_IMAGE], graphs.SAM_IMAGE: fp16[graphs.SAM_IMAGE],
             graphs.CLIP_TEXT: fp32[graphs.CLIP_TEXT], graphs.DECODER: fp32[graphs.DECODER]}
    manifest["precisions"] = {"fp16": {"graphs": fp16}, "mixed": {"graphs": mixed}}
    (folder / "manifest.json").write_text(json.dumps(manifest))


# -- optimization profiles ------------------------------------------------------------------------
def test_profiles_follow_the_manifest(tiny_artifacts):
    manifest = load_manifest(tiny_artifacts[0])
    image = profile_from_spec(manifest.graphs[graphs.CLIP_IMAGE])["image"]
    assert (image.min, image.opt, image.max) == ((1, 3, 320, 320), (1, 3, 800, 1088), (1, 3, 1344, 1344))
    assert image.multiple == (1, 1, 32, 32)
    sam_spec = manifest.graphs[graphs.SAM_IMAGE]
    sam = profile_from_spec(sam_spec)["image"]
    assert sam.min == sam.opt == sam.max == tuple(sam_spec.inputs[0].shape)  # fixed dims stay fixed
    tokens = profile_from_spec(manifest.graphs[graphs.CLIP_TEXT])["tokens"]
    assert (tokens.min, tokens.max) == ((1, 2), (1024, 77))
    decoder_spec = manifest.graphs[graphs.DECODER]
    decoder = profile_from_spec(decoder_spec)
    assert list(decoder) == list(graphs.INPUTS[graphs.DECODER])
    for stride, name in zip((4, 8, 16, 32), graphs.CLIP_FEATURES):  # the strides' ranges agree
        assert decoder[name].max[2] * stride == image.max[2]
        assert decoder[name].min[3] * stride == image.min[3]
    assert decoder["text_embeddings"].max[:2] == decoder["synonym_mask"].max == (2048, 128)


def test_output_capacity_is_the_declared_maximum(tiny_artifacts):
    spec = load_manifest(tiny_artifacts[0]).graphs[graphs.DECODER]
    shapes = output_max_shapes(spec)
    queries = spec.outputs[0].shape[1]
    assert shapes["pred_masks"] == (1, queries, 336, 336)
    assert shapes["class_probs"] == (1, queries, 2049)


def test_ranges_round_to_their_multiple():
    assert dim_range("h", {"h": {"min": 330, "opt": 801, "max": 1350, "multiple": 32}}) == (352, 800, 1344, 32)
    assert dim_range("k", {"k": {"min": 1, "opt": 150, "max": 2048}}) == (1, 150, 2048, 1)


@pytest.mark.parametrize("dims", [
    {"h": {"min": 64, "opt": 32, "max": 128}},  # opt below min
    {"h": {"min": 10, "opt": 12, "max": 5}},  # min above max
    {"h": {"min": 33, "opt": 40, "max": 63, "multiple": 32}},  # no multiple inside
    {"other": {"min": 1, "opt": 1, "max": 1}},  # no range for the dim
])
def test_unusable_ranges_are_refused(dims):
    with pytest.raises(ProfileError, match="'h'"):
        dim_range("h", dims)


def test_feed_shapes_are_checked_against_the_profile(tiny_artifacts):
    profile = profile_from_spec(load_manifest(tiny_artifacts[0]).graphs[graphs.CLIP_IMAGE])
    check_feed_shapes({"image": (1, 3, 320, 1344)}, profile)
    with pytest.raises(ProfileShapeError, match=r"'image' dim 3 is 1376, outside .*\[320, 1344\]"):
        check_feed_shapes({"image": (1, 3, 320, 1376)}, profile)
    with pytest.raises(ProfileShapeError, match="not a multiple of 32"):
        check_feed_shapes({"image": (1, 3, 336, 320)}, profile)
    with pytest.raises(ProfileShapeError, match="rank 3"):
        check_feed_shapes({"image": (3, 320, 320)}, profile)
    with pytest.raises(ProfileShapeError, match="missing"):
        check_feed_shapes({}, profile)


# -- engine metadata ------------------------------------------------------------------------------
def test_metadata_round_trip(tmp_path):
    meta = _meta(engine_sha256="c" * 64, engine_bytes=123, created="2025-01-01T00:00:00+00:00")
    path = write_metadata(metadata_path(tmp_path / "decoder.fp16.engine"), meta)
    assert path.name == "decoder.fp16.engine.json"
    assert read_metadata(path) == meta
    data = json.loads(path.read_text())
    assert data["content_key"] == meta.content_key and data["profiles"]["seen"]["max"] == [2048]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


@pytest.mark.parametrize("text, match", [
    ("{not json", "cannot read"),
    (json.dumps({"schema_version": 99}), "schema"),
    (json.dumps({"schema_version": 1, "graph": "decoder"}), "lacks"),
])
def test_bad_metadata_is_a_typed_error(tmp_path, text, match):
    path = tmp_path / "x.engine.json"
    path.write_text(text)
    with pytest.raises(EngineMetadataError, match=match):
        read_metadata(path)


KEY_CHANGES = {
    "graph": "clip_text", "precision": "int8", "onnx_sha256": "d" * 64,
    "external_data": (("decoder.fp16.onnx.data", "e" * 64),),
    "profiles": {"seen": ShapeRange((1,), (150,), (1024,), (1,))},
    "tensorrt_version": "10.3.0.26", "gpu_name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0",
    "workspace_bytes": 2 << 30, "builder_optimization_level": 5, "sm_count": 16, "tf32": True,
    "activation_resize": True,
}


def test_every_build_input_is_in_the_content_key():
    assert set(KEY_CHANGES) == set(KEY_FIELDS)


@pytest.mark.parametrize("field", sorted(KEY_CHANGES))
def test_content_key_changes_with_each_build_input(field):
    assert _meta(**{field: KEY_CHANGES[field]}).content_key != _meta().content_key


def test_content_key_ignores_what_is_not_a_build_input():
    assert _meta(engine_sha256="f" * 64, engine_bytes=9, created="later", engine_file="other.engine",
                 frozenseg_deploy_version="9.9", manifest_precision="mixed",
                 onnx_file="renamed.onnx").content_key == _meta().content_key


MISMATCHES = {
    "tensorrt_version": ("10.3.0.26", "built with TensorRT 10.3.0.30, this is TensorRT 10.3.0.26"),
    "gpu_name": ("NVIDIA Jetson AGX Orin", "built on GPU 'Orin', this is 'NVIDIA Jetson AGX Orin'"),
    "compute_capability": ("9.0", "built for compute capability 8.7, this GPU has 9.0"),
    "onnx_sha256": ("9" * 64, "sha256 aaaaaaaaaaaa..., the manifest's graph has 999999999999..."),
}


@pytest.mark.parametrize("field", sorted(MISMATCHES))
def test_each_mismatch_is_refused_with_the_rebuild_command(field):
    observed = {"tensorrt_version": TRT, "gpu_name": GPU, "compute_capability": CC, "onnx_sha256": "a" * 64}
    check_engine_compatible(_meta(), **observed, artifacts="/data/art")  # all equal: accepted
    value, says = MISMATCHES[field]
    with pytest.raises(EngineMismatchError) as info:
        check_engine_compatible(_meta(), **{**observed, field: value}, artifacts="/data/art")
    message = str(info.value)
    assert says in message
    assert ("frozenseg-deploy build --artifacts /data/art --precision fp16 --graphs decoder --force"
            in message)
    assert isinstance(info.value, FrozenSegError) and isinstance(info.value, RuntimeError)
    assert isinstance(info.value, ArtifactError)  # the CLI's exit status 3


ORIN_AGX = {"sm_count": 16, "gpu_memory_bytes": 61_400 << 20}  # what cudaGetDeviceProperties says


@pytest.mark.parametrize("running, says", [
    ({"sm_count": 8, "gpu_memory_bytes": 7_620 << 20}, "16 SMs, this one has 8"),  # Orin Nano 8 GB
    ({"sm_count": 16, "gpu_memory_bytes": 30_600 << 20}, "60.0 GiB, this one has 29.9 GiB"),  # AGX 32 GB
])
def test_another_module_of_the_same_family_is_refused(running, says):
    """Every Orin module says "Orin", 8.7: the SM count and memory tell an AGX from a Nano."""
    meta = _meta(**ORIN_AGX)
    check_engine_compatible(meta, TRT, GPU, CC, sm_count=16, gpu_memory_bytes=61_000 << 20)  # same module
    with pytest.raises(EngineMismatchError, match=says) as info:
        check_engine_compatible(meta, TRT, GPU, CC, artifacts="/a", **running)
    assert "frozenseg-deploy build --artifacts /a --precision fp16 --graphs decoder --force" in str(info.value)


def test_memory_tolerance_separates_modules_not_carve_outs():
    assert memory_matches(16 << 30, 15 << 30) and not memory_matches(16 << 30, 8 << 30)
    assert memory_matches(0, 8 << 30)  # not recorded: not checked


def test_an_engine_of_an_older_recipe_is_refused_anywhere(tmp_path):
    """A sidecar written before recipe 2 (no build_recipe field: TF32 was left on) is refused even
    by the check that needs no GPU, and `build` does not keep it (its content key differs)."""
    data = _meta().to_json()
    for name in ("build_recipe", "tf32", "sm_count", "gpu_memory_bytes", "activation_resize",
                 "device_memory_bytes"):
        data.pop(name)
    path = tmp_path / "decoder.fp16.engine.json"
    path.write_text(json.dumps(data))
    old = read_metadata(path)
    assert (old.build_recipe, old.tf32, old.sm_count) == (1, True, 0)
    assert old.content_key != _meta().content_key
    with pytest.raises(EngineMismatchError, match="build recipe 1, this runtime needs 2"):
        check_engine_compatible(old, onnx_sha256="a" * 64)
    check_engine_compatible(_meta(), onnx_sha256="a" * 64)


def test_builds_clear_tf32_and_record_the_module(art):
    options = BuildOptions(precision="fp32", graphs=(graphs.DECODER,))
    (plan,) = plan_builds(selected_manifest(art, options), options, TRT, GPU, CC, sm_count=8,
                          gpu_memory_bytes=7 << 30)
    assert (plan.metadata.tf32, plan.metadata.sm_count, plan.metadata.build_recipe) == (False, 8, 2)
    (other,) = plan_builds(selected_manifest(art, options), options, TRT, GPU, CC, sm_count=16)
    assert other.metadata.content_key != plan.metadata.content_key


@pytest.mark.parametrize("version, ok", [("10.1.0.27", True), ("10.3.0.30", True), ("11.1.0.6", True),
                                         ("10.0.1.6", False), ("8.6.2.3", False), ("nightly", False)])
def test_tensorrt_versions_below_10_1_are_refused(version, ok):
    problem = tensorrt_version_problem(version)
    assert (problem is None) == ok
    if not ok and version[0].isdigit():
        assert ">= 10.1" in problem and "JetPack 6.1" in problem


def test_require_tensorrt_refuses_an_old_tensorrt(monkeypatch):
    old = types.ModuleType("tensorrt")
    old.__file__ = "/usr/lib/python3/dist-packages/tensorrt/__init__.py"
    for name in ("Builder", "Runtime", "Logger"):
        setattr(old, name, object)
    old.__version__ = "8.6.2.3"  # JetPack 6.0
    monkeypatch.setitem(sys.modules, "tensorrt", old)
    with pytest.raises(TensorRTUnavailableError, match="TensorRT 8.6.2.3 is too old"):
        require_tensorrt()


def test_all_differences_are_listed_and_mixed_rebuilds_as_mixed():
    with pytest.raises(EngineMismatchError) as info:
        check_engine_compatible(_meta(manifest_precision="mixed"), "11.0.0.1", "H100", "9.0", "a" * 64,
                                artifacts="art dir")
    message = str(info.value)
    assert "TensorRT 11.0.0.1" in message and "'H100'" in message and "9.0" in message
    assert "--artifacts 'art dir' --precision mixed --graphs decoder --force" in message


# -- engine index ---------------------------------------------------------------------------------
def test_index_records_and_finds_engines(tmp_path):
    folder = tmp_path / "engines"
    folder.mkdir()
    meta = _meta()
    record_engine(folder, meta, "decoder.fp16.engine.json")
    record_engine(folder, _meta(graph="clip_text", engine_file="clip_text.fp16.engine"), "clip_text.fp16.engine.json")
    entry = find_engine(tmp_path, "decoder", "fp16")
    assert (entry.engine, entry.metadata, entry.content_key) == (
        "decoder.fp16.engine", "decoder.fp16.engine.json", meta.content_key)
    assert set(read_index(folder)) == {("decoder", "fp16"), ("clip_text", "fp16")}
    with pytest.raises(EngineMissingError, match=r"frozenseg-deploy build --artifacts \S+ --precision int8 --graphs decoder"):
        find_engine(tmp_path, "decoder", "int8")


def test_index_write_is_atomic(tmp_path, monkeypatch):
    folder = tmp_path / "engines"
    folder.mkdir()
    record_engine(folder, _meta(), "decoder.fp16.engine.json")
    before = (folder / INDEX_NAME).read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    entries = read_index(folder)
    entries[("sam_image", "fp16")] = replace(entries[("decoder", "fp16")], graph="sam_image")
    with pytest.raises(OSError, match="disk full"):
        write_index(folder, entries)
    assert (folder / INDEX_NAME).read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [INDEX_NAME]


def test_corrupt_index_is_a_typed_error(tmp_path):
    (tmp_path / "engines").mkdir()
    (tmp_path / "engines" / INDEX_NAME).write_text('{"schema_version": 1, "engines": [{"graph": 1}]}')
    with pytest.raises(EngineMetadataError, match="--force"):
        find_engine(tmp_path, "decoder", "fp32")


# -- planning and the content cache ---------------------------------------------------------------
def test_plans_cover_the_selected_graphs(art):
    options = BuildOptions(precision="fp32", graphs=(graphs.DECODER, graphs.CLIP_TEXT), workspace_mib=512, opt_level=4)
    manifest = selected_manifest(art, options)
    plans = plan_builds(manifest, options, TRT, GPU, CC)
    assert [p.spec.name for p in plans] == [graphs.CLIP_TEXT, graphs.DECODER]  # manifest order
    for plan in plans:
        assert plan.engine_path == art / "engines" / f"{plan.spec.name}.fp32.engine"
        assert plan.metadata.profiles == profile_from_spec(plan.spec)
        assert plan.metadata.workspace_bytes == 512 << 20 and plan.metadata.builder_optimization_level == 4
        assert plan.metadata.onnx_sha256 == manifest.graphs[plan.spec.name].sha256
        assert (plan.metadata.tensorrt_version, plan.metadata.gpu_name) == (TRT, GPU)
    assert plans[0].metadata.content_key != plans[1].metadata.content_key


def _pretend_built(plan, payload: bytes = b"engine bytes") -> None:
    """Files as a finished build leaves them (the bytes stand for an engine: only the cache
    decision is under test, and it reads digests, never the engine)."""
    plan.engine_path.parent.mkdir(parents=True, exist_ok=True)
    plan.engine_path.write_bytes(payload)
    meta = replace(plan.metadata, engine_sha256=hashlib.sha256(payload).hexdigest(), engine_bytes=len(payload))
    write_metadata(metadata_path(plan.engine_path), meta)


def test_content_cache_skips_only_identical_intact_builds(art):
    options = BuildOptions(precision="fp32", graphs=(graphs.DECODER,))
    (plan,) = plan_builds(selected_manifest(art, options), options, TRT, GPU, CC)
    assert up_to_date(plan) is None  # nothing built yet
    _pretend_built(plan)
    assert up_to_date(plan).content_key == plan.metadata.content_key
    for changed in (replace(options, workspace_mib=1024), replace(options, opt_level=5)):
        (other,) = plan_builds(selected_manifest(art, changed), changed, TRT, GPU, CC)
        assert up_to_date(other) is None
    (elsewhere,) = plan_builds(selected_manifest(art, options), options, "10.3.0.26", GPU, CC)
    assert up_to_date(elsewhere) is None
    plan.engine_path.write_bytes(b"engine bytez")  # same size, other content
    assert up_to_date(plan) is None


def test_mixed_is_another_manifest_precision(art):
    _add_precisions(art)
    options = BuildOptions(precision="mixed")
    plans = {p.spec.name: p for p in plan_builds(selected_manifest(art, options), options, TRT, GPU, CC)}
    assert plans[graphs.CLIP_IMAGE].engine_path.name == "clip_image.fp16.engine"
    assert plans[graphs.CLIP_IMAGE].onnx_path.name == "clip_image.fp16.onnx"
    assert plans[graphs.DECODER].engine_path.name == "decoder.fp32.engine"
    assert {p.metadata.manifest_precision for p in plans.values()} == {"mixed"}
    fp16 = BuildOptions(precision="fp16", graphs=(graphs.CLIP_IMAGE,))
    (same,) = plan_builds(selected_manifest(art, fp16), fp16, TRT, GPU, CC)
    assert same.metadata.content_key == plans[graphs.CLIP_IMAGE].metadata.content_key  # one engine serves both
    script = render_script(art, options)
    assert "--onnx=clip_image.fp16.onnx" in script and "--onnx=decoder.onnx" in script


# -- trtexec script -------------------------------------------------------------------------------
def _commands(script: str) -> list[list[str]]:
    joined = script.replace("\\\n", " ")
    return [shlex.split(line)[1:] for line in joined.splitlines() if line.startswith('"$TRTEXEC"')]


def test_trtexec_script_builds_what_build_builds(art):
    options = BuildOptions(precision="fp32", workspace_mib=1024, opt_level=5)
    path = write_trtexec_script(art, options)
    assert path == art / "engines" / "trtexec_fp32.sh" and os.access(path, os.X_OK)
    script = path.read_text()
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    assert 'cd "$(dirname "$0")/.."' in script and "set -euo pipefail" in script
    commands = _commands(script)
    manifest = load_manifest(art)
    assert len(commands) == len(graphs.GRAPHS)
    for args, name in zip(commands, graphs.GRAPHS):
        spec = manifest.graphs[name]
        assert args == trtexec_args(spec.file, profile_from_spec(spec),
                                    f"engines/trtexec/{name}.fp32.engine", 1024, 5, "engines/timing.cache")
    decoder = dict(a.split("=", 1) for a in commands[3] if "=" in a)
    assert "text_embeddings:2048x128x64" in decoder["--maxShapes"]
    assert decoder["--memPoolSize"] == "workspace:1024M" and decoder["--builderOptimizationLevel"] == "5"
    assert all("--stronglyTyped" in c and "--noTF32" in c for c in commands)
    assert not any(a in ("--fp16", "--int8", "--best", "--explicitBatch") for c in commands for a in c)


def test_trtexec_script_takes_a_timing_cache_outside_the_folder(art, tmp_path):
    cache = tmp_path / "caches" / "orin.cache"
    script = render_script(art, BuildOptions(precision="fp32", graphs=(graphs.SAM_IMAGE,), timing_cache=str(cache)))
    assert f"--timingCacheFile={cache.resolve()}" in script


# -- the build command where TensorRT is absent ---------------------------------------------------
def test_build_without_tensorrt_is_a_typed_error(art, no_tensorrt):
    args = _parser().parse_args(["build", "--artifacts", str(art), "--precision", "fp32"])
    with pytest.raises(TensorRTUnavailableError) as info:
        args.run(args)
    message = str(info.value)
    assert "pip install tensorrt cuda-python" in message and "python3-libnvinfer" in message
    assert "--trtexec-only" in message
    assert isinstance(info.value, FrozenSegError)
    assert not (art / "engines").exists()  # nothing half-done


def test_type_stubs_alone_are_not_tensorrt(art, tensorrt_stubs_only):
    with pytest.raises(TensorRTUnavailableError, match="only its type stubs are") as info:
        import_tensorrt()
    assert "/site-packages/tensorrt" in str(info.value) and "pip install tensorrt" in str(info.value)
    with pytest.raises(BackendError, match="only its type stubs are"):
        resolve_backend("tensorrt")
    args = _parser().parse_args(["build", "--artifacts", str(art), "--precision", "fp32"])
    with pytest.raises(TensorRTUnavailableError, match="only its type stubs are"):
        args.run(args)
    assert not (art / "engines").exists()


def test_trtexec_only_works_without_tensorrt(art, no_tensorrt):
    args = _parser().parse_args(["build", "--artifacts", str(art), "--precision", "fp32",
                                 "--graphs", "decoder", "--trtexec-only"])
    assert args.run(args) == 0
    assert sorted(p.name for p in (art / "engines").iterdir()) == ["trtexec_fp32.sh"]
    assert len(_commands((art / "engines" / "trtexec_fp32.sh").read_text())) == 1


def test_trtexec_only_needs_the_precision_in_the_manifest(art, no_tensorrt):
    args = _parser().parse_args(["build", "--artifacts", str(art), "--trtexec-only"])  # fp16 default
    with pytest.raises(ManifestError, match="quantize"):
        args.run(args)


@pytest.mark.parametrize("argv", [
    ["--opt-level", "6"], ["--graphs", "backbone"], ["--workspace-mib", "0"], ["--precision", "bf16"],
])
def test_build_arguments_are_validated(argv, capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["build", "--artifacts", "x", *argv])


def test_build_defaults():
    args = _parser().parse_args(["build", "--artifacts", "x"])
    assert (args.precision, args.graphs, args.opt_level, args.force, args.trtexec_only) == (
        "fp16", list(graphs.GRAPHS), 3, False, False)


# -- the runtime's tensorrt backend before TensorRT is touched ------------------------------------
def test_tensorrt_backend_without_tensorrt_says_what_to_install(no_tensorrt):
    with pytest.raises(BackendError, match="pip install tensorrt cuda-python"):
        resolve_backend("tensorrt")
    assert resolve_backend("auto") != "tensorrt"


def test_runner_needs_a_built_engine(art):
    manifest = load_manifest(art)
    with pytest.raises(EngineMissingError, match="frozenseg-deploy build --artifacts"):
        make_runner(manifest.graph_path(graphs.DECODER), manifest.graphs[graphs.DECODER], "tensorrt")


def test_runner_refuses_an_engine_of_another_graph_version(art):
    manifest = load_manifest(art)
    spec = manifest.graphs[graphs.DECODER]
    folder = art / "engines"
    folder.mkdir()
    meta = _meta(precision="fp32", manifest_precision="fp32", onnx_sha256="0" * 64,
                 engine_file="decoder.fp32.engine")
    write_metadata(folder / "decoder.fp32.engine.json", meta)
    record_engine(folder, meta, "decoder.fp32.engine.json")
    with pytest.raises(EngineMismatchError) as info:
        make_runner(manifest.graph_path(graphs.DECODER), spec, "tensorrt")
    assert rebuild_command(art, "fp32", ["decoder"]) in str(info.value)
    assert spec.sha256[:12] in str(info.value)


def test_artifacts_root_strips_the_manifest_path(tiny_artifacts):
    spec = load_manifest(tiny_artifacts[0]).graphs[graphs.DECODER]
    assert artifacts_root(Path("/a/b/decoder.onnx"), spec) == Path("/a/b")
    nested = replace(spec, file="fp16/decoder.fp16.onnx")
    assert artifacts_root(Path("/a/b/fp16/decoder.fp16.onnx"), nested) == Path("/a/b")


def test_cuda_errors_are_named():
    pytest.importorskip("cuda.bindings.runtime", reason="cuda-python is not installed")
    from cuda.bindings import runtime as rt

    from frozenseg_runtime.backends.tensorrt.cuda_runtime import CudaError, call

    assert call((rt.cudaError_t.cudaSuccess, 7)) == 7
    with pytest.raises(CudaError, match="cudaMalloc failed: cudaErrorMemoryAllocation"):
        call((rt.cudaError_t.cudaErrorMemoryAllocation, None), "cudaMalloc")


def test_cuda_runtime_without_a_gpu_raises_typed_errors():
    """cuda-python installed, no driver or GPU: device_count says why, the rest is a CudaError."""
    pytest.importorskip("cuda.bindings.runtime", reason="cuda-python is not installed")
    from frozenseg_runtime.backends.tensorrt import cuda_runtime

    count, why = cuda_runtime.device_count()
    if count:
        pytest.skip(f"{count} CUDA GPU(s) present")
    assert why
    for call in (lambda: cuda_runtime.device_info(0), lambda: cuda_runtime.DeviceBuffer(16), cuda_runtime.Stream,
                 lambda: cuda_runtime.set_device(0)):
        with pytest.raises(cuda_runtime.CudaError, match=r"failed: cuda\w+"):
            call()


def test_a_missing_cuda_runtime_library_is_no_device(monkeypatch):
    """cuda-python 13 loads libcudart on first use: its absence is a reason, not a crash."""
    from frozenseg_runtime.backends.tensorrt import cuda_runtime

    class WithoutLibrary:
        def cudaGetDeviceCount(self):
            raise RuntimeError("libcudart.so.13 not found")

    monkeypatch.setattr(cuda_runtime, "_module", WithoutLibrary())
    assert cuda_runtime.device_count() == (0, "the CUDA runtime library cannot be loaded: libcudart.so.13 not found")
