"""Open-vocabulary classification: text-classifier logits, out-of-vocabulary CLIP head, and the
geometric ensemble (`get_classification_logits` and the end of `FrozenSeg.forward`).

The vocabulary is a padded tensor (classes × synonyms × embed) with a validity mask, so one
exported graph serves any vocabulary and the per-class max over synonyms is a masked ReduceMax
instead of the official Python loop.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from frozenseg_reference.common import mask_pooling


def with_void(
    text_embeddings: torch.Tensor, synonym_mask: torch.Tensor, void_embedding: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Append the normalised void embedding as the last class (one valid synonym)."""
    _, s, e = text_embeddings.shape
    void = F.normalize(void_embedding, dim=-1).reshape(1, 1, e).expand(1, s, e)
    void_mask = (torch.arange(s, device=synonym_mask.device) == 0)[None]  # no indexed assignment
    return torch.cat([text_embeddings, void], 0), torch.cat([synonym_mask, void_mask], 0)


class ConvNextOutOfVocabHead(nn.Module):
    """Mask-pooled `clip_vis_dense` -> CLIP embedding (`visual_prediction_forward_convnext`):
    the open_clip trunk head (pool, LayerNorm2d) then the projection MLP."""

    def __init__(self, trunk_head: nn.Module, visual_head: nn.Module) -> None:
        super().__init__()
        self.trunk_head = trunk_head
        self.visual_head = visual_head

    def forward(self, dense: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
        pooled = mask_pooling(dense, mask_logits)  # (B, Q, C)
        b, q, c = pooled.shape
        x = self.trunk_head(pooled.reshape(b * q, c, 1, 1))
        return self.visual_head(x).reshape(b, q, -1)


class AttnPoolOutOfVocabHead(nn.Module):
    """RN CLIP attention pooling restricted to each mask (`visual_prediction_forward_resnet`).

    One query per mask (mean of all tokens + class position embedding) attends to the tokens
    inside the mask; a mask with no pixel attends to nothing and gives NaN, as the official
    code (the ensemble then gives it weight 0 with `ENSEMBLE_ON_VALID_MASK`)."""

    def __init__(self, attnpool: nn.Module) -> None:
        super().__init__()
        self.attnpool = attnpool

    def forward(self, dense: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
        pool = self.attnpool
        b, c, h, w = dense.shape
        heads = pool.num_heads
        pe = pool.positional_embedding.to(dense.dtype)
        grid = int(round(math.sqrt(pe.shape[0] - 1)))
        spatial = pe[1:].t().reshape(1, c, grid, grid)
        spatial = F.interpolate(spatial, size=(h, w), mode="bilinear", align_corners=False)
        tokens = dense.flatten(2).transpose(1, 2)  # (B, HW, C)
        key_value = tokens + spatial.flatten(2).transpose(1, 2)
        q_in = tokens.mean(1, keepdim=True) + pe[:1][None]  # (B, 1, C)
        query = pool.q_proj(q_in)  # (B, 1, C), same for every mask
        key = pool.k_proj(key_value)
        value = pool.v_proj(key_value)
        d = c // heads
        query = query.reshape(b, 1, heads, d).transpose(1, 2)  # (B, h, 1, d)
        key = key.reshape(b, h * w, heads, d).transpose(1, 2)  # (B, h, HW, d)
        value = value.reshape(b, h * w, heads, d).transpose(1, 2)
        scores = torch.matmul(query, key.transpose(-1, -2)) * (d**-0.5)  # (B, h, 1, HW)
        masks = F.interpolate(mask_logits, size=(h, w), mode="bilinear", align_corners=False)
        outside = (masks > 0).flatten(2).unsqueeze(1) == 0  # (B, 1, Q, HW)
        scores = scores.expand(-1, -1, outside.shape[2], -1).masked_fill(outside, float("-inf"))
        attn = torch.matmul(scores.softmax(-1), value)  # (B, h, Q, d)
        attn = attn.transpose(1, 2).reshape(b, -1, c)
        return pool.c_proj(attn)


def geometric_ensemble(
    in_vocab_logits: torch.Tensor,
    out_vocab_logits: torch.Tensor,
    seen: torch.Tensor,
    alpha: torch.Tensor | float,
    beta: torch.Tensor | float,
) -> torch.Tensor:
    """Final class probabilities (B, Q, K+1), void last (`FrozenSeg.forward`, inference).

    in_vocab_logits and out_vocab_logits include the void column; `seen` (K,) is 1 for classes
    of the training vocabulary. alpha/beta may be per-(query, class) tensors (valid-mask rule).
    The official code multiplies the seen and unseen terms by the 0/1 mask and adds them; here a
    select picks one, which is identical except where the official gives NaN (-inf * 0)."""
    p_in = in_vocab_logits[..., :-1].softmax(-1)
    p_out = out_vocab_logits[..., :-1].softmax(-1)
    seen_term = (p_in ** (1 - alpha) * p_out**alpha).log()
    unseen_term = (p_in ** (1 - beta) * p_out**beta).log()
    ensemble = torch.where(seen.to(torch.bool), seen_term, unseen_term)
    void = in_vocab_logits.softmax(-1)[..., -1:]
    return torch.cat([ensemble.softmax(-1) * (1.0 - void), void], -1)
