"""The graph registry: every fact about the four exported graphs, declared once.

The exporter names the ONNX tensors with it, the runtime feeds and schedules the graphs with it,
the TensorRT runner decides which graphs share activation memory with it, `quantize` reads the
default precision of `mixed` from it and the export verification reads its bars and feed sizes
from it. It is torch-free on purpose: the runtime imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CLIP_IMAGE = "clip_image"
SAM_IMAGE = "sam_image"
CLIP_TEXT = "clip_text"
DECODER = "decoder"

CLIP_FEATURES: tuple[str, ...] = ("res2", "res3", "res4", "res5")

# When each graph runs in a Segmenter: the text encoder on `set_vocabulary`, both image encoders
# together (two threads) for each image, then the decoder.
STAGE_VOCABULARY = "vocabulary"
STAGE_IMAGE = "image"
STAGE_DECODE = "decode"


@dataclass(frozen=True)
class ParityBar:
    """How close an exported graph must be to the float64 reference: within `floor_multiple`
    times PyTorch float32's own error, plus `relative_allowance` of the output's range."""

    floor_multiple: float = 4.0
    relative_allowance: float = 1e-6

    def bar(self, floor: float) -> float:
        return self.floor_multiple * floor + self.relative_allowance


@dataclass(frozen=True)
class VerificationFeeds:
    """The sizes of the random feeds the export verification runs a graph on: dynamic sizes
    differ between feeds so that a graph baked to one size is caught."""

    image_sizes: tuple[tuple[int, int], ...] = ()  # (height, width) of the CLIP image
    vocabulary_sizes: tuple[tuple[int, int], ...] = ()  # (classes, synonyms), one per image size
    prompt_words: tuple[str, ...] = ()  # class names whose template prompts are tokenised


@dataclass(frozen=True)
class GraphInfo:
    """One exported graph."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    stage: str  # STAGE_*: graphs of one stage run concurrently, stages run one after another
    shares_activations: bool  # may share one activation buffer with the other sharing graphs
    mixed_precision: str  # its precision in `quantize`'s `mixed` unless the user says otherwise
    bf16: bool = False  # computed in bfloat16 under the runtime precision bf16 (BF16_GRAPHS says why)
    parity: ParityBar = field(default_factory=ParityBar)
    verification: VerificationFeeds = field(default_factory=VerificationFeeds)


_IMAGE_SIZES = ((320, 352), (352, 320))  # the axes differ, at near the smallest cost

REGISTRY: dict[str, GraphInfo] = {
    info.name: info
    for info in (
        # INT8 where it was measured to hold (the SAM ViT, ~70% of the image FLOPs), FP16
        # elsewhere: on the tiny preset INT8 SAM alone keeps 99.8% of labels, INT8 CLIP 93%,
        # INT8 text 84%.
        GraphInfo(CLIP_IMAGE, ("image",), CLIP_FEATURES, STAGE_IMAGE, shares_activations=False,
                  mixed_precision="fp16", bf16=True,
                  verification=VerificationFeeds(image_sizes=_IMAGE_SIZES)),
        GraphInfo(SAM_IMAGE, ("image",), ("sam_embedding",), STAGE_IMAGE,
                  shares_activations=False, mixed_precision="int8", bf16=True),
        GraphInfo(CLIP_TEXT, ("tokens",), ("text_features",), STAGE_VOCABULARY,
                  shares_activations=True, mixed_precision="fp16",
                  verification=VerificationFeeds(prompt_words=("cat", "traffic light", "crème brûlée"))),
        GraphInfo(DECODER, CLIP_FEATURES + ("sam_embedding", "text_embeddings", "synonym_mask", "seen"),
                  ("pred_logits", "pred_masks", "class_probs"), STAGE_DECODE,
                  shares_activations=True, mixed_precision="fp16",
                  verification=VerificationFeeds(image_sizes=_IMAGE_SIZES,
                                                 vocabulary_sizes=((8, 2), (150, 3)))),
    )
}

GRAPHS: tuple[str, ...] = tuple(REGISTRY)
INPUTS: dict[str, tuple[str, ...]] = {name: info.inputs for name, info in REGISTRY.items()}
OUTPUTS: dict[str, tuple[str, ...]] = {name: info.outputs for name, info in REGISTRY.items()}


# The graphs the runtime precision bf16 computes in bfloat16: the image encoders, most of the
# FLOPs. The decoder stays f32 (issue 25 measured its outputs in BF16 at 0.39 max relative error
# from FP32: thresholded masks and attention turn rounding into other answers), and so does the text
# encoder: it runs once per vocabulary, and its rows are cached under the FP32 graph's sha256,
# so BF16 rows would be served to FP32 runs.
BF16_GRAPHS: tuple[str, ...] = tuple(name for name, info in REGISTRY.items() if info.bf16)


def graphs_of_stage(stage: str) -> tuple[str, ...]:
    return tuple(name for name, info in REGISTRY.items() if info.stage == stage)


def activation_sharing_graphs() -> frozenset[str]:
    """Graphs that never run at the same time as each other (one arena can serve them)."""
    return frozenset(name for name, info in REGISTRY.items() if info.shares_activations)


def mixed_default() -> dict[str, str]:
    """Precision per graph of `quantize`'s `mixed` variant when the user gives none."""
    return {name: info.mixed_precision for name, info in REGISTRY.items()}


def registry_record() -> list[dict[str, Any]]:
    """What the C++ library reads of the registry, for the manifest's `runtime.graphs` (in the
    registry's order): names, tensor names, stage, activation sharing."""
    return [{"name": info.name, "inputs": list(info.inputs), "outputs": list(info.outputs),
             "stage": info.stage, "shares_activations": info.shares_activations}
            for info in REGISTRY.values()]
