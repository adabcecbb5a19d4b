"""The deployed pipeline, as users run it: the Python runtime or the C++ library.

Both give every task's answer. Tensors come from the Python runtime's stages (`encode_image`,
`decode`, the encoded vocabulary); the C API returns answers only, so for `--runtime cpp` the
tensor level is measured with the Python runtime on the same graphs, backend and precision (the
same ONNX Runtime or TensorRT sessions give the same tensors; the C++ stages' parity with Python is
what runtime/cpp/tests pin down), and only the answers come from the C++ library itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from frozenseg_export.cpp_library import CppLibraryError, CppSegmenter, find_library, library_backends
from frozenseg_export.reference_chain import TEXT_EMBEDDINGS
from frozenseg_runtime import graphs
from frozenseg_runtime.backends.factory import resolve_for
from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.image.preprocess import PreparedImage
from frozenseg_runtime.manifest import PRECISIONS, Manifest
from frozenseg_runtime.segmenter import SegmentationResult, Segmenter, VocabularyState, decoder_feed
from frozenseg_runtime.text.cache import MEMORY_ONLY
from frozenseg_runtime.text.vocabulary import Vocabulary


@dataclass
class DeployedImage:
    tensors: dict[str, np.ndarray]  # `graph/output`, batch dropped
    results: dict[str, SegmentationResult]  # task -> answer, from either runtime


def vocabulary_json(vocabulary: Vocabulary) -> str:
    """The vocabulary as JSON text, the form both runtimes parse identically."""
    return json.dumps([{"names": list(n), "isthing": t} for n, t in zip(vocabulary.names, vocabulary.isthing)])


def cpp_backend(backend: str, precision: str, library: Path, manifest: Manifest) -> str:
    """The backend both runtimes run for `--runtime cpp`: one the C++ library has, as it says
    (`auto` resolved among those by the manifest's rule, as the library resolves it, so the Python
    side's tensors come from the same backend); bf16, a
    precision of the Python runtime's OpenVINO backend, is refused before anything loads."""
    if precision not in PRECISIONS:
        raise UsageError(f"precision {precision} runs in the Python runtime only (openvino-cpu): "
                         f"check it with --runtime python, or the C++ library at {', '.join(PRECISIONS)}")
    names = library_backends(library)
    if backend not in names:
        raise UsageError(f"the C++ library has no backend {backend!r} (it has {', '.join(names)}): "
                         f"check it with --runtime python")
    return resolve_for(manifest.with_precision(precision), backend, among=names)


class DeployedPipeline:
    """One deployed pipeline over an artifacts folder at one backend and precision."""

    def __init__(self, manifest: Manifest, artifacts: Path, backend: str, precision: str, runtime: str,
                 cpp_library: str | None = None) -> None:
        self.runtime = runtime
        library = find_library(cpp_library) if runtime == "cpp" else None
        if library is not None:
            backend = cpp_backend(backend, precision, library, manifest)
        self.manifest = manifest.with_precision(precision)  # the graphs as deployed
        self.segmenter = Segmenter.open(self.manifest, backend=backend, cache_dir=MEMORY_ONLY,
                                   memory_arena=False)
        self.backend = self.segmenter.backend
        self.cpp: CppSegmenter | None = None
        if library is not None:
            try:
                self.cpp = CppSegmenter(library, artifacts, self.backend, precision)
            except CppLibraryError as exc:  # keeps the status, and with it the exit code of its kind
                raise CppLibraryError(exc.status, exc.message,
                                      f"the C++ library {library} refused the artifacts: ") from exc
        self.state: VocabularyState | None = None

    def set_vocabulary(self, vocabulary: Vocabulary) -> None:
        self.state = self.segmenter.encode_vocabulary(vocabulary)
        if self.cpp is not None:
            self.cpp.set_vocabulary(vocabulary_json(vocabulary))

    def run(self, pixels: np.ndarray, prepared: PreparedImage, tasks: tuple[str, ...],
            resize: tuple[int, int]) -> DeployedImage:
        assert self.state is not None, "set_vocabulary first"
        features = self.segmenter.encode_image(prepared)
        raw = self.segmenter.decode(features, self.state)
        tensors = {f"{g}/{n}": features[n][0] for g in graphs.graphs_of_stage(graphs.STAGE_IMAGE)
                   for n in graphs.OUTPUTS[g]}
        tensors.update({f"{graphs.DECODER}/{n}": raw[n] for n in graphs.OUTPUTS[graphs.DECODER]})
        tensors[TEXT_EMBEDDINGS] = self.state.text_embeddings
        if self.cpp is None:
            results = {t: self.segmenter.postprocess(raw, prepared, t, self.state.vocabulary) for t in tasks}
        else:
            results = {t: self.cpp.segment_result(pixels, resize, t) for t in tasks}
        return DeployedImage(tensors, results)

    def _reference_inputs(self, reference: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], VocabularyState]:
        """Decoder inputs from a `graph/output` tensor table (the float32 reference's, or the
        deployed pipeline's own): its encoders' outputs and text embeddings, with the deployed
        vocabulary's mask and seen flags."""
        assert self.state is not None, "set_vocabulary first"
        features = {n: reference[f"{g}/{n}"][None] for g in graphs.graphs_of_stage(graphs.STAGE_IMAGE)
                    for n in graphs.OUTPUTS[g]}
        return features, replace(self.state, text_embeddings=np.ascontiguousarray(reference[TEXT_EMBEDDINGS], np.float32))

    def decoder_feed_from(self, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return decoder_feed(*self._reference_inputs(tensors))

    def decode_reference_inputs(self, reference: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The deployed decoder on the float32 reference's decoder inputs: the decoder judged on
        its own, apart from upstream rounding."""
        raw = self.segmenter.decode(*self._reference_inputs(reference))
        return {f"{graphs.DECODER}/{n}": raw[n] for n in graphs.OUTPUTS[graphs.DECODER]}

    def close(self) -> None:
        self.segmenter.close()
        if self.cpp is not None:
            self.cpp.close()
