"""Model presets: every architecture number of a FrozenSeg variant, in one place.

The released configuration is `configs/coco/frozenseg/convnext_large_eval_*.yaml` of the official
code (chenxi52/FrozenSeg) on top of `frozenseg/config.py`. The export manifest records a preset
with `Preset.to_dict()`, so the runtime never copies one of these numbers by hand.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# ViLD prompt templates (official `VILD_PROMPT` in frozenseg/frozenseg.py).
VILD_TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
    "This is a photo of a {}",
    "There is a {} in the scene",
    "There is the {} in the scene",
    "a photo of a {} in the scene",
    "a photo of a small {}.",
    "a photo of a medium {}.",
    "a photo of a large {}.",
    "This is a photo of a small {}.",
    "This is a photo of a medium {}.",
    "This is a photo of a large {}.",
    "There is a small {} in the scene.",
    "There is a medium {} in the scene.",
    "There is a large {} in the scene.",
)


CONTEXT_LENGTH = 77  # CLIP's text context, in tokens


@dataclass(frozen=True)
class SamConfig:
    """segment-anything ImageEncoderViT hyper-parameters (`build_sam.py`)."""

    embed_dim: int
    depth: int
    num_heads: int
    global_attn_indexes: tuple[int, ...]
    window_size: int = 14
    patch_size: int = 16
    image_size: int = 1024
    out_chans: int = 256


SAM_VARIANTS: dict[str, SamConfig] = {
    "vit_b": SamConfig(768, 12, 12, (2, 5, 8, 11)),
    "vit_l": SamConfig(1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": SamConfig(1280, 32, 16, (7, 15, 23, 31)),
}


@dataclass(frozen=True)
class Preprocessing:
    """Input constants of the official `FrozenSeg.forward` and its test-time resize."""

    clip_mean: tuple[float, float, float] = (122.7709383, 116.7460125, 104.09373615)
    clip_std: tuple[float, float, float] = (68.5005327, 66.6321579, 70.32316305)
    sam_mean: tuple[float, float, float] = (123.675, 116.28, 103.53)
    sam_std: tuple[float, float, float] = (58.395, 57.12, 57.375)
    pad_multiple: int = 32
    sam_size: int = 1024
    resize_short: int = 800
    resize_max: int = 1333


@dataclass(frozen=True)
class Inference:
    """Classification and post-processing constants (config.py + eval yaml)."""

    ensemble_alpha: float = 0.4
    ensemble_beta: float = 0.8
    ensemble_on_valid_mask: bool = False
    object_mask_threshold: float = 0.0
    overlap_threshold: float = 0.8
    instance_topk: int = 100
    logit_scale_max: float = 100.0
    log_eps: float = 1e-8
    instance_score_eps: float = 1e-6


@dataclass(frozen=True)
class Preset:
    """One FrozenSeg variant.

    `clip_model` names an open_clip config (built with no download); `clip_config` overrides it
    with an explicit config dict (used by the small test presets).
    """

    name: str
    clip_model: str
    clip_kind: str  # "convnext" or "resnet"
    clip_channels: tuple[int, int, int, int]  # res2..res5
    embed_dim: int
    sam: SamConfig
    sam_variant: str
    clip_config: dict[str, Any] | None = None
    clip_quick_gelu: bool = False
    hidden_dim: int = 256
    num_queries: int = 250
    dec_layers: int = 9
    nheads: int = 8
    dim_feedforward: int = 2048
    enc_layers: int = 6
    enc_nheads: int = 8
    enc_points: int = 4
    enc_ffn: int = 1024
    enc_levels: int = 3
    gn_groups: int = 32
    sam_feature_fuse_level: int = 0
    sam_query_fuse_level: int = 2
    context_length: int = CONTEXT_LENGTH
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    inference: Inference = field(default_factory=Inference)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_CONVNEXT_L = dict(
    clip_model="convnext_large_d_320",
    clip_kind="convnext",
    clip_channels=(192, 384, 768, 1536),
    embed_dim=768,
)

_TINY_CONVNEXT_CLIP = {
    "embed_dim": 64,
    "vision_cfg": {
        "timm_model_name": "convnext_atto",
        "timm_model_pretrained": False,
        "timm_pool": "",
        "timm_proj": "mlp",
        "timm_drop": 0.0,
        "timm_drop_path": 0.0,
        "image_size": 64,
    },
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}

_TINY_RESNET_CLIP = {
    "embed_dim": 64,
    "vision_cfg": {"layers": [1, 1, 1, 1], "width": 16, "image_size": 64},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}

# The small presets take smaller inputs as well: SAM at 512 (32 x 32 tokens, padded to the 14-token
# windows as 64 x 64 is at 1024) and a 384-pixel shortest edge, longest at most 640 (so a side down
# to half the other still pads to the graphs' 320-pixel minimum). Every code path is the full
# preset's, at a quarter of the pixels: the test suite's hundreds of tiny-preset runs cost that less.
_TINY_SAM = SamConfig(embed_dim=64, depth=2, num_heads=2, global_attn_indexes=(1,), image_size=512)
_TINY_PREPROCESSING = Preprocessing(sam_size=512, resize_short=384, resize_max=640)

# hidden_dim stays 256: the query injector feeds the SAM neck (256 channels) through the same
# projection as the decoder's own features, so the two widths must agree.
_TINY_DECODER = dict(
    num_queries=12,
    dec_layers=3,
    nheads=4,
    dim_feedforward=128,
    enc_layers=1,
    enc_nheads=4,
    enc_ffn=128,
)


def _sam(variant: str) -> dict[str, Any]:
    return {"sam": SAM_VARIANTS[variant], "sam_variant": variant}


PRESETS: dict[str, Preset] = {
    "convnext_large_vit_b": Preset(name="convnext_large_vit_b", **_CONVNEXT_L, **_sam("vit_b")),
    "convnext_large_vit_l": Preset(name="convnext_large_vit_l", **_CONVNEXT_L, **_sam("vit_l")),
    "convnext_large_vit_h": Preset(name="convnext_large_vit_h", **_CONVNEXT_L, **_sam("vit_h")),
    "rn50x64_vit_b": Preset(
        name="rn50x64_vit_b",
        clip_model="RN50x64",
        clip_kind="resnet",
        clip_channels=(512, 1024, 2048, 4096),
        embed_dim=1024,
        clip_quick_gelu=True,  # open_clip builds OpenAI weights with QuickGELU
        inference=Inference(ensemble_on_valid_mask=True),
        **_sam("vit_b"),
    ),
    # Small presets for tests: same modules and code paths, a fraction of the size.
    "tiny": Preset(
        name="tiny",
        clip_model="tiny-convnext",
        clip_kind="convnext",
        clip_channels=(40, 80, 160, 320),
        embed_dim=64,
        clip_config=_TINY_CONVNEXT_CLIP,
        sam=_TINY_SAM,
        sam_variant="tiny",
        preprocessing=_TINY_PREPROCESSING,
        **_TINY_DECODER,
    ),
    "tiny_resnet": Preset(
        name="tiny_resnet",
        clip_model="tiny-resnet",
        clip_kind="resnet",
        clip_channels=(64, 128, 256, 512),
        embed_dim=64,
        clip_config=_TINY_RESNET_CLIP,
        clip_quick_gelu=True,
        sam=_TINY_SAM,
        sam_variant="tiny",
        preprocessing=_TINY_PREPROCESSING,
        inference=Inference(ensemble_on_valid_mask=True),
        **_TINY_DECODER,
    ),
}

DEFAULT_PRESET = "convnext_large_vit_b"
# Statistics of synthetic weights: default (near initialisation) or stress (far from it, as
# trained weights are, so that float32 rounding shows). Here, torch-free, for the CLI's choices.
SYNTHETIC_MODES = ("default", "stress")


def get_preset(name: str) -> Preset:
    """Look a preset up by name, with an error that lists the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ValueError(f"unknown preset {name!r}; known presets: {known}") from None
