"""SAM image encoder subgraph: normalised (B, 3, 1024, 1024) -> neck output (B, 256, 64, 64).

segment-anything's `ImageEncoderViT` itself (FrozenSeg's vendored copy differs only in also
returning intermediate embeddings, which inference does not use).
"""

from __future__ import annotations

from functools import partial

import torch
from segment_anything.modeling.image_encoder import ImageEncoderViT
from torch import nn

from frozenseg_reference.presets import SamConfig


class SamImageEncoder(nn.Module):
    def __init__(self, cfg: SamConfig) -> None:
        super().__init__()
        self.encoder = ImageEncoderViT(
            depth=cfg.depth,
            embed_dim=cfg.embed_dim,
            img_size=cfg.image_size,
            mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=cfg.num_heads,
            patch_size=cfg.patch_size,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=cfg.global_attn_indexes,
            window_size=cfg.window_size,
            out_chans=cfg.out_chans,
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encoder(image)
