"""FrozenSeg masked-attention transformer decoder
(`transformer_decoder/frozenseg_transformer_decoder.py`, `MultiScaleMaskedTransformerDecoder`).

Layer i reads CLIP level i % 3 (strides 32, 16, 8). At level 0 the feature injector lets the CLIP
tokens attend to the SAM-branch map and the result becomes that layer's memory, with no position
encoding (the official `CrossAttentionLayer_MINI` returns None for it). After every layer at
level 2, the query injector adds the mask-pooled SAM embedding to the queries.
Parameter names match the official state dict under `sem_seg_head.predictor.`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from frozenseg_reference.common import mask_pooling, vocabulary_logits
from frozenseg_reference.position_encoding import PositionEmbeddingSine


class Attention(nn.Module):
    """Multi-head attention with `nn.MultiheadAttention`'s parameter layout, sequence-first.

    A boolean `mask` (B, 1 or heads, Lq, Lk) marks keys a query may NOT attend to."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.zeros(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, q, k, v, mask: torch.Tensor | None = None) -> torch.Tensor:
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = self._split(F.linear(q, w_q, b_q))
        k = self._split(F.linear(k, w_k, b_k))
        v = self._split(F.linear(v, w_v, b_v))
        scores = torch.matmul(q, k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
        if mask is not None:
            scores = scores.masked_fill(mask, float("-inf"))
        out = torch.matmul(scores.softmax(-1), v)  # (B, h, Lq, d)
        b, h, lq, d = out.shape
        out = out.permute(2, 0, 1, 3).reshape(lq, b, h * d)
        return self.out_proj(out)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """(L, B, C) -> (B, heads, L, C / heads)."""
        length, b, c = x.shape
        return x.view(length, b, self.heads, c // self.heads).permute(1, 2, 0, 3)


class SelfAttentionLayer(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt, query_pos):
        q = tgt + query_pos
        return self.norm(tgt + self.self_attn(q, q, tgt))


class CrossAttentionLayer(nn.Module):
    """Post-norm cross-attention; also the feature injector (`CrossAttentionLayer_MINI`), whose
    down/up-sampling is between equal sizes at inference and therefore the identity."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.multihead_attn = Attention(dim, heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt, memory, mask=None, pos=None, query_pos=None):
        key = memory if pos is None else memory + pos
        return self.norm(tgt + self.multihead_attn(tgt + query_pos, key, memory, mask))


class FFNLayer(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(dim, hidden)
        self.linear2 = nn.Linear(hidden, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt):
        return self.norm(tgt + self.linear2(F.relu(self.linear1(tgt))))


class MLP(nn.Module):
    def __init__(self, dim_in: int, hidden: int, dim_out: int, num_layers: int) -> None:
        super().__init__()
        dims = [dim_in] + [hidden] * (num_layers - 1)
        outs = [hidden] * (num_layers - 1) + [dim_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, outs))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


def unmask_full_rows(mask: torch.Tensor) -> torch.Tensor:
    """A query whose every key is masked attends everywhere (official indexed assignment
    `attn_mask[where(sum == len)] = False`, written with logical ops)."""
    return mask & ~mask.all(dim=-1, keepdim=True)


class TransformerDecoder(nn.Module):
    """Queries -> (in-vocabulary logits (B, Q, C+1), mask logits (B, Q, H/4, W/4))."""

    def __init__(
        self,
        hidden_dim: int,
        num_queries: int,
        nheads: int,
        dim_feedforward: int,
        dec_layers: int,
        mask_dim: int,
        embed_dim: int,
        feature_fuse_level: int,
        query_fuse_level: int,
        logit_scale_max: float,
        num_levels: int = 3,
    ) -> None:
        super().__init__()
        self.logit_scale_max = logit_scale_max
        self.num_heads = nheads
        self.num_layers = dec_layers
        self.num_feature_levels = num_levels
        self.feature_fuse_level = feature_fuse_level
        self.query_fuse_level = query_fuse_level
        self.pe_layer = PositionEmbeddingSine(hidden_dim // 2)
        self.transformer_self_attention_layers = nn.ModuleList(
            SelfAttentionLayer(hidden_dim, nheads) for _ in range(dec_layers)
        )
        self.transformer_cross_attention_layers = nn.ModuleList(
            CrossAttentionLayer(hidden_dim, nheads) for _ in range(dec_layers)
        )
        self.transformer_cross_attention_layers_sam = nn.ModuleList(
            CrossAttentionLayer(hidden_dim, nheads) if i % num_levels == 0 else nn.Identity()
            for i in range(dec_layers)
        )
        self.transformer_ffn_layers = nn.ModuleList(
            FFNLayer(hidden_dim, dim_feedforward) for _ in range(dec_layers)
        )
        self.decoder_norm = nn.LayerNorm(hidden_dim)
        self.query_feat = nn.Embedding(num_queries, hidden_dim)
        self.query_embed = nn.Embedding(num_queries, hidden_dim)
        self.level_embed = nn.Embedding(num_levels, hidden_dim)
        self.mask_embed = MLP(hidden_dim, hidden_dim, mask_dim, 3)
        self._mask_pooling_proj = nn.Sequential(
            nn.LayerNorm(hidden_dim), nn.Linear(hidden_dim, hidden_dim)
        )
        self.class_embed = MLP(hidden_dim, hidden_dim, embed_dim, 3)
        self.logit_scale = nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))

    def forward(
        self,
        levels: list[torch.Tensor],
        mask_features: torch.Tensor,
        sam_map: torch.Tensor,
        sam_embedding: torch.Tensor,
        classifier: torch.Tensor,
        synonym_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """levels: 3 × (B, C, h_l, w_l); sam_map (B, C, 32, 32); sam_embedding (B, 256, 64, 64);
        classifier (K+1, S, E) normalised text embeddings with void last; synonym_mask (K+1, S)."""
        src, pos, sizes = [], [], []
        for i, x in enumerate(levels):
            sizes.append(x.shape[-2:])
            pos.append(self.pe_layer(x).flatten(2).permute(2, 0, 1))
            src.append((x.flatten(2) + self.level_embed.weight[i][None, :, None]).permute(2, 0, 1))
        # SAM map resized to CLIP level 0, with its own encoding and level-0 embedding.
        sam = F.interpolate(sam_map, size=levels[0].shape[-2:], mode="bilinear", align_corners=False)
        pos_sam = self.pe_layer(sam).flatten(2).permute(2, 0, 1)
        src_sam = (sam.flatten(2) + self.level_embed.weight[0][None, :, None]).permute(2, 0, 1)

        bs = src[0].shape[1]
        query_embed = self.query_embed.weight.unsqueeze(1).repeat(1, bs, 1)
        output = self.query_feat.weight.unsqueeze(1).repeat(1, bs, 1)
        head = dict(
            mask_features=mask_features,
            sam_embedding=sam_embedding,
            classifier=classifier,
            synonym_mask=synonym_mask,
        )
        logits, masks, attn_mask, _ = self.prediction_heads(output, target_size=sizes[0], **head)
        for i in range(self.num_layers):
            level = i % self.num_feature_levels
            attn_mask = unmask_full_rows(attn_mask)
            if level == self.feature_fuse_level:
                memory = self.transformer_cross_attention_layers_sam[i](
                    src[level], src_sam, pos=pos_sam, query_pos=pos[level]
                )
                memory_pos = None  # the feature injector returns no position encoding
            else:
                memory, memory_pos = src[level], pos[level]
            output = self.transformer_cross_attention_layers[i](
                output, memory, mask=attn_mask, pos=memory_pos, query_pos=query_embed
            )
            output = self.transformer_self_attention_layers[i](output, query_embed)
            output = self.transformer_ffn_layers[i](output)
            next_size = sizes[(i + 1) % self.num_feature_levels]
            logits, masks, attn_mask, sam_pooled = self.prediction_heads(
                output, target_size=next_size, **head
            )
            if level == self.query_fuse_level:
                output = output + sam_pooled
        return logits, masks

    def prediction_heads(
        self, output, target_size, mask_features, sam_embedding, classifier, synonym_mask
    ):
        decoded = self.decoder_norm(output).transpose(0, 1)  # (B, Q, C)
        mask_embed = self.mask_embed(decoded)
        b, c, h, w = mask_features.shape
        masks = torch.matmul(mask_embed, mask_features.reshape(b, c, h * w)).reshape(b, -1, h, w)
        pooled = self._mask_pooling_proj(mask_pooling(mask_features, masks))
        sam_pooled = self._mask_pooling_proj(
            mask_pooling(sam_embedding, masks)).transpose(0, 1)
        class_embed = self.class_embed(pooled + decoded)
        logits = vocabulary_logits(
            class_embed, classifier, synonym_mask, self.logit_scale, self.logit_scale_max
        )
        attn = F.interpolate(masks, size=target_size, mode="bilinear", align_corners=False)
        attn_mask = (attn.sigmoid().flatten(2).unsqueeze(1) < 0.5).detach()  # (B, 1, Q, HW)
        return logits, masks, attn_mask, sam_pooled
