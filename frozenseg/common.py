"""Small model pieces shared by the classification heads and the transformer decoder.

They live here, below both, so that `classification` and `transformer_decoder` need not import
each other (the decoder scores queries with `vocabulary_logits`; the ConvNeXt out-of-vocabulary
head pools CLIP features with `mask_pooling`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mask_pooling(x: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
    """Mean of `x` (B, C, H, W) over each mask `logits > 0` (B, Q, h, w) -> (B, Q, C); an empty
    mask pools to 0.

    Masks are resized (bilinear) to `x`'s size first, as the official `MaskPooling`; always, since
    a bilinear resize to the same size is the identity and a shape test would freeze at export.

    The official code divides by `area + 1e-8`. The mask is binary, so the area is a whole
    number: for an area n >= 1 float32 rounds n + 1e-8 to n, and an empty mask gives 0 / 1e-8 = 0.
    Dividing by `max(area, 1)` gives those same answers (bit for bit in float32) with a guard that
    no graph rewrite takes for a no-op and that float16 holds exactly. An additive 1e-8 is neither:
    onnxscript's optimizer removes `Add(x, c)` for |c| <= 1e-8 (its `add_0` rule matches 0 with
    abs_tol 1e-8), which turned every empty mask into 0 / 0 = NaN in the exported decoder, and
    float16 has no 1e-8."""
    mask_logits = F.interpolate(mask_logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
    mask = (mask_logits > 0).to(x.dtype).flatten(2)  # (B, Q, HW)
    area = mask.sum(dim=-1, keepdim=True).clamp(min=1.0)
    return torch.matmul(mask / area, x.flatten(2).transpose(1, 2))  # einsum bchw,bqhw->bqc


def vocabulary_logits(
    x: torch.Tensor,
    classifier: torch.Tensor,
    synonym_mask: torch.Tensor,
    logit_scale: torch.Tensor,
    logit_scale_max: float,
) -> torch.Tensor:
    """Cosine logits of embeddings x (B, Q, E) against classifier (K, S, E), max over valid
    synonyms -> (B, Q, K). The void row is an ordinary class with one synonym here."""
    x = F.normalize(x, dim=-1)
    scale = torch.clamp(logit_scale.exp(), max=logit_scale_max)
    k, s, e = classifier.shape
    logits = scale * torch.matmul(x, classifier.reshape(k * s, e).t())  # (B, Q, K*S)
    logits = logits.reshape(x.shape[0], x.shape[1], k, s)
    logits = logits.masked_fill(~synonym_mask, float("-inf"))
    return logits.max(dim=-1).values
