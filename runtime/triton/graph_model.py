"""One exported graph as a Triton Python-backend model on ONNX Runtime (`--backend python`).

For servers without Triton's ONNX Runtime or TensorRT backends (the `nvidia-pytriton` build, a
custom image): the graph runs on the runtime's own `OnnxRuntimeRunner`, so its feeds are checked
against the manifest and its session options are the runtime's. On a GPU instance the CUDA
execution provider is used when the installed ONNX Runtime has it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from frozenseg_runtime.backends.onnxruntime_runner import OnnxRuntimeRunner, available_providers
from frozenseg_runtime.manifest import load_manifest, verify_graph
from frozenseg_runtime.triton.bls import error_response, pb_utils
from frozenseg_runtime.triton.pipeline_model import PRECISION, parameters

GRAPH = "graph"  # config.pbtxt parameter: which manifest graph this model is
GRAPH_FILE = "model.onnx"
THREADS = "intra_op_threads"  # "" = ONNX Runtime's default (every core)


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        params = parameters(json.loads(args["model_config"]))
        version_dir = Path(args["model_repository"]) / args["model_version"]
        spec = load_manifest(version_dir).with_precision(params[PRECISION]).graphs[params[GRAPH]]
        # The graph the manifest vouches for, weights included, under the repository's names.
        local = replace(spec, file=GRAPH_FILE, external_data=tuple((Path(f).name, d) for f, d in spec.external_data))
        verify_graph(version_dir, local, remedy="regenerate the repository with frozenseg-deploy triton")
        backend = "onnxruntime-cpu"
        if args.get("model_instance_kind") == "GPU" and "CUDAExecutionProvider" in available_providers():
            backend = "onnxruntime-cuda"
        threads = int(params[THREADS]) if params.get(THREADS) else None
        self.runner = OnnxRuntimeRunner(version_dir / GRAPH_FILE, spec, backend, threads).activate()

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            try:
                feed = {t.name: pb_utils.get_input_tensor_by_name(request, t.name).as_numpy()
                        for t in self.runner.spec.inputs}
                outputs = self.runner.infer(feed)
            except Exception as exc:  # this request fails, the model keeps serving
                responses.append(error_response(exc, self.runner.spec.name))
                continue
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor(n, v) for n, v in outputs.items()]))
        return responses

    def finalize(self) -> None:
        self.runner.deactivate()
