"""Names of the four exported graphs and of their inputs and outputs, declared once.

Both sides import this: the exporter names the ONNX tensors with it and the runtime feeds and
reads them with it. It is torch-free on purpose.
"""

from __future__ import annotations

CLIP_IMAGE = "clip_image"
SAM_IMAGE = "sam_image"
CLIP_TEXT = "clip_text"
DECODER = "decoder"
GRAPHS: tuple[str, ...] = (CLIP_IMAGE, SAM_IMAGE, CLIP_TEXT, DECODER)

CLIP_FEATURES: tuple[str, ...] = ("res2", "res3", "res4", "res5")

INPUTS: dict[str, tuple[str, ...]] = {
    CLIP_IMAGE: ("image",),
    SAM_IMAGE: ("image",),
    CLIP_TEXT: ("tokens",),
    DECODER: CLIP_FEATURES + ("sam_embedding", "text_embeddings", "synonym_mask", "seen"),
}
OUTPUTS: dict[str, tuple[str, ...]] = {
    CLIP_IMAGE: CLIP_FEATURES,
    SAM_IMAGE: ("sam_embedding",),
    CLIP_TEXT: ("text_features",),
    DECODER: ("pred_logits", "pred_masks", "class_probs"),
}
