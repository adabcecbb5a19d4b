"""`Segmenter`: the embedded inference API over exported artifacts, without torch.

    seg = Segmenter.from_artifacts("artifacts/", backend="auto")    # opens the runners
    seg.set_vocabulary("cat,dog,grass")
    result = seg.segment("photo.jpg", task="panoptic")

`segment` is five public stages, and tools that need one of them (the export's verification, the
calibration feeds, the accuracy figures, benchmarks) call the stage rather than the runners:

    state = seg.encode_vocabulary(source)        # text graph, cached by content
    prepared = seg.prepare(image)                 # numpy pre-processing
    features = seg.encode_image(prepared)         # CLIP and SAM encoders (schedule.py)
    raw = seg.decode(features, state)             # decoder
    result = seg.postprocess(raw, prepared, "semantic", state.vocabulary)

One Segmenter may be shared by many threads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime import graphs
from frozenseg_runtime.backends.base import Runner
from frozenseg_runtime.backends.factory import open_runners
from frozenseg_runtime.errors import ManifestError, UsageError, VocabularyError
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.image.preprocess import PreparedImage, PreprocessConstants, preprocess
from frozenseg_runtime.manifest import Manifest, load_manifest, verify_artifacts
from frozenseg_runtime.output.postprocess import (
    TASKS,
    InferenceConstants,
    SegmentationResult,
    segmentation_result,
)
from frozenseg_runtime.schedule import EncoderPlan, plan_encoders
from frozenseg_runtime.text.cache import CacheStats, VocabularyCache, cache_folder, encoder_key
from frozenseg_runtime.text.embedding import VocabularyState, average_templates, padded_embeddings
from frozenseg_runtime.text.tokenizer import drop_padding, tokenizer_for
from frozenseg_runtime.text.vocabulary import (
    Vocabulary,
    padded_synonym_index,
    parse_vocabulary,
    seen_flags,
    vocabulary_from_record,
)

__all__ = ["Segmenter", "SegmentationResult", "VocabularyState", "TASKS", "decoder_feed"]

PROMPTS_PER_TEXT_CALL = 256  # capped by the text graph's declared batch range

Timings = dict[str, float]


class Segmenter:
    """FrozenSeg on exported graphs."""

    def __init__(self, manifest: Manifest, runners: Mapping[str, Runner], backend: str,
                 encoder_plan: EncoderPlan | None = None,
                 cache_dir: str | os.PathLike | None = None,
                 max_image_pixels: int | None | str = "default", cache_rows: int | None = None,
                 owns_runners: bool = False) -> None:
        """Run the graphs of `manifest` on `runners`, active runners of every graph opened
        elsewhere: by `open` (backends.factory.open_runners), or a Triton server's models
        (runtime/triton/bls.py). `backend` names them; `encoder_plan` (default: `auto`'s for that
        backend) says how the image encoders share the machine; `close` deactivates the runners
        only if `owns_runners`.

        `cache_dir`: the vocabulary cache's folder (None: the default one; MEMORY_ONLY: none);
        `cache_rows`: the most synonym embeddings kept in memory (None: all; a long-running
        server bounds it); `max_image_pixels` caps the images `prepare` decodes (None: no cap;
        see load_image)."""
        self.manifest = manifest
        self.backend = backend
        self.encoder_plan = encoder_plan or plan_encoders("auto", backend)
        self.max_image_pixels = max_image_pixels  # its one owner: `load_image` below
        c = manifest.constants
        self.preprocessing = PreprocessConstants.from_record(c["preprocessing"])
        self.inference = InferenceConstants.from_record(c["inference"])
        self._templates: tuple[str, ...] = tuple(c["text"]["templates"])
        self._tokenizer = tokenizer_for(c["text"])
        try:
            self.train_vocabulary = vocabulary_from_record(c["train_vocabulary"])
        except VocabularyError as exc:  # the artifacts' fault, not the user's input
            raise ManifestError(f"manifest.json's train_vocabulary: {exc}") from exc
        self.cache = VocabularyCache(encoder_key(
            manifest.graphs[graphs.CLIP_TEXT].sha256, self._templates,
            c["text"]["bpe_sha256"], c["text"]["context_length"]), cache_folder(cache_dir),
            max_rows=cache_rows)
        self.prompts_per_call = min(PROMPTS_PER_TEXT_CALL,
                                    manifest.graphs[graphs.CLIP_TEXT].dims["batch"]["max"])
        self._owns_runners = owns_runners
        self._runners = dict(runners)
        self._pool = ThreadPoolExecutor(
            max_workers=len(graphs.graphs_of_stage(graphs.STAGE_IMAGE)),
            thread_name_prefix="frozenseg-encoder")
        self._vocab: VocabularyState | None = None

    @classmethod
    def open(cls, manifest: Manifest, backend: str = "auto",
             cache_dir: str | os.PathLike | None = None, threads: int | None = None,
             memory_arena: bool = False, cuda_graph: bool = False,
             max_image_pixels: int | None | str = "default", encoder_schedule: str = "auto",
             cache_rows: int | None = None) -> "Segmenter":
        """Open the runners of `manifest`'s graphs (backends.factory.open_runners: backend,
        threads, memory arena, CUDA graphs, encoder schedule; `cache_dir` also holds what a
        backend compiles, OpenVINO's blobs) and run them; `close` closes them."""
        opened = open_runners(manifest, backend, threads, memory_arena, cuda_graph,
                              encoder_schedule, cache_dir)
        try:
            return cls(manifest, opened.runners, opened.backend, opened.encoder_plan, cache_dir,
                       max_image_pixels, cache_rows, owns_runners=True)
        except BaseException:  # a manifest the Segmenter refuses leaves no runner open
            opened.close()
            raise

    @classmethod
    def from_artifacts(cls, folder: str | os.PathLike, backend: str = "auto",
                       cache_dir: str | os.PathLike | None = None,
                       threads: int | None = None, verify: bool = True,
                       precision: str = "fp32", memory_arena: bool = False,
                       cuda_graph: bool = False,
                       max_image_pixels: int | None | str = "default",
                       encoder_schedule: str = "auto") -> "Segmenter":
        """Load `folder/manifest.json`, pick the graphs of `precision` (fp32, or fp16/int8/mixed
        written by `frozenseg-deploy quantize`, or bf16: the FP32 graphs with the image encoders
        computed in bfloat16 on openvino-cpu), check their sha256, then `open` them.

        `memory_arena=True` keeps ONNX Runtime's CPU arena (off by default: onnxruntime_runner says why);
        `cuda_graph=True` replays TensorRT engines as CUDA graphs (backend "tensorrt" only);
        `max_image_pixels` caps the images `prepare` decodes (None: no cap; see load_image);
        `encoder_schedule` runs the image encoders at once or one after the other (schedule.py)."""
        manifest = load_manifest(folder).with_precision(precision)
        if verify:
            verify_artifacts(manifest)
        return cls.open(manifest, backend, cache_dir, threads, memory_arena, cuda_graph,
                        max_image_pixels, encoder_schedule)

    # -- stage 1: the vocabulary ------------------------------------------------------------------
    def encode_vocabulary(self, source: Any, train_vocabulary: Any = None) -> VocabularyState:
        """Classes (file, JSON text or list, dict, 'cat,dog' string or list; see
        parse_vocabulary) encoded for
        the decoder; synonyms already encoded (in memory or on disk) are not encoded again."""
        vocab = source if isinstance(source, Vocabulary) else parse_vocabulary(source)
        self._check_vocabulary_size(vocab)
        train = self.train_vocabulary if train_vocabulary is None else parse_vocabulary(train_vocabulary)
        flat, index, mask = padded_synonym_index(vocab)
        rows = self.cache.rows(flat, self._encode_synonyms)
        return VocabularyState(
            vocabulary=vocab,
            text_embeddings=padded_embeddings(rows, index),
            synonym_mask=np.ascontiguousarray(mask, dtype=bool),
            seen=np.asarray(seen_flags(vocab, train), dtype=bool),
        )

    def set_vocabulary(self, source: Any, train_vocabulary: Any = None) -> CacheStats:
        """Encode a vocabulary and make it the current one for `segment`.

        A bad vocabulary (malformed, empty, duplicate, a name too long for CLIP's context, more
        classes than the engines take) raises before the current one is replaced."""
        self._vocab = self.encode_vocabulary(source, train_vocabulary)
        return self.cache.stats

    def prompt_tokens(self, names: Sequence[str]) -> np.ndarray:
        """Token ids of every template prompt of each name, in order (what the text graph sees,
        before `drop_padding`)."""
        return self._tokenizer([t.format(n) for n in names for t in self._templates])

    def text_batches(self, tokens: np.ndarray, batch: int | None = None) -> list[np.ndarray]:
        """Token rows cut into the text graph's calls, common padding dropped per call."""
        step = batch or self.prompts_per_call
        return [drop_padding(tokens[i : i + step]) for i in range(0, len(tokens), step)]

    def _encode_synonyms(self, synonyms: list[str]) -> np.ndarray:
        runner = self._runners[graphs.CLIP_TEXT]
        feats = np.concatenate([runner.infer({"tokens": batch})["text_features"]
                                for batch in self.text_batches(self.prompt_tokens(synonyms))])
        return average_templates(feats, len(self._templates))

    def _check_vocabulary_size(self, vocab: Vocabulary) -> None:
        """An engine built for at most N classes (or synonyms) refuses more mid-`segment`:
        refuse them here."""
        largest = self._runners[graphs.DECODER].max_shape("text_embeddings")
        if largest is None:
            return
        for what, count, limit in (("classes", vocab.num_classes, largest[0]),
                                   ("synonyms in one class", vocab.max_synonyms, largest[1])):
            if count > limit:
                raise VocabularyError(
                    f"the vocabulary has {count} {what}, but the {self.backend} decoder engine "
                    f"was built for at most {limit}: use fewer, or raise the range at build time "
                    f"(re-export with a larger range in the manifest, then `frozenseg-deploy "
                    f"build` again)")

    @property
    def max_classes(self) -> int | None:
        """The most classes a vocabulary may have here: a TensorRT engine's built range, or None
        where any count runs (ONNX Runtime)."""
        largest = self._runners[graphs.DECODER].max_shape("text_embeddings")
        return None if largest is None else largest[0]

    @property
    def vocabulary_state(self) -> VocabularyState | None:
        """The encoded current vocabulary (None before `set_vocabulary`)."""
        return self._vocab

    @property
    def vocabulary(self) -> Vocabulary | None:
        return None if self._vocab is None else self._vocab.vocabulary

    # -- stage 2: the image ---------------------------------------------------------------------
    def load_image(self, image: Any) -> np.ndarray:
        """Any supported image (path, encoded bytes or file object, PIL image, HxWx3 uint8 array)
        as an RGB uint8 array, files above `max_image_pixels` refused before decoding: load once
        with this, then pass the array to `segment` (and to `save_result` for the overlay)."""
        return load_image(image, max_pixels=self.max_image_pixels)

    def prepare(self, image: Any, resize: tuple[int, int] | None | str = "default") -> PreparedImage:
        """Any supported image (as `load_image` takes; an array is only checked) -> both
        encoders' inputs, resized by the manifest's rule unless `resize` says otherwise."""
        return preprocess(self.load_image(image), self.preprocessing, resize)

    # -- stage 3: the image encoders --------------------------------------------------------------
    def encode_image(self, prepared: PreparedImage,
                     timings: Timings | None = None) -> dict[str, np.ndarray]:
        """Both image encoders: CLIP's res2..res5 and SAM's embedding (batch kept), at once or one
        after the other as `encoder_plan` says (schedule.py).

        The result does not depend on the vocabulary: decode it with as many as needed."""
        timings = {} if timings is None else timings
        feeds = {graphs.CLIP_IMAGE: prepared.clip_input, graphs.SAM_IMAGE: prepared.sam_input}
        if self.encoder_plan.schedule == "sequential":
            merged: dict[str, np.ndarray] = {}
            for name in graphs.graphs_of_stage(graphs.STAGE_IMAGE):
                out, timings[name] = _timed(self._runners[name], {"image": feeds[name]})
                merged.update(out)
            return merged
        *others, last = graphs.graphs_of_stage(graphs.STAGE_IMAGE)
        pending = {name: self._pool.submit(_timed, self._runners[name], {"image": feeds[name]})
                   for name in others}
        # The calling thread runs the last encoder itself, the pool the others: one caller
        # overlaps both encoders, and many callers share a pool as wide as the stage.
        features, timings[last] = _timed(self._runners[last], {"image": feeds[last]})
        for name, job in pending.items():
            out, timings[name] = job.result()
            features.update(out)
        return features

    # -- stage 4: the decoder ---------------------------------------------------------------------
    def decode(self, features: Mapping[str, np.ndarray], state: VocabularyState,
               timings: Timings | None = None) -> dict[str, np.ndarray]:
        """The decoder on encoded image features and an encoded vocabulary; batch dropped."""
        timings = {} if timings is None else timings
        out, timings[graphs.DECODER] = _timed(self._runners[graphs.DECODER],
                                              decoder_feed(features, state))
        return {k: v[0] for k, v in out.items()}

    # -- stage 5: post-processing -----------------------------------------------------------------
    def postprocess(self, raw: Mapping[str, np.ndarray], prepared: PreparedImage, task: str,
                    vocabulary: Vocabulary | None = None) -> SegmentationResult:
        """The official post-processing of one task with the manifest's constants."""
        vocab = vocabulary or self.vocabulary
        if vocab is None:
            raise RuntimeError("pass the vocabulary, or call set_vocabulary(...) first")
        return segmentation_result(raw, prepared, vocab, task, self.inference)

    # -- all stages -----------------------------------------------------------------------------
    def segment(self, image: Any, task: str = "semantic",
                resize: tuple[int, int] | None | str = "default") -> SegmentationResult:
        """Segment one image (path, encoded bytes, HxWx3 uint8 array or PIL image) with the
        current vocabulary."""
        if task not in TASKS:
            raise UsageError(f"task must be one of {TASKS}, got {task!r}")
        state = self._vocab
        if state is None:
            raise RuntimeError("call set_vocabulary(...) before segment(...)")
        timings: Timings = {}
        prepared = _stage(timings, "preprocess", lambda: self.prepare(image, resize))
        raw = _stage(timings, "graphs",
                     lambda: self.decode(self.encode_image(prepared, timings), state, timings))
        result = _stage(timings, "postprocess",
                        lambda: self.postprocess(raw, prepared, task, state.vocabulary))
        result.timings = timings
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._owns_runners:
            for runner in self._runners.values():
                runner.deactivate()

    def __enter__(self) -> "Segmenter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def decoder_feed(features: Mapping[str, np.ndarray], state: VocabularyState) -> dict[str, np.ndarray]:
    """The decoder's inputs: both encoders' outputs and the encoded vocabulary."""
    vocabulary = {"text_embeddings": state.text_embeddings, "synonym_mask": state.synonym_mask,
                  "seen": state.seen}
    return {name: vocabulary[name] if name in vocabulary else features[name]
            for name in graphs.INPUTS[graphs.DECODER]}


def _timed(runner: Runner, feed: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
    start = time.perf_counter()
    out = runner.infer(feed)
    return out, time.perf_counter() - start


def _stage(timings: Timings, name: str, work: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    value = work()
    timings[name] = time.perf_counter() - start
    return value
