"""Decoder subgraph: CLIP features + SAM embedding + vocabulary tensors -> predictions.

One graph holds the pixel decoder, the transformer decoder, the out-of-vocabulary CLIP head and
the ensemble. The out-of-vocabulary head stays inside: it needs the final mask logits and
`clip_vis_dense`, both already here, and is a few small layers, so a separate graph would only
add a round trip of (B, Q, H/4, W/4) mask logits between engines.
"""

from __future__ import annotations

import torch
from torch import nn

from frozenseg_reference.classification import geometric_ensemble, with_void
from frozenseg_reference.common import vocabulary_logits
from frozenseg_reference.pixel_decoder import PixelDecoder
from frozenseg_reference.presets import Preset
from frozenseg_reference.transformer_decoder import TransformerDecoder


class FrozenSegDecoder(nn.Module):
    """Inputs (batch B, vocabulary of K classes with up to S synonyms, embed E):
      res2..res5 (B, C_l, H/s, W/s) float32; sam_embedding (B, 256, 64, 64) float32;
      text_embeddings (K, S, E) float32, template-averaged and normalised per synonym;
      synonym_mask (K, S) bool; seen (K,) bool, class in the training vocabulary.
    Outputs:
      pred_logits (B, Q, K+1) in-vocabulary logits, void last;
      pred_masks (B, Q, H/4, W/4) mask logits;
      class_probs (B, Q, K+1) after the geometric ensemble, void last.
    """

    def __init__(self, preset: Preset, clip_dense_norm: nn.Module, oov_head: nn.Module,
                 clip_logit_scale: nn.Parameter) -> None:
        super().__init__()
        p = preset
        self.pixel_decoder = PixelDecoder(
            in_channels=p.clip_channels,
            conv_dim=p.hidden_dim,
            mask_dim=p.hidden_dim,
            nheads=p.enc_nheads,
            enc_layers=p.enc_layers,
            enc_ffn=p.enc_ffn,
            enc_points=p.enc_points,
            enc_levels=p.enc_levels,
            gn_groups=p.gn_groups,
            sam_channels=p.sam.out_chans,
        )
        self.predictor = TransformerDecoder(
            hidden_dim=p.hidden_dim,
            num_queries=p.num_queries,
            nheads=p.nheads,
            dim_feedforward=p.dim_feedforward,
            dec_layers=p.dec_layers,
            mask_dim=p.hidden_dim,
            embed_dim=p.embed_dim,
            feature_fuse_level=p.sam_feature_fuse_level,
            query_fuse_level=p.sam_query_fuse_level,
            logit_scale_max=p.inference.logit_scale_max,
        )
        self.void_embedding = nn.Embedding(1, p.embed_dim)
        self.clip_dense_norm = clip_dense_norm
        self.oov_head = oov_head
        self.clip_logit_scale = clip_logit_scale
        inf = p.inference
        self.alpha, self.beta = inf.ensemble_alpha, inf.ensemble_beta
        self.ensemble_on_valid_mask = inf.ensemble_on_valid_mask
        self.logit_scale_max = inf.logit_scale_max

    def forward(
        self,
        res2: torch.Tensor,
        res3: torch.Tensor,
        res4: torch.Tensor,
        res5: torch.Tensor,
        sam_embedding: torch.Tensor,
        text_embeddings: torch.Tensor,
        synonym_mask: torch.Tensor,
        seen: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        classifier, mask = with_void(text_embeddings, synonym_mask, self.void_embedding.weight)
        mask_features, levels, sam_map = self.pixel_decoder(res2, res3, res4, res5, sam_embedding)
        pred_logits, pred_masks = self.predictor(
            levels, mask_features, sam_map, sam_embedding, classifier, mask
        )
        dense = self.clip_dense_norm(res5)
        pooling_masks = nn.functional.interpolate(
            pred_masks, size=dense.shape[-2:], mode="bilinear", align_corners=False
        )
        oov_embed = self.oov_head(dense, pooling_masks)
        oov_logits = vocabulary_logits(
            oov_embed, classifier, mask, self.clip_logit_scale, self.logit_scale_max
        )
        alpha, beta = self.alpha, self.beta
        if self.ensemble_on_valid_mask:
            valid = ((pooling_masks > 0).flatten(2).sum(-1) > 0).to(pred_logits.dtype)[..., None]
            alpha, beta = alpha * valid, beta * valid
        class_probs = geometric_ensemble(pred_logits, oov_logits, seen, alpha, beta)
        return pred_logits, pred_masks, class_probs
