"""CLIP text encoder subgraph: token ids (N, 77) int64 -> (N, E) unnormalised embeddings.

The official `CLIP.encode_text` of `modeling/backbone/clip.py`: token + position embedding,
causal transformer, final LayerNorm, the end-of-text token's feature (highest id, argmax) times
the text projection.
"""

from __future__ import annotations

import torch
from torch import nn


class ClipTextEncoder(nn.Module):
    def __init__(self, clip_model: nn.Module) -> None:
        super().__init__()
        self.token_embedding = clip_model.token_embedding
        self.positional_embedding = clip_model.positional_embedding
        self.transformer = clip_model.transformer
        self.ln_final = clip_model.ln_final
        self.text_projection = clip_model.text_projection
        self.register_buffer("attn_mask", clip_model.attn_mask.clone(), persistent=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(tokens) + self.positional_embedding
        x = self.transformer(x, attn_mask=self.attn_mask)
        x = self.ln_final(x)
        eot = tokens.argmax(dim=-1)
        x = torch.gather(x, 1, eot[:, None, None].expand(-1, 1, x.shape[-1])).squeeze(1)
        return x @ self.text_projection
