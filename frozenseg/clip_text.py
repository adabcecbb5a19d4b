"""CLIP text encoder subgraph: token ids (N, L) int64 -> (N, E) unnormalised embeddings.

The official `CLIP.encode_text` of `modeling/backbone/clip.py`: token + position embedding,
causal transformer, final LayerNorm, the end-of-text token's feature (highest id, argmax) times
the text projection. L is the context length (77) as officially; any shorter L that still holds
every end-of-text token gives the same result, since the attention is causal and the feature is
read at the end-of-text token, so callers may drop trailing padding (several times faster).
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
        length = tokens.shape[1]
        x = self.token_embedding(tokens) + self.positional_embedding[:length]
        x = self.transformer(x, attn_mask=self.attn_mask[:length, :length])
        x = self.ln_final(x)
        eot = tokens.argmax(dim=-1)
        x = torch.gather(x, 1, eot[:, None, None].expand(-1, 1, x.shape[-1])).squeeze(1)
        return x @ self.text_projection
