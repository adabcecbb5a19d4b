"""FLOPs of each subgraph, counted by torch's FlopCounterMode on the reference modules.

The modules are built on the meta device: shapes flow and every operator is counted, but no
weight is made and no arithmetic is done, so counting the full-size model at 800x1333 takes
seconds. FlopCounterMode counts a multiply-add as 2 FLOPs and counts the matrix products and
convolutions (what dominates these graphs), not element-wise operations; the text encoder is
counted on the token batches the runtime feeds it (padding common to a batch dropped). On the meta
device attention decomposes into the batched products the counter sees; on a CPU it would run in a
fused kernel the counter does not count.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode

from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.presets import get_preset
from frozenseg_runtime import graphs

Shape = tuple[int, ...]


def meta_model(preset_name: str) -> FrozenSegModel:
    """The reference's modules without weights (meta tensors)."""
    with torch.device("meta"):
        return FrozenSegModel(get_preset(preset_name)).eval()


def _counted(call) -> tuple[int, object]:
    counter = FlopCounterMode(display=False)
    with counter:
        value = call()
    return counter.get_total_flops(), value


@torch.no_grad()
def image_flops(model: FrozenSegModel, clip_shape: Shape, sam_shape: Shape,
                vocabulary_shape: tuple[int, int]) -> dict[str, int]:
    """FLOPs of the CLIP and SAM image encoders and of the decoder for one image of these input
    shapes and a vocabulary of (classes, synonyms)."""
    meta = torch.device("meta")
    clip_flops, features = _counted(lambda: model.clip_image(torch.empty(clip_shape, device=meta)))
    sam_flops, embedding = _counted(lambda: model.sam_image(torch.empty(sam_shape, device=meta)))
    classes, synonyms = vocabulary_shape
    width = int(model.clip_text.text_projection.shape[-1])
    text = torch.empty((classes, synonyms, width), device=meta)
    mask = torch.empty((classes, synonyms), dtype=torch.bool, device=meta)
    seen = torch.empty((classes,), dtype=torch.bool, device=meta)
    decoder_flops, _ = _counted(lambda: model.decoder(*features, embedding, text, mask, seen))  # type: ignore[misc]
    return {graphs.CLIP_IMAGE: clip_flops, graphs.SAM_IMAGE: sam_flops, graphs.DECODER: decoder_flops}


@torch.no_grad()
def text_flops(model: FrozenSegModel, batch_shapes: Sequence[Shape]) -> int:
    """FLOPs of the text encoder over token batches of these (prompts, tokens) shapes."""
    total = 0
    for shape in batch_shapes:
        tokens = torch.empty(shape, dtype=torch.long, device="meta")
        flops, _ = _counted(lambda tokens=tokens: model.clip_text(tokens))
        total += flops
    return total
