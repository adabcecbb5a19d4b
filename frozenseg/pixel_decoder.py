"""FrozenSeg pixel decoder (`pixel_decoder/msdeformattn.py`, `MSDeformAttnPixelDecoder`).

Two deformable-attention encoders: the Mask2Former one over CLIP res3..res5 plus an FPN step
with res2, and a second one (`sam_transformer`) over the SAM neck after a stride-2 conv (`fpn3`).
Parameter names match the official state dict under `sem_seg_head.pixel_decoder.`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from frozenseg_reference.deform_attn import MSDeformAttn, level_sizes, reference_points
from frozenseg_reference.position_encoding import PositionEmbeddingSine


class EncoderLayer(nn.Module):
    """Post-norm deformable self-attention + FFN (`MSDeformAttnTransformerEncoderLayer`)."""

    def __init__(self, d_model: int, d_ffn: int, n_levels: int, n_heads: int, n_points: int):
        super().__init__()
        self.self_attn = MSDeformAttn(d_model, n_levels, n_heads, n_points)
        self.norm1 = nn.LayerNorm(d_model)
        self.linear1 = nn.Linear(d_model, d_ffn)
        self.linear2 = nn.Linear(d_ffn, d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, src, pos, ref, sizes):
        src = self.norm1(src + self.self_attn(src + pos, ref, src, sizes))
        return self.norm2(src + self.linear2(F.relu(self.linear1(src))))


class _LayerStack(nn.Module):
    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class DeformableEncoder(nn.Module):
    """`MSDeformAttnTransformerEncoderOnly`: flattens the levels, adds level embeddings to the
    position encodings, runs the layers. Returns (B, sum(H*W), C)."""

    def __init__(self, d_model, nhead, num_layers, d_ffn, num_levels, n_points) -> None:
        super().__init__()
        self.encoder = _LayerStack(
            [EncoderLayer(d_model, d_ffn, num_levels, nhead, n_points) for _ in range(num_layers)]
        )
        self.level_embed = nn.Parameter(torch.zeros(num_levels, d_model))

    def forward(self, srcs: list[torch.Tensor], pos_embeds: list[torch.Tensor]) -> torch.Tensor:
        sizes = level_sizes(srcs)
        src_flat = torch.cat([s.flatten(2).transpose(1, 2) for s in srcs], 1)
        pos_flat = torch.cat(
            [
                p.flatten(2).transpose(1, 2) + self.level_embed[lvl].view(1, 1, -1)
                for lvl, p in enumerate(pos_embeds)
            ],
            1,
        )
        ref = reference_points(sizes, src_flat.device, src_flat.dtype)
        out = src_flat
        for layer in self.encoder.layers:
            out = layer(out, pos_flat, ref, sizes)
        return out


class ConvNorm(nn.Module):
    """detectron2 `Conv2d(..., norm=GroupNorm)`: keys `weight` and `norm.*`, no bias."""

    def __init__(self, cin, cout, kernel, groups, relu: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(cout, cin, kernel, kernel))
        self.norm = nn.GroupNorm(groups, cout)
        self.padding = kernel // 2
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(F.conv2d(x, self.weight, None, 1, self.padding))
        return F.relu(x) if self.relu else x


class PixelDecoder(nn.Module):
    """Returns mask_features (B, C, H/4, W/4), the three encoder levels (strides 32, 16, 8)
    and the SAM-branch map (B, C, 32, 32)."""

    def __init__(
        self,
        in_channels: tuple[int, int, int, int],
        conv_dim: int,
        mask_dim: int,
        nheads: int,
        enc_layers: int,
        enc_ffn: int,
        enc_points: int,
        enc_levels: int,
        gn_groups: int,
        sam_channels: int,
    ) -> None:
        super().__init__()
        res2, res3, res4, res5 = in_channels
        self.input_proj = nn.ModuleList(
            [
                nn.Sequential(nn.Conv2d(c, conv_dim, 1), nn.GroupNorm(gn_groups, conv_dim))
                for c in (res5, res4, res3)
            ]
        )
        self.transformer = DeformableEncoder(
            conv_dim, nheads, enc_layers, enc_ffn, enc_levels, enc_points
        )
        self.pe_layer = PositionEmbeddingSine(conv_dim // 2)
        self.mask_features = nn.Conv2d(conv_dim, mask_dim, 1)
        self.adapter_1 = ConvNorm(res2, conv_dim, 1, gn_groups, relu=False)
        self.layer_1 = ConvNorm(conv_dim, conv_dim, 3, gn_groups, relu=True)
        # SAM branch: built for `enc_levels` levels, fed one (see deform_attn.py).
        self.sam_transformer = DeformableEncoder(
            conv_dim, nheads, enc_layers, enc_ffn, enc_levels, enc_points
        )
        self.fpn3 = nn.Sequential(
            nn.Conv2d(sam_channels, conv_dim, 3, stride=2, padding=1),
            nn.GroupNorm(gn_groups, conv_dim),
            nn.ReLU(),
        )

    def forward(
        self,
        res2: torch.Tensor,
        res3: torch.Tensor,
        res4: torch.Tensor,
        res5: torch.Tensor,
        sam_embedding: torch.Tensor,
    ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        feats = (res5, res4, res3)
        srcs = [proj(f) for proj, f in zip(self.input_proj, feats)]
        pos = [self.pe_layer(f) for f in feats]
        memory = self.transformer(srcs, pos)
        levels = _unflatten(memory, srcs)
        lateral = self.adapter_1(res2)
        top = F.interpolate(levels[-1], size=lateral.shape[-2:], mode="bilinear", align_corners=False)
        fpn_out = self.layer_1(lateral + top)
        mask_features = self.mask_features(fpn_out)

        sam_src = self.fpn3(sam_embedding)
        sam_memory = self.sam_transformer([sam_src], [self.pe_layer(sam_src)])
        sam_map = _unflatten(sam_memory, [sam_src])[0]
        return mask_features, levels, sam_map


def _unflatten(memory: torch.Tensor, like: list[torch.Tensor]) -> list[torch.Tensor]:
    """Split (B, sum(H*W), C) back into (B, C, H, W) maps shaped like `like`."""
    out = []
    start = 0
    for f in like:
        h, w = f.shape[-2], f.shape[-1]
        chunk = memory[:, start : start + h * w]
        out.append(chunk.transpose(1, 2).reshape(f.shape[0], -1, h, w))
        start = start + h * w
    return out
