"""`config.pbtxt` text for the repository's models, from the manifest.

Names, data types and shapes are the manifest's (a named dimension becomes -1: its range lives in
the manifest and, for TensorRT, in the engine's profile). Each graph backend gets the settings
Triton documents for it; the pipeline model gets its protocol (runtime/triton/protocol.py) and its
parameters. tests/triton checks every file with Triton's own ModelConfig protobuf.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from frozenseg_runtime.backends.profiles import profile_from_spec, profile_shapes
from frozenseg_runtime.manifest import GraphSpec, TensorSpec
from frozenseg_runtime.triton import protocol

GRAPH_BACKENDS = ("python", "onnxruntime", "tensorrt")
INSTANCE_KINDS = ("auto", "cpu", "gpu")

# The manifest's dtype names -> Triton's.
TRITON_TYPES = {"float32": "TYPE_FP32", "float16": "TYPE_FP16", "int64": "TYPE_INT64",
                "int32": "TYPE_INT32", "bool": "TYPE_BOOL"}
# ONNX Runtime's TensorRT execution provider's precision for a graph of each precision (INT8 lets
# it run the graph's own Q/DQ nodes as INT8 kernels; there is no calibration table).
ORT_TRT_PRECISION = {"fp32": "FP32", "fp16": "FP16", "int8": "INT8"}
ORT_TRT_WORKSPACE_BYTES = 4 << 30


@dataclass(frozen=True)
class ServingSettings:
    """What every model of one repository shares."""

    backend: str  # GRAPH_BACKENDS
    precision: str  # the manifest precision the graphs are
    instances: int  # instances per model (instance_group count)
    instance_kind: str  # KIND_CPU or KIND_GPU, for the graph models
    python_env: str | None = None  # EXECUTION_ENV_PATH of the Python-backend models
    intra_op_threads: int | None = None  # ONNX Runtime threads per graph instance


def instance_kind(backend: str, requested: str) -> str:
    """`auto`: GPU for the ONNX Runtime and TensorRT backends, CPU for the Python one."""
    if requested == "auto":
        return "KIND_CPU" if backend == "python" else "KIND_GPU"
    return f"KIND_{requested.upper()}"


def _dims(shape: Sequence[int | str]) -> str:
    return "[ " + ", ".join(str(d) if isinstance(d, int) else "-1" for d in shape) + " ]"


def _tensor(tensor: TensorSpec) -> str:
    return f'  {{ name: "{tensor.name}" data_type: {TRITON_TYPES[tensor.dtype]} dims: {_dims(tensor.shape)} }}'


def _protocol_tensor(name: str, dtype: str, dims: Sequence[int]) -> str:
    optional = " optional: true" if name in protocol.OPTIONAL_INPUTS else ""
    return f'  {{ name: "{name}" data_type: {dtype} dims: {_dims(dims)}{optional} }}'


def _block(key: str, items: Sequence[str]) -> str:
    return f"{key} [\n" + ",\n".join(items) + "\n]"


def _parameters(values: Mapping[str, str]) -> list[str]:
    return [f"parameters: {{ key: {json.dumps(k)} value: {{ string_value: {json.dumps(v)} }} }}"
            for k, v in values.items()]


def _instance_group(count: int, kind: str) -> str:
    return f"instance_group [ {{ count: {count} kind: {kind} }} ]"


def graph_config(name: str, spec: GraphSpec, deployment: ServingSettings,
                 extra_parameters: Mapping[str, str] | None = None) -> str:
    """One graph's model. max_batch_size 0: every shape is given in full, batch included (the
    encoders take one image, whose size varies per request, so Triton could not batch them)."""
    lines = [f'name: "{name}"']
    if deployment.backend == "onnxruntime":
        lines.append('platform: "onnxruntime_onnx"')
    elif deployment.backend == "tensorrt":
        lines.append('platform: "tensorrt_plan"')
    else:
        lines.append('backend: "python"')
    lines += ["max_batch_size: 0", _block("input", [_tensor(t) for t in spec.inputs]),
              _block("output", [_tensor(t) for t in spec.outputs]),
              _instance_group(deployment.instances, deployment.instance_kind)]
    lines += _optimization(deployment, spec)
    params = dict(extra_parameters or {})
    if deployment.backend == "python" and deployment.python_env:
        params["EXECUTION_ENV_PATH"] = deployment.python_env
    if deployment.backend == "onnxruntime" and deployment.intra_op_threads:
        params["intra_op_thread_count"] = str(deployment.intra_op_threads)  # the ORT backend's key
    lines += _parameters(params)
    return "\n".join(lines) + "\n"


def _optimization(deployment: ServingSettings, spec: GraphSpec) -> list[str]:
    """The backend's documented optimisation settings.

    onnxruntime on a GPU: ONNX Runtime's TensorRT execution provider with its engine cache (the
    first shape builds an engine for the manifest's whole profile, which later shapes and loads
    reuse while the cache folder lives) and pinned host buffers.
    tensorrt: pinned host buffers and a separate stream for copying outputs to the host. CUDA
    graphs are left off: the image size varies per request and a graph is captured per shape."""
    gpu = deployment.instance_kind == "KIND_GPU"
    if deployment.backend == "onnxruntime" and gpu:
        precision = ORT_TRT_PRECISION[spec.precision]
        profile = profile_from_spec(spec)
        shapes = {which: profile_shapes(profile, which) for which in ("min", "opt", "max")}
        return [
            "optimization {",
            "  execution_accelerators {",
            "    gpu_execution_accelerator: [ {",
            '      name: "tensorrt"',
            f'      parameters {{ key: "precision_mode" value: "{precision}" }}',
            f'      parameters {{ key: "max_workspace_size_bytes" value: "{ORT_TRT_WORKSPACE_BYTES}" }}',
            '      parameters { key: "trt_engine_cache_enable" value: "1" }',
            '      parameters { key: "trt_engine_cache_path" value: "/tmp/frozenseg-trt-cache" }',
            *(f'      parameters {{ key: "trt_profile_{which}_shapes" value: "{text}" }}'
              for which, text in shapes.items()),
            "    } ]",
            "  }",
            "  input_pinned_memory { enable: true }",
            "  output_pinned_memory { enable: true }",
            "}",
        ]
    if deployment.backend == "tensorrt":
        return [
            "optimization {",
            "  cuda { graphs: false output_copy_stream: true }",
            "  input_pinned_memory { enable: true }",
            "  output_pinned_memory { enable: true }",
            "}",
        ]
    return []


def pipeline_config(name: str, deployment: ServingSettings, parameters: Mapping[str, str]) -> str:
    """The `frozenseg` BLS model: numpy work on CPU instances, as many as the graph models'."""
    lines = [
        f'name: "{name}"',
        'backend: "python"',
        "max_batch_size: 0",
        _block("input", [_protocol_tensor(n, t, d) for n, (t, d) in protocol.INPUTS.items()]),
        _block("output", [_protocol_tensor(n, t, d) for n, (t, d) in protocol.OUTPUTS.items()]),
        _instance_group(deployment.instances, "KIND_CPU"),
    ]
    params = dict(parameters)
    if deployment.python_env:
        params["EXECUTION_ENV_PATH"] = deployment.python_env
    lines += _parameters(params)
    return "\n".join(lines) + "\n"
