"""CLIP image encoder subgraph (`modeling/backbone/clip.py`, `extract_features_*`).

Normalised, padded image (B, 3, H, W), H and W multiples of 32 -> res2..res5 at strides 4, 8,
16, 32. The out-of-vocabulary head's `clip_vis_dense` is `norm_pre(res5)` for ConvNeXt (an
identity in open_clip's ConvNeXt models) and `res5` for ResNets; the decoder applies it.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvNextImageEncoder(nn.Module):
    """Stem and the four stages of open_clip's timm ConvNeXt trunk."""

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.stem = trunk.stem
        self.stages = trunk.stages

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.stem(image)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return tuple(feats)


class ResNetImageEncoder(nn.Module):
    """open_clip ModifiedResNet up to layer4 (`extract_features_resnet`)."""

    def __init__(self, visual: nn.Module) -> None:
        super().__init__()
        for name in ("conv1", "bn1", "act1", "conv2", "bn2", "act2", "conv3", "bn3", "act3"):
            setattr(self, name, getattr(visual, name))
        self.avgpool = visual.avgpool
        self.layer1, self.layer2 = visual.layer1, visual.layer2
        self.layer3, self.layer4 = visual.layer3, visual.layer4

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.act1(self.bn1(self.conv1(image)))
        x = self.act2(self.bn2(self.conv2(x)))
        x = self.act3(self.bn3(self.conv3(x)))
        x = self.avgpool(x)
        res2 = self.layer1(x)
        res3 = self.layer2(res2)
        res4 = self.layer3(res3)
        res5 = self.layer4(res4)
        return res2, res3, res4, res5
