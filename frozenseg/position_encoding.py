"""Sine position encoding of DETR / Mask2Former (`transformer_decoder/position_encoding.py`).

Always called with no padding mask and `normalize=True`, so the cumulative sums of the official
code are the row / column indices 1..H and 1..W; written with `arange` so that ONNX keeps the
spatial size dynamic.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class PositionEmbeddingSine(nn.Module):
    """(B, C, H, W) -> (B, 2 * num_pos_feats, H, W) sine/cosine encoding, y first then x."""

    def __init__(self, num_pos_feats: int, temperature: float = 10000.0) -> None:
        super().__init__()
        self.num_pos_feats = int(num_pos_feats)
        self.temperature = temperature
        self.scale = 2 * math.pi
        self.eps = 1e-6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        # Integer ranges, cast after: TensorRT takes a float Range only with constant bounds.
        # The input's float type, so that the float64 reference (the noise floor's truth) is
        # float64 throughout.
        y_embed = torch.arange(1, h + 1, device=x.device).to(x.dtype)
        x_embed = torch.arange(1, w + 1, device=x.device).to(x.dtype)
        y_embed = y_embed / (y_embed[-1:] + self.eps) * self.scale
        x_embed = x_embed / (x_embed[-1:] + self.eps) * self.scale
        dim_t = torch.arange(self.num_pos_feats, device=x.device).to(x.dtype)
        dim_t = self.temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / self.num_pos_feats)
        pos_x = _interleave_sin_cos(x_embed[:, None] / dim_t)  # (W, F)
        pos_y = _interleave_sin_cos(y_embed[:, None] / dim_t)  # (H, F)
        pos_y = pos_y[:, None, :].expand(-1, pos_x.shape[0], -1)
        pos_x = pos_x[None, :, :].expand(pos_y.shape[0], -1, -1)
        pos = torch.cat((pos_y, pos_x), dim=-1).permute(2, 0, 1)  # (2F, H, W)
        return pos.unsqueeze(0).expand(x.shape[0], -1, -1, -1)


def _interleave_sin_cos(t: torch.Tensor) -> torch.Tensor:
    """sin of even channels and cos of odd channels, interleaved as in DETR."""
    return torch.stack((t[:, 0::2].sin(), t[:, 1::2].cos()), dim=-1).flatten(1)
