"""The `frozenseg` pipeline model (Triton Python backend, BLS).

Per request: decode and pre-process the image (numpy), run the CLIP and SAM image models at once
(`async_exec`), encode the vocabulary through the text model only for synonyms this instance has
not cached, run the decoder model, post-process the task. It is the runtime's `Segmenter` with
Triton models as its runners, so every constant comes from the manifest and the answers are the
runtime's. Requests are independent: a bad image or vocabulary fails that request alone.

The repository's `frozenseg/1/model.py` imports `TritonPythonModel` from here; the runtime is
copied beside it, so the server needs only numpy and Pillow.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from frozenseg_runtime import graphs
from frozenseg_runtime.backends.tensorrt.profiles import profile_from_spec
from frozenseg_runtime.errors import FrozenSegError, UsageError
from frozenseg_runtime.manifest import load_manifest
from frozenseg_runtime.segmenter import Segmenter, decoder_feed
from frozenseg_runtime.triton import protocol
from frozenseg_runtime.triton.bls import TritonModelRunner, pb_utils

# config.pbtxt parameters of the pipeline model (written by frozenseg-deploy triton).
PRECISION = "precision"
GRAPH_MODELS = "graph_models"  # JSON {graph: Triton model name}
GRAPH_BACKEND = "graph_backend"  # python, onnxruntime or tensorrt
VOCABULARY_CACHE_DIR = "vocabulary_cache_dir"  # "" = memory only
MAX_IMAGE_PIXELS = "max_image_pixels"  # "" = the runtime's default


def parameters(model_config: dict[str, Any]) -> dict[str, str]:
    return {k: v["string_value"] for k, v in model_config.get("parameters", {}).items()}


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        config = json.loads(args["model_config"])
        params = parameters(config)
        version_dir = Path(args["model_repository"]) / args["model_version"]
        manifest = load_manifest(version_dir).with_precision(params[PRECISION])
        models = json.loads(params[GRAPH_MODELS])
        tensorrt = params.get(GRAPH_BACKEND) == "tensorrt"  # a plan refuses shapes beyond its profile
        self.runners = {
            name: TritonModelRunner(spec, models[name], {n: r.max for n, r in profile_from_spec(spec).items()}
                                    if tensorrt else None)
            for name, spec in manifest.graphs.items()}
        cache_dir = params.get(VOCABULARY_CACHE_DIR) or False
        pixels = params.get(MAX_IMAGE_PIXELS) or "default"
        self.segmenter = Segmenter(manifest, backend=f"triton-{params.get(GRAPH_BACKEND, '')}",
                                   cache_dir=cache_dir, runners=self.runners,
                                   max_image_pixels=None if pixels == "none" else
                                   (pixels if pixels == "default" else int(pixels)))
        self.instance = f"{args['model_name']} instance {args.get('model_instance_name', '')}".strip()

    async def execute(self, requests: list[Any]) -> list[Any]:
        """Requests of one batch run concurrently; each gets its own response or error."""
        return list(await asyncio.gather(*(self._respond(r) for r in requests)))

    async def _respond(self, request: Any) -> Any:
        try:
            tensors = await self._segment(request)
        except FrozenSegError as exc:
            code = pb_utils.TritonError.INVALID_ARG if isinstance(exc, UsageError) else pb_utils.TritonError.INTERNAL
            return pb_utils.InferenceResponse(error=pb_utils.TritonError(f"frozenseg: {exc}", code))
        except Exception as exc:  # a failure of this request, never of the server
            return pb_utils.InferenceResponse(error=pb_utils.TritonError(
                f"frozenseg: {type(exc).__name__}: {exc}", pb_utils.TritonError.INTERNAL))
        return pb_utils.InferenceResponse([pb_utils.Tensor(n, v) for n, v in tensors.items()])

    async def _segment(self, request: Any) -> dict[str, Any]:
        seg = self.segmenter
        timings: dict[str, float] = {}
        start = time.perf_counter()
        task = protocol.task_name(_input(request, protocol.TASK))
        vocabulary = protocol.vocabulary_from_tensor(_input(request, protocol.VOCABULARY))
        state = seg.encode_vocabulary(vocabulary)  # the text model only on a cache miss
        timings["vocabulary"] = time.perf_counter() - start
        start = time.perf_counter()
        resize = protocol.resize_from_tensor(_input(request, protocol.RESIZE, required=False))
        prepared = seg.prepare(protocol.image_bytes(_input(request, protocol.IMAGE)), resize)
        timings["preprocess"] = time.perf_counter() - start
        start = time.perf_counter()
        clip, sam = (self.runners[graphs.CLIP_IMAGE], self.runners[graphs.SAM_IMAGE])
        clip_out, sam_out = await asyncio.gather(clip.infer_async({"image": prepared.clip_input}),
                                                 sam.infer_async({"image": prepared.sam_input}))
        timings["image_encoders"] = time.perf_counter() - start
        start = time.perf_counter()
        raw = await self.runners[graphs.DECODER].infer_async(
            decoder_feed({**clip_out, **sam_out}, state))
        timings["decoder"] = time.perf_counter() - start
        start = time.perf_counter()
        result = seg.postprocess({k: v[0] for k, v in raw.items()}, prepared, task, state.vocabulary)
        timings["postprocess"] = time.perf_counter() - start
        result.timings = timings
        return protocol.result_tensors(result, {"vocabulary_cache": seg.cache.stats.as_dict(),
                                                "served_by": self.instance, "pid": os.getpid()})

    def finalize(self) -> None:
        self.segmenter.close()


def _input(request: Any, name: str, required: bool = True) -> Any:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        if not required:
            return None
        raise UsageError(f"the request lacks the input {name!r}")
    return tensor.as_numpy()

