"""Multi-scale deformable attention (Deformable DETR), as FrozenSeg's pixel decoder runs it.

Reproduces `pixel_decoder/ops/modules/ms_deform_attn.py` and the official CUDA kernel
(`ms_deform_im2col_cuda.cuh`). The sampler is gather-based bilinear interpolation with zero
padding instead of `grid_sample`: ONNX Runtime and TensorRT both compute a plain Gather exactly,
while TensorRT has silently miscompiled grid_sample-based deformable attention.

When a layer is built for more levels than it is given (FrozenSeg's SAM branch: built for 3,
fed 1), the CUDA kernel reads the first `given/built` of the contiguous sampling-location and
attention-weight buffers of each image as if they had `given` levels. `MSDeformAttn` does the
same, so released checkpoints give their published answers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def level_sizes(features: list[torch.Tensor]) -> list[tuple[torch.Tensor | int, torch.Tensor | int]]:
    """(H, W) of each (B, C, H, W) level, kept symbolic under ONNX tracing."""
    return [(f.shape[-2], f.shape[-1]) for f in features]


def bilinear_gather_sample(
    value: torch.Tensor,
    sizes: list[tuple],
    sampling_locations: torch.Tensor,
    attention_weights: torch.Tensor,
) -> torch.Tensor:
    """Deformable attention core, gather-based.

    Arguments:
      value (Tensor): (N, S, M, D), levels concatenated along S in `sizes` order.
      sizes (list): (H_l, W_l) per level.
      sampling_locations (Tensor): (N, Lq, M, L, P, 2), x then y, in [0, 1] of each level.
      attention_weights (Tensor): (N, Lq, M, L, P).
    Returns:
      (N, Lq, M * D) weighted sum of bilinear samples, zero outside the map (as
      grid_sample(padding_mode="zeros", align_corners=False) and the CUDA kernel).
    """
    n, s, m, d = value.shape
    lq = sampling_locations.shape[1]
    p = sampling_locations.shape[4]
    # One flat table of (N * M * S, D) rows: row (n, m, s) holds value[n, s, m].
    table = value.permute(0, 2, 1, 3).reshape(-1, d)
    head_base = (
        torch.arange(n, device=value.device).view(n, 1, 1, 1) * (m * s)
        + torch.arange(m, device=value.device).view(1, 1, m, 1) * s
    )
    out = value.new_zeros((n, lq, m, 1, d))
    start = 0
    for lvl, (h, w) in enumerate(sizes):
        loc = sampling_locations[:, :, :, lvl]  # (N, Lq, M, P, 2)
        weight = attention_weights[:, :, :, lvl]  # (N, Lq, M, P)
        x = loc[..., 0] * w - 0.5
        y = loc[..., 1] * h - 0.5
        x0 = torch.floor(x)
        y0 = torch.floor(y)
        fx = x - x0
        fy = y - y0
        x0 = x0.to(torch.int64)
        y0 = y0.to(torch.int64)
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                xi = x0 + dx
                yi = y0 + dy
                inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
                index = yi.clamp(min=0) * w + xi.clamp(min=0)
                index = torch.minimum(index, torch.zeros_like(index) + (h * w - 1))
                index = head_base + start + index
                corner = F.embedding(index.reshape(n, lq * m * p), table).view(n, lq, m, p, d)
                corner_weight = (wy * wx * weight * inside.to(weight.dtype)).unsqueeze(-2)
                out = out + torch.matmul(corner_weight, corner)  # (N, Lq, M, 1, D)
        start = start + h * w
    return out.reshape(n, lq, m * d)


def grid_sample_core(
    value: torch.Tensor,
    sizes: list[tuple[int, int]],
    sampling_locations: torch.Tensor,
    attention_weights: torch.Tensor,
) -> torch.Tensor:
    """The official pure-PyTorch fallback (`ms_deform_attn_core_pytorch`), kept as the
    independent check of `bilinear_gather_sample` in the un-split reference forward."""
    n, _, m, d = value.shape
    _, lq, _, nl, p, _ = sampling_locations.shape
    value_list = value.split([int(h) * int(w) for h, w in sizes], dim=1)
    grids = 2 * sampling_locations - 1
    sampled = []
    for lvl, (h, w) in enumerate(sizes):
        value_l = value_list[lvl].flatten(2).transpose(1, 2).reshape(n * m, d, int(h), int(w))
        grid_l = grids[:, :, :, lvl].transpose(1, 2).flatten(0, 1)
        sampled.append(
            F.grid_sample(value_l, grid_l, mode="bilinear", padding_mode="zeros", align_corners=False)
        )
    weights = attention_weights.transpose(1, 2).reshape(n * m, 1, lq, nl * p)
    out = (torch.stack(sampled, dim=-2).flatten(-2) * weights).sum(-1).view(n, m * d, lq)
    return out.transpose(1, 2).contiguous()


class MSDeformAttn(nn.Module):
    """Deformable attention layer; parameter names match the official module."""

    def __init__(self, d_model: int, n_levels: int, n_heads: int, n_points: int) -> None:
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model {d_model} must be divisible by n_heads {n_heads}")
        self.d_model = d_model
        self.n_levels = n_levels
        self.n_heads = n_heads
        self.n_points = n_points
        self.sampling_offsets = nn.Linear(d_model, n_heads * n_levels * n_points * 2)
        self.attention_weights = nn.Linear(d_model, n_heads * n_levels * n_points)
        self.value_proj = nn.Linear(d_model, d_model)
        self.output_proj = nn.Linear(d_model, d_model)
        self.use_grid_sample = False  # the official fallback sampler, for the un-split check

    def forward(
        self,
        query: torch.Tensor,
        reference_points: torch.Tensor,
        value_in: torch.Tensor,
        sizes: list[tuple],
    ) -> torch.Tensor:
        """query (N, Lq, C), reference_points (N, Lq, L_given, 2), value_in (N, S, C)."""
        n, lq, _ = query.shape
        m, p, built = self.n_heads, self.n_points, self.n_levels
        given = len(sizes)
        value = self.value_proj(value_in).view(n, value_in.shape[1], m, self.d_model // m)
        offsets = self.sampling_offsets(query).view(n, lq, m, built, p, 2)
        weights = self.attention_weights(query).view(n, lq, m, built * p)
        weights = F.softmax(weights, -1).view(n, lq, m, built, p)
        if given not in (1, built):
            raise ValueError(f"a layer built for {built} levels takes 1 or {built}, got {given}")
        # Offsets are in pixels of each level; a layer given one level normalises every built
        # level by that level's size, as the official broadcast does.
        locations = torch.stack(
            [
                reference_points[:, :, min(lvl, given - 1), None, None, :]
                + _per_pixel(offsets[:, :, :, lvl], *sizes[min(lvl, given - 1)])
                for lvl in range(built)
            ],
            dim=3,
        )  # (N, Lq, M, built, P, 2)
        if given < built:
            # Read the buffers as the CUDA kernel does with `given` levels.
            locations = locations.reshape(n, -1)[:, : lq * m * given * p * 2]
            locations = locations.reshape(n, lq, m, given, p, 2)
            weights = weights.reshape(n, -1)[:, : lq * m * given * p].reshape(n, lq, m, given, p)
        core = grid_sample_core if self.use_grid_sample else bilinear_gather_sample
        return self.output_proj(core(value, sizes, locations, weights))


def _per_pixel(offsets: torch.Tensor, h, w) -> torch.Tensor:
    """Offsets (..., 2) in pixels -> fractions of the map (x / W, y / H); sizes stay symbolic."""
    return torch.stack((offsets[..., 0] / w, offsets[..., 1] / h), dim=-1)


def reference_points(sizes: list[tuple], device: torch.device,
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Pixel centres of every level, normalised to [0, 1]: (1, sum(H*W), L, 2), x then y.

    Equals the official `get_reference_points` with all valid ratios 1 (no padding mask)."""
    points = []
    for h, w in sizes:
        ys = (torch.arange(h, device=device).to(dtype) + 0.5) / h
        xs = (torch.arange(w, device=device).to(dtype) + 0.5) / w
        grid_y = ys[:, None].expand(-1, xs.shape[0])
        grid_x = xs[None, :].expand(ys.shape[0], -1)
        points.append(torch.stack((grid_x.reshape(-1), grid_y.reshape(-1)), -1))
    ref = torch.cat(points, 0)  # (S, 2)
    return ref[None, :, None, :].expand(1, -1, len(sizes), -1)
