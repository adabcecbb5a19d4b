"""The float32 noise floor under quantize's figures: the FP32 chain against float64 truth.

FP16, INT8 and mixed are measured against the FP32 graphs; but the FP32 graphs themselves are
only as close to the exact answer as float32 allows. Here the PyTorch reference is rebuilt from
the manifest's weights, run in float64 on the same held-out images and vocabulary, and the FP32
chain is measured against it with the same figures. Bars are then relaxed by that floor (a
lowered chain cannot be asked to agree with FP32 better than FP32 agrees with the truth), and
each precision is also reported against float64 directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from frozenseg_export.errors import ReferenceWeightsError
from frozenseg_export.noise_floor import FLOOR_MULTIPLE, release_memory
from frozenseg_export.precision.accuracy import ChainResult, chain_result
from frozenseg_export.reference_chain import encode_vocabularies, run_chain
from frozenseg_reference.build import build_frozenseg
from frozenseg_runtime.image.loading import load_image
from frozenseg_runtime.image.preprocess import PreprocessConstants, preprocess
from frozenseg_runtime.manifest import Manifest, sha256_file
from frozenseg_runtime.output.postprocess import InferenceConstants, segmentation_result
from frozenseg_runtime.text.vocabulary import Vocabulary, vocabulary_from_record


def check_reference_weights(manifest: Manifest, checkpoint: str | None) -> None:
    """Fail before any long work when the reference cannot be rebuilt with the exported weights."""
    weights = manifest.raw["weights"]
    if weights["source"] != "checkpoint":
        return
    if checkpoint is None:
        raise ReferenceWeightsError(
            f"these artifacts were exported from checkpoint {weights['file']}; the float32 noise "
            f"floor needs it again: pass --checkpoint PATH")
    if not Path(checkpoint).is_file():
        raise ReferenceWeightsError(f"--checkpoint {checkpoint} does not exist")
    digest = sha256_file(checkpoint)
    if digest != weights["sha256"]:
        raise ReferenceWeightsError(
            f"--checkpoint {checkpoint} is not the exported checkpoint {weights['file']} "
            f"(sha256 {digest[:12]}... vs {weights['sha256'][:12]}...)")


def rebuild_reference(manifest: Manifest, checkpoint: str | None):
    """The PyTorch reference with the weights the artifacts were exported from; the checkpoint
    has been checked by `check_reference_weights` before the long work began (hashing a
    full-size checkpoint twice costs seconds for nothing)."""
    weights = manifest.raw["weights"]
    preset = manifest.raw["preset"]["name"]
    if weights["source"] == "synthetic":
        return build_frozenseg(preset, None, seed=weights["seed"],
                               synthetic=weights.get("mode", "default"))
    return build_frozenseg(preset, checkpoint)


def float64_results(manifest: Manifest, checkpoint: str | None, images: Sequence[Any],
                    vocabulary: Vocabulary, say) -> list[ChainResult]:
    """The float64 reference's answers on `images`, prepared as the runtime prepares them."""
    model = rebuild_reference(manifest, checkpoint)
    c = manifest.constants
    constants = PreprocessConstants.from_record(c["preprocessing"])
    prepared = [preprocess(load_image(image), constants) for image in images]
    tensors = encode_vocabularies(model, {"measurement": vocabulary}, True,
                                  vocabulary_from_record(c["train_vocabulary"]))
    raws = run_chain(model, prepared, tensors, True, say)["measurement"]
    del model
    release_memory()
    constants = InferenceConstants.from_record(c["inference"])
    return [chain_result(raw, segmentation_result(raw, image, vocabulary, "semantic", constants))
            for raw, image in zip(raws, prepared)]


def effective_bars(bars: dict[str, float], floor: dict[str, float]) -> dict[str, float]:
    """A precision's bars against FP32, relaxed by FLOOR_MULTIPLE times FP32's own distance from
    float64: where float32 is unsure of a pixel, FP32 is no truth to agree with."""
    return {name: max(0.0, bar - FLOOR_MULTIPLE * (1.0 - floor[name])) for name, bar in bars.items()}
