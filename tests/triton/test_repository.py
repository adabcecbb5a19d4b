"""`frozenseg-deploy triton`: the repository's files, and every config.pbtxt read back with
Triton's own ModelConfig protobuf (tritonclient's model_config_pb2) and checked field by field
against the manifest."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from frozenseg_export.cli import main
from frozenseg_export.triton.repository import BUILD_SCRIPT, ONNX_DIR, PLAN_FILE, graph_model_name
from frozenseg_runtime import graphs
from frozenseg_runtime.manifest import load_manifest, sha256_file
from frozenseg_runtime.triton import protocol

model_config_pb2 = pytest.importorskip("tritonclient.grpc.model_config_pb2",
                                       reason="tritonclient[grpc] is part of the test install")
text_format = pytest.importorskip("google.protobuf.text_format")


def read_config(path):
    """Parse as Triton does: an unknown field or a wrong type is an error here too."""
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def write(artifacts, out, *extra):
    code = main(["triton", "--artifacts", str(artifacts), "--out", str(out), *extra])
    assert code == 0
    return out


# Written out here, not imported from the code under test.
EXPECTED_TYPES = {"float32": "TYPE_FP32", "float16": "TYPE_FP16", "int64": "TYPE_INT64", "int32": "TYPE_INT32",
                  "bool": "TYPE_BOOL"}
EXPECTED_ORT_TRT_PRECISION = {"fp32": "FP32", "fp16": "FP16", "int8": "INT8"}


def dtype_enum(name: str) -> int:
    return model_config_pb2.DataType.Value(EXPECTED_TYPES[name])


def profile_text(spec, which: str) -> str:
    """`name:1x3x320x320,...` of every input at the manifest's min / opt / max."""
    return ",".join(f"{t.name}:" + "x".join(str(d if isinstance(d, int) else spec.dims[d][which])
                                             for d in t.shape) for t in spec.inputs)


def check_tensors(declared, specs):
    assert [t.name for t in declared] == [s.name for s in specs]
    for tensor, spec in zip(declared, specs):
        assert tensor.data_type == dtype_enum(spec.dtype), spec.name
        assert list(tensor.dims) == [d if isinstance(d, int) else -1 for d in spec.shape], spec.name


def check_pipeline(config, instances, precision, backend):
    assert config.name == protocol.PIPELINE_MODEL and config.backend == "python"
    assert config.max_batch_size == 0
    assert [(t.name, model_config_pb2.DataType.Name(t.data_type), tuple(t.dims), t.optional)
            for t in config.input] == [(n, dt, d, n in protocol.OPTIONAL_INPUTS)
                                       for n, (dt, d) in protocol.INPUTS.items()]
    assert [(t.name, model_config_pb2.DataType.Name(t.data_type), tuple(t.dims)) for t in config.output] == \
        [(n, dt, d) for n, (dt, d) in protocol.OUTPUTS.items()]
    assert [(g.count, g.kind) for g in config.instance_group] == [(instances, model_config_pb2.ModelInstanceGroup.KIND_CPU)]
    params = {k: v.string_value for k, v in config.parameters.items()}
    assert params["precision"] == precision and params["graph_backend"] == backend
    assert int(params["vocabulary_cache_rows"]) > 0
    assert json.loads(params["graph_models"]) == {g: graph_model_name(g) for g in graphs.GRAPHS}


@pytest.mark.parametrize("precision", ["fp32", "mixed"])
def test_onnxruntime_repository(tiny_quantized, tmp_path, precision):
    artifacts = tiny_quantized[0]
    manifest = load_manifest(artifacts).with_precision(precision)
    repo = write(artifacts, tmp_path / "repo", "--backend", "onnxruntime", "--precision", precision,
                 "--instances", "3", "--threads", "2")
    check_pipeline(read_config(repo / "frozenseg" / "config.pbtxt"), 3, precision, "onnxruntime")
    for name, spec in manifest.graphs.items():
        folder = repo / graph_model_name(name)
        config = read_config(folder / "config.pbtxt")
        assert config.name == graph_model_name(name)
        assert config.platform == "onnxruntime_onnx" and config.backend == ""
        assert config.max_batch_size == 0
        check_tensors(config.input, spec.inputs)
        check_tensors(config.output, spec.outputs)
        assert [(g.count, g.kind) for g in config.instance_group] == \
            [(3, model_config_pb2.ModelInstanceGroup.KIND_GPU)]
        (accelerator,) = config.optimization.execution_accelerators.gpu_execution_accelerator
        assert accelerator.name == "tensorrt"
        assert accelerator.parameters["precision_mode"] == EXPECTED_ORT_TRT_PRECISION[spec.precision]
        for which in ("min", "opt", "max"):  # one engine for the manifest's whole range
            assert accelerator.parameters[f"trt_profile_{which}_shapes"] == profile_text(spec, which)
        assert accelerator.parameters["trt_engine_cache_enable"] == "1"
        assert int(accelerator.parameters["max_workspace_size_bytes"]) >= 1 << 30
        assert config.optimization.input_pinned_memory.enable
        assert config.optimization.output_pinned_memory.enable
        assert config.parameters["intra_op_thread_count"].string_value == "2"
        assert sha256_file(folder / "1" / "model.onnx") == spec.sha256  # the precision's graph
        assert not (folder / "1" / "model.py").exists()
    if precision == "mixed":  # each graph keeps its own precision (the SAM ViT is INT8)
        assert {s.precision for s in manifest.graphs.values()} == {"fp16", "int8"}


def test_tensorrt_repository(tiny_artifacts, tmp_path):
    artifacts = tiny_artifacts[0]
    manifest = load_manifest(artifacts)
    repo = write(artifacts, tmp_path / "repo", "--backend", "tensorrt")
    check_pipeline(read_config(repo / "frozenseg" / "config.pbtxt"), 1, "fp32", "tensorrt")
    script = (repo / BUILD_SCRIPT).read_text()
    lines = script.replace("\\\n", " ").splitlines()  # continuation lines joined
    commands = [shlex.split(line)[1:] for line in lines if line.startswith('"$TRTEXEC" ')]
    assert len(commands) == len(manifest.graphs)
    for (name, spec), command in zip(manifest.graphs.items(), commands):
        folder = repo / graph_model_name(name)
        config = read_config(folder / "config.pbtxt")
        assert config.platform == "tensorrt_plan" and config.max_batch_size == 0
        check_tensors(config.input, spec.inputs)
        check_tensors(config.output, spec.outputs)
        assert [(g.count, g.kind) for g in config.instance_group] == \
            [(1, model_config_pb2.ModelInstanceGroup.KIND_GPU)]
        assert config.optimization.cuda.output_copy_stream and not config.optimization.cuda.graphs
        assert not config.optimization.execution_accelerators.gpu_execution_accelerator
        # The plan is built in the serving container, from the graph kept beside the version folder.
        assert sha256_file(folder / ONNX_DIR / "model.onnx") == spec.sha256
        assert not (folder / "1" / PLAN_FILE).exists()
        args = dict((a.lstrip("-").split("=", 1) + [""])[:2] for a in command)
        assert "stronglyTyped" in args  # the lowered graphs' own precision, as `build` does
        assert args["onnx"] == f"{graph_model_name(name)}/{ONNX_DIR}/model.onnx"
        assert args["saveEngine"] == f"{graph_model_name(name)}/1/{PLAN_FILE}"
        for which in ("min", "opt", "max"):  # the manifest's profile, every input
            assert args[f"{which}Shapes"] == profile_text(spec, which)


def test_python_repository_is_self_contained(tiny_artifacts, tmp_path):
    artifacts = tiny_artifacts[0]
    manifest = load_manifest(artifacts)
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").touch()
    repo = write(artifacts, tmp_path / "repo", "--backend", "python", "--python-env", str(env))
    check_pipeline(read_config(repo / "frozenseg" / "config.pbtxt"), 1, "fp32", "python")
    for folder in [repo / "frozenseg"] + [repo / graph_model_name(n) for n in manifest.graphs]:
        config = read_config(folder / "config.pbtxt")
        assert config.backend == "python"
        assert config.parameters["EXECUTION_ENV_PATH"].string_value == str(env)
        version = folder / "1"
        # No PYTHONPATH reaches the stub: the runtime and the manifest travel with the model.
        assert (version / "frozenseg_runtime" / "triton" / "pipeline_model.py").is_file()
        assert (version / "frozenseg_runtime" / "data" / "bpe_simple_vocab_16e6.txt.gz").is_file()
        assert not (version / "frozenseg_runtime" / "cpp").exists()
        assert json.loads((version / "manifest.json").read_text()) == manifest.raw
        assert re.search(r"^from frozenseg_runtime\.triton\.\w+ import TritonPythonModel",
                         (version / "model.py").read_text(), re.M)
    for name, spec in manifest.graphs.items():
        config = read_config(repo / graph_model_name(name) / "config.pbtxt")
        assert [(g.count, g.kind) for g in config.instance_group] == \
            [(1, model_config_pb2.ModelInstanceGroup.KIND_CPU)]
        assert config.parameters["graph"].string_value == name
        assert sha256_file(repo / graph_model_name(name) / "1" / "model.onnx") == spec.sha256


def test_refusals_leave_no_repository(tiny_artifacts, clone_artifacts, tmp_path, capsys):
    artifacts = tiny_artifacts[0]
    out = write(artifacts, tmp_path / "repo", "--backend", "python")
    before = sorted(p.name for p in out.iterdir())
    assert main(["triton", "--artifacts", str(artifacts), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before
    # A graph that is not the manifest's: refused before anything is written.
    broken = clone_artifacts(artifacts, tmp_path / "broken")
    graph = broken / load_manifest(broken).graphs["decoder"].file
    data = bytearray(graph.read_bytes())
    graph.unlink()  # a hard link: write a new file, never into the shared one
    data[-1] ^= 1
    graph.write_bytes(bytes(data))
    assert main(["triton", "--artifacts", str(broken), "--out", str(tmp_path / "new")]) == 3
    assert "sha256" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    assert not list(tmp_path.glob(".new.tmp-*"))
    assert main(["triton", "--artifacts", str(artifacts), "--out", str(tmp_path / "x"),
                 "--python-env", str(tmp_path / "nowhere")]) == 2
    assert main(["triton", "--artifacts", str(artifacts), "--out", str(tmp_path / "x"), "--backend",
                 "tensorrt", "--instance-kind", "cpu"]) == 2
    # --force on a folder holding the artifacts would delete them: refused, nothing touched.
    assert main(["triton", "--artifacts", str(broken), "--out", str(tmp_path), "--force"]) == 2
    assert "would delete them" in capsys.readouterr().err and (broken / "manifest.json").is_file()
    assert not (tmp_path / "x").exists()
