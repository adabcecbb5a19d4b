"""The `frozenseg` pipeline model (Triton Python backend, BLS).

Per request: decode and pre-process the image (numpy), encode the vocabulary through the text model
only for synonyms this instance has not cached, run the CLIP and SAM image models at once
(`async_exec`), run the decoder model, post-process the task. It is the runtime's `Segmenter` with
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from frozenseg_runtime import graphs
from frozenseg_runtime.backends.profiles import profile_from_spec
from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.image.preprocess import encoder_input_shape
from frozenseg_runtime.manifest import load_manifest
from frozenseg_runtime.segmenter import Segmenter
from frozenseg_runtime.text.cache import MEMORY_ONLY
from frozenseg_runtime.triton import protocol
from frozenseg_runtime.triton.bls import TritonModelRunner, error_response, pb_utils

# config.pbtxt parameters of the pipeline model (written by frozenseg-deploy triton).
PRECISION = "precision"
GRAPH_MODELS = "graph_models"  # JSON {graph: Triton model name}
GRAPH_BACKEND = "graph_backend"  # python, onnxruntime or tensorrt
VOCABULARY_CACHE_DIR = "vocabulary_cache_dir"  # "" = memory only
MAX_IMAGE_PIXELS = "max_image_pixels"  # "" = the runtime's default
VOCABULARY_CACHE_ROWS = "vocabulary_cache_rows"  # synonyms kept in memory, least recently used out
DEFAULT_CACHE_ROWS = 50_000  # about 150 MB of 768-wide float32 rows


def parameters(model_config: dict[str, Any]) -> dict[str, str]:
    return {k: v["string_value"] for k, v in model_config.get("parameters", {}).items()}


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        config = json.loads(args["model_config"])
        params = parameters(config)
        version_dir = Path(args["model_repository"]) / args["model_version"]
        manifest = load_manifest(version_dir).with_precision(params[PRECISION])
        models = json.loads(params[GRAPH_MODELS])
        # A plan, and ONNX Runtime's TensorRT accelerator, refuse shapes beyond the manifest's
        # profile: such requests are refused here, as the client's fault, before they are sent.
        profiled = params.get(GRAPH_BACKEND) in ("tensorrt", "onnxruntime")
        self.runners = {name: TritonModelRunner(spec, models[name],
                                                profile_from_spec(spec) if profiled else None).activate()
                        for name, spec in manifest.graphs.items()}
        # The largest CLIP input the graphs were exported (and plans built) for: a request must
        # not make this instance resize an image to any size it likes.
        self.max_image = profile_from_spec(manifest.graphs[graphs.CLIP_IMAGE])["image"].max[2:]
        pixels = params.get(MAX_IMAGE_PIXELS, "")  # "": the runtime's default, "none": no limit
        self.segmenter = Segmenter(
            manifest, self.runners, backend=f"triton-{params.get(GRAPH_BACKEND, '')}",
            cache_dir=params.get(VOCABULARY_CACHE_DIR, MEMORY_ONLY),
            cache_rows=int(params.get(VOCABULARY_CACHE_ROWS) or DEFAULT_CACHE_ROWS),
            max_image_pixels=None if pixels == "none" else int(pixels) if pixels else "default")
        self.instance = f"{args['model_name']} instance {args.get('model_instance_name', '')}".strip()

    async def execute(self, requests: list[Any]) -> list[Any]:
        """Each request gets its own response or error. The stub awaits this coroutine before the
        next `execute` (max_batch_size 0: one request each), so an instance serves one request
        at a time and its Segmenter and cache are never shared by two; instances scale it."""
        return list(await asyncio.gather(*(self._respond(r) for r in requests)))

    async def _respond(self, request: Any) -> Any:
        try:
            tensors = await self._segment(request)
            return pb_utils.InferenceResponse([pb_utils.Tensor(n, v) for n, v in tensors.items()])
        except Exception as exc:  # a failure of this request, never of the server
            return error_response(exc, protocol.PIPELINE_MODEL)

    async def _segment(self, request: Any) -> dict[str, Any]:
        seg = self.segmenter
        timings: dict[str, float] = {}
        with _stage(timings, "preprocess"):  # everything the request says, checked before any graph runs
            decoded = protocol.decode_request(lambda name: _tensor(request, name))
            task, resize, vocabulary = decoded.task, decoded.resize, decoded.vocabulary
            image = seg.load_image(decoded.image)
            self._check_size(image.shape[:2], resize)
            prepared = seg.prepare(image, resize)
        with _stage(timings, "vocabulary"):
            state = seg.encode_vocabulary(vocabulary)  # the text model only on a cache miss
        with _stage(timings, "image_encoders"):
            clip, sam = self.runners[graphs.CLIP_IMAGE], self.runners[graphs.SAM_IMAGE]
            clip_out, sam_out = await asyncio.gather(clip.infer_async({"image": prepared.clip_input}),
                                                     sam.infer_async({"image": prepared.sam_input}))
        raw = seg.decode({**clip_out, **sam_out}, state, timings)  # times itself as "decoder"
        with _stage(timings, "postprocess"):
            result = seg.postprocess(raw, prepared, task, state.vocabulary)
        result.timings = timings
        return protocol.result_tensors(result, {"vocabulary_cache": seg.cache.stats.as_dict(),
                                                "served_by": self.instance, "pid": os.getpid()})

    def _check_size(self, size: tuple[int, int], resize: tuple[int, int] | None | str) -> None:
        """Refuse a resize that makes the image larger than the graphs' range (a UsageError, so
        the client hears INVALID_ARG), before any memory is spent on it."""
        height, width = encoder_input_shape(size, self.segmenter.preprocessing, resize)
        if height > self.max_image[0] or width > self.max_image[1]:
            raise UsageError(
                f"the image would be {height}x{width} after resizing and padding; this server's "
                f"graphs take at most {self.max_image[0]}x{self.max_image[1]}: send a smaller "
                f"'{protocol.RESIZE}', or leave it out for the manifest's")

    def finalize(self) -> None:
        self.segmenter.close()


def _tensor(request: Any, name: str) -> Any:
    """The request's input `name` as an array, None when the request lacks it."""
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()



@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
