"""What `bench` times: the PyTorch reference, the Python runtime and the C++ library, one interface.

Each contender takes decoded RGB arrays (decoding is the same for all and not what they differ in),
segments them with one vocabulary at a given test-time resize, and returns its stage times:
preprocess, clip_image, sam_image, decoder, postprocess (seconds), and the call's total.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime import graphs
from frozenseg_runtime.image.preprocess import PreparedImage, PreprocessConstants, preprocess
from frozenseg_runtime.manifest import Manifest
from frozenseg_runtime.output.postprocess import InferenceConstants, segmentation_result
from frozenseg_runtime.text.vocabulary import (
    Vocabulary,
    padded_synonym_index,
    parse_vocabulary,
    vocabulary_from_record,
)

Resize = tuple[int, int]
StageTimes = dict[str, float]
STAGES = ("preprocess", graphs.CLIP_IMAGE, graphs.SAM_IMAGE, graphs.DECODER, "postprocess")
PRETTY = {"onnxruntime-cpu": "ORT CPU", "onnxruntime-cuda": "ORT CUDA", "onnxruntime-trt": "ORT TensorRT",
          "tensorrt": "TensorRT", "openvino-cpu": "OpenVINO CPU", "cpu": "CPU", "cuda": "CUDA"}


def total_seconds(times: StageTimes) -> float:
    """A call's end to end: the sum of its stages."""
    return sum(times[s] for s in STAGES)


class Contender(ABC):
    """One way of running FrozenSeg. `load` is the cold start; `close` releases everything."""

    runtime: str  # "pytorch", "python", "cpp"
    backend: str  # a runtime backend, or the torch device
    precision: str
    variant: str = ""  # PyTorch only: "eager", "autocast", "compile"

    @property
    def key(self) -> str:
        return "/".join(part for part in (self.runtime, self.backend, self.precision, self.variant) if part)

    @property
    def label(self) -> str:
        runtime = {"pytorch": "PyTorch", "python": "Python", "cpp": "C++"}[self.runtime]
        variant = {"eager": " eager", "autocast": " autocast", "compile": " compile"}.get(self.variant, "")
        return f"{runtime}{variant} {PRETTY.get(self.backend, self.backend)} {self.precision.upper()}"

    @abstractmethod
    def load(self) -> None: ...

    @abstractmethod
    def set_vocabulary(self, source: str | os.PathLike) -> None:
        """Encode a vocabulary and make it current (through the contender's cache, if it has one)."""

    @property
    def has_vocabulary_cache(self) -> bool:
        return True

    @abstractmethod
    def segment(self, image: np.ndarray, resize: Resize, task: str) -> StageTimes: ...

    def settings(self) -> dict[str, Any]:
        """What else decides its speed (threads, encoder schedule)."""
        return {}

    @abstractmethod
    def close(self) -> None: ...


def _stage(times: StageTimes, name: str, work: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    value = work()
    times[name] = time.perf_counter() - start
    return value


class RuntimeContender(Contender):
    """The torch-free Python runtime (`Segmenter`) on one backend and precision."""

    runtime = "python"

    def __init__(self, artifacts: Path, backend: str, precision: str, threads: int | None = None,
                 encoder_schedule: str = "auto", memory_arena: bool = False) -> None:
        self.artifacts, self.backend, self.precision = artifacts, backend, precision
        self.threads, self.encoder_schedule, self.memory_arena = threads, encoder_schedule, memory_arena
        self._cache = tempfile.mkdtemp(prefix="frozenseg-bench-vocabulary-")
        self.segmenter: Any = None

    def load(self) -> None:
        from frozenseg_runtime.segmenter import Segmenter

        self.segmenter = Segmenter.from_artifacts(
            self.artifacts, backend=self.backend, precision=self.precision, cache_dir=self._cache,
            threads=self.threads, encoder_schedule=self.encoder_schedule, memory_arena=self.memory_arena)

    def set_vocabulary(self, source: str | os.PathLike) -> None:
        self.segmenter.set_vocabulary(Path(source))

    def text_batch_shapes(self, vocabulary: Vocabulary) -> list[tuple[int, int]]:
        """The (prompts, tokens) shapes of the text graph's calls on a vocabulary miss (each
        distinct synonym once, as the cache asks for them)."""
        names = list(dict.fromkeys(padded_synonym_index(vocabulary)[0]))
        return [batch.shape for batch in self.segmenter.text_batches(self.segmenter.prompt_tokens(names))]

    def segment(self, image: np.ndarray, resize: Resize, task: str) -> StageTimes:
        seg, times = self.segmenter, {}
        state = seg.vocabulary_state
        prepared = _stage(times, "preprocess", lambda: seg.prepare(image, resize))
        raw = seg.decode(seg.encode_image(prepared, times), state, times)
        _stage(times, "postprocess", lambda: seg.postprocess(raw, prepared, task, state.vocabulary))
        return times

    def settings(self) -> dict[str, Any]:
        plan = self.segmenter.encoder_plan if self.segmenter else None
        return {"threads": self.threads, "encoder_schedule": plan.schedule if plan else self.encoder_schedule,
                "image_threads": plan.image_threads if plan else None}

    def close(self) -> None:
        if self.segmenter is not None:
            self.segmenter.close()
            self.segmenter = None
        shutil.rmtree(self._cache, ignore_errors=True)


class CppContender(Contender):
    """The C++ library through its C API, on the same artifacts."""

    runtime = "cpp"

    def __init__(self, library: Path, artifacts: Path, backend: str, precision: str,
                 threads: int | None = None) -> None:
        self.library, self.artifacts = library, artifacts
        self.backend, self.precision, self.threads = backend, precision, threads
        self.segmenter: Any = None

    def load(self) -> None:
        from frozenseg_export.cpp_library import CppSegmenter

        self.segmenter = CppSegmenter(self.library, self.artifacts, self.backend, self.precision,
                                      self.threads or 0)

    def set_vocabulary(self, source: str | os.PathLike) -> None:
        self.segmenter.set_vocabulary(os.fspath(source))

    def segment(self, image: np.ndarray, resize: Resize, task: str) -> StageTimes:
        times = self.segmenter.segment(image, resize, task)
        return {name: times[name] for name in STAGES}

    def settings(self) -> dict[str, Any]:
        return {"threads": self.threads, "library": os.fspath(self.library),
                "version": self.segmenter.version if self.segmenter else None}

    def close(self) -> None:
        if self.segmenter is not None:
            self.segmenter.close()
            self.segmenter = None


class _OnDevice:
    """The reference's text encoder fed on its device (the reference tokenizes on the CPU)."""

    def __init__(self, encoder: Any, device: str) -> None:
        self.encoder, self.device = encoder, device

    def __call__(self, tokens: Any) -> Any:
        return self.encoder(tokens.to(self.device))


class ReferenceContender(Contender):
    """The PyTorch reference with the weights the artifacts were exported from: eager FP32 (the
    baseline), and on a GPU FP16 autocast and torch.compile. It shares the runtime's numpy pre-
    and post-processing, as the reference pipeline does."""

    runtime = "pytorch"

    def __init__(self, manifest: Manifest, device: str, variant: str = "eager",
                 checkpoint: str | None = None) -> None:
        self.manifest, self.backend, self.variant, self.checkpoint = manifest, device, variant, checkpoint
        self.precision = "fp16" if variant == "autocast" else "fp32"
        self.model: Any = None
        self._modules: dict[str, Any] = {}
        self._state: Any = None
        self._constants = InferenceConstants.from_record(manifest.constants["inference"])
        self._train = vocabulary_from_record(manifest.constants["train_vocabulary"])

    @property
    def has_vocabulary_cache(self) -> bool:
        return False

    def load(self) -> None:
        import torch

        from frozenseg_export.precision.floor import rebuild_reference

        self.model = rebuild_reference(self.manifest, self.checkpoint).to(self.backend)
        self._modules = {name: getattr(self.model, name) for name in graphs.GRAPHS}
        if self.variant == "compile":
            for name in (graphs.CLIP_IMAGE, graphs.SAM_IMAGE, graphs.DECODER):
                self._modules[name] = torch.compile(self._modules[name])

    def _sync(self) -> None:
        import torch

        if self.backend == "cuda":
            torch.cuda.synchronize()

    def _autocast(self):
        import torch

        if self.variant == "autocast":
            return torch.autocast("cuda", dtype=torch.float16)
        return torch.autocast(self.backend, enabled=False)

    def set_vocabulary(self, source: str | os.PathLike) -> None:
        import torch

        from frozenseg_reference.pipeline import encode_vocabulary

        vocabulary = parse_vocabulary(Path(source))
        with torch.no_grad(), self._autocast():
            tensors = encode_vocabulary(self.model, vocabulary, self._train,
                                        text_encoder=_OnDevice(self.model.clip_text, self.backend))
        device = torch.device(self.backend)
        self._state = (vocabulary, tensors.text_embeddings.float().to(device), tensors.synonym_mask.to(device),
                       tensors.seen.to(device))
        self._sync()

    def segment(self, image: np.ndarray, resize: Resize, task: str) -> StageTimes:
        import torch

        times: StageTimes = {}
        vocabulary, embeddings, mask, seen = self._state
        device = torch.device(self.backend)
        constants = PreprocessConstants.from_record(self.manifest.constants["preprocessing"])
        prepared: PreparedImage = _stage(times, "preprocess", lambda: preprocess(image, constants, resize))

        def run(name: str, *inputs: Any) -> Any:
            with torch.no_grad(), self._autocast():
                out = self._modules[name](*inputs)
            self._sync()
            return out

        features = _stage(times, graphs.CLIP_IMAGE,
                          lambda: run(graphs.CLIP_IMAGE, torch.from_numpy(prepared.clip_input).to(device)))
        embedding = _stage(times, graphs.SAM_IMAGE,
                           lambda: run(graphs.SAM_IMAGE, torch.from_numpy(prepared.sam_input).to(device)))

        def decode() -> dict[str, np.ndarray]:
            logits, masks, probs = run(graphs.DECODER, *features, embedding, embeddings, mask, seen)
            return {"pred_logits": logits[0].float().cpu().numpy(), "pred_masks": masks[0].float().cpu().numpy(),
                    "class_probs": probs[0].float().cpu().numpy()}

        raw = _stage(times, graphs.DECODER, decode)
        _stage(times, "postprocess", lambda: segmentation_result(raw, prepared, vocabulary, task, self._constants))
        return times

    def settings(self) -> dict[str, Any]:
        import torch

        return {"torch_threads": torch.get_num_threads(), "device": self.backend, "variant": self.variant}

    def close(self) -> None:
        self.model, self._modules, self._state = None, {}, None
        if self.backend == "cuda":
            import torch

            torch.cuda.empty_cache()
