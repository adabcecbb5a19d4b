"""What each exported graph is: its module, example inputs, dynamic dims and declared ranges.

Ranges are what the manifest declares (and TensorRT profiles are built from); the torch.export
dims are wider where that costs nothing, so the graphs themselves carry no needless limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.presets import CONTEXT_LENGTH
from frozenseg_runtime import graphs

# Declared ranges (min, opt, max). Image sides are multiples of 32 in 320..1344: the official
# 800/1333 resize pads to at most 1344; opt is a 4:3 image at 800 (800 x 1067 -> 800 x 1088).
IMAGE_MIN, IMAGE_MAX, PAD = 320, 1344, 32
IMAGE_OPT = (800, 1088)
CLASSES_RANGE = (1, 150, 2048)
SYNONYMS_RANGE = (1, 16, 128)  # PASCAL VOC's official list has a class with 74 synonyms
PROMPT_BATCH_RANGE = (1, 224, 1024)
TOKEN_SEQUENCE_RANGE = (2, 16, CONTEXT_LENGTH)  # the context, or shorter when padding is dropped


@dataclass(frozen=True)
class ExportUnit:
    """One export unit."""

    name: str
    module: Callable[[FrozenSegModel], torch.nn.Module]
    example: Callable[[FrozenSegModel], tuple[torch.Tensor, ...]]
    dynamic_shapes: Callable[[], dict[str, Any] | None]
    shapes: Callable[[FrozenSegModel], dict[str, list[int | str]]]  # manifest shapes by tensor
    dims: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def inputs(self) -> tuple[str, ...]:
        return graphs.INPUTS[self.name]

    @property
    def outputs(self) -> tuple[str, ...]:
        return graphs.OUTPUTS[self.name]


def _image_example(model: FrozenSegModel) -> tuple[torch.Tensor, ...]:
    return (torch.randn(1, 3, 320, 352, generator=torch.Generator().manual_seed(0)),)


def _sam_example(model: FrozenSegModel) -> tuple[torch.Tensor, ...]:
    size = model.preset.preprocessing.sam_size
    return (torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1)),)


def _text_example(model: FrozenSegModel) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(2)
    tokens = torch.zeros(3, model.preset.context_length, dtype=torch.int64)
    tokens[:, 0] = 49406
    tokens[:, 1:6] = torch.randint(300, 40000, (3, 5), generator=g)
    tokens[:, 6] = 49407
    return (tokens,)


@torch.no_grad()
def _decoder_example(model: FrozenSegModel) -> tuple[torch.Tensor, ...]:
    (image,) = _image_example(model)
    (sam_in,) = _sam_example(model)
    feats = model.clip_image(image)
    sam = model.sam_image(sam_in)
    g = torch.Generator().manual_seed(3)
    emb = torch.nn.functional.normalize(torch.randn(4, 3, model.preset.embed_dim, generator=g), dim=-1)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 0, 0]], dtype=torch.bool)
    seen = torch.tensor([1, 0, 1, 0], dtype=torch.bool)
    return (*feats, sam, emb, mask, seen)


def _image_dims() -> dict[str, Any]:
    h = torch.export.Dim("h32", min=2, max=IMAGE_MAX // PAD)
    w = torch.export.Dim("w32", min=2, max=IMAGE_MAX // PAD)
    return {"image": {2: PAD * h, 3: PAD * w}}


def _text_dims() -> dict[str, Any]:
    return {"tokens": {0: torch.export.Dim("batch", min=1, max=PROMPT_BATCH_RANGE[2]),
                       1: torch.export.Dim("sequence", min=2, max=CONTEXT_LENGTH)}}


def _decoder_dims() -> dict[str, Any]:
    h = torch.export.Dim("h32", min=2, max=IMAGE_MAX // PAD)
    w = torch.export.Dim("w32", min=2, max=IMAGE_MAX // PAD)
    k = torch.export.Dim("classes", min=1, max=CLASSES_RANGE[2])
    s = torch.export.Dim("synonyms", min=1, max=SYNONYMS_RANGE[2])
    return {
        "res2": {2: 8 * h, 3: 8 * w},
        "res3": {2: 4 * h, 3: 4 * w},
        "res4": {2: 2 * h, 3: 2 * w},
        "res5": {2: h, 3: w},
        "sam_embedding": None,
        "text_embeddings": {0: k, 1: s},
        "synonym_mask": {0: k, 1: s},
        "seen": {0: k},
    }


def _side(stride: int, axis: int) -> dict[str, int]:
    return {"min": IMAGE_MIN // stride, "opt": IMAGE_OPT[axis] // stride,
            "max": IMAGE_MAX // stride, "multiple": PAD // stride}


def _range(values: tuple[int, int, int]) -> dict[str, int]:
    return dict(zip(("min", "opt", "max"), values))


def _image_shapes(model):
    c = model.preset.clip_channels
    return {
        "image": [1, 3, "height", "width"],
        **{name: [1, ch, f"h{s}", f"w{s}"] for name, ch, s in zip(graphs.CLIP_FEATURES, c, (4, 8, 16, 32))},
    }


def _sam_shapes(model):
    size, sam = model.preset.preprocessing.sam_size, model.preset.sam
    grid = size // sam.patch_size
    return {"image": [1, 3, size, size], "sam_embedding": [1, sam.out_chans, grid, grid]}


def _text_shapes(model):
    return {"tokens": ["batch", "sequence"], "text_features": ["batch", model.preset.embed_dim]}


def _decoder_shapes(model):
    p = model.preset
    grid = p.preprocessing.sam_size // p.sam.patch_size
    return {
        **{k: v for k, v in _image_shapes(model).items() if k != "image"},
        "sam_embedding": [1, p.sam.out_chans, grid, grid],
        "text_embeddings": ["classes", "synonyms", p.embed_dim],
        "synonym_mask": ["classes", "synonyms"],
        "seen": ["classes"],
        "pred_logits": [1, p.num_queries, "classes_void"],
        "pred_masks": [1, p.num_queries, "h4", "w4"],
        "class_probs": [1, p.num_queries, "classes_void"],
    }


_FEATURE_DIMS = {f"{a}{s}": _side(s, i) for s in (4, 8, 16, 32) for i, a in enumerate("hw")}

SPECS: dict[str, ExportUnit] = {
    graphs.CLIP_IMAGE: ExportUnit(
        graphs.CLIP_IMAGE,
        module=lambda m: m.clip_image,
        example=_image_example,
        dynamic_shapes=_image_dims,
        shapes=_image_shapes,
        dims={"height": _side(1, 0), "width": _side(1, 1), **_FEATURE_DIMS},
    ),
    graphs.SAM_IMAGE: ExportUnit(
        graphs.SAM_IMAGE,
        module=lambda m: m.sam_image,
        example=_sam_example,
        dynamic_shapes=lambda: None,
        shapes=_sam_shapes,
    ),
    graphs.CLIP_TEXT: ExportUnit(
        graphs.CLIP_TEXT,
        module=lambda m: m.clip_text,
        example=_text_example,
        dynamic_shapes=_text_dims,
        shapes=_text_shapes,
        # sequence: 77 (the context) or shorter, down to the longest prompt of the batch
        dims={"batch": _range(PROMPT_BATCH_RANGE), "sequence": _range(TOKEN_SEQUENCE_RANGE)},
    ),
    graphs.DECODER: ExportUnit(
        graphs.DECODER,
        module=lambda m: m.decoder,
        example=_decoder_example,
        dynamic_shapes=_decoder_dims,
        shapes=_decoder_shapes,
        dims={
            **_FEATURE_DIMS,
            "classes": _range(CLASSES_RANGE),
            "synonyms": _range(SYNONYMS_RANGE),
            "classes_void": _range(tuple(v + 1 for v in CLASSES_RANGE)),
        },
    ),
}
