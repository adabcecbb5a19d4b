"""The four subgraphs of FrozenSeg, built from a preset, and their map to official key names."""

from __future__ import annotations

import copy

import open_clip
import torch
from torch import nn

from frozenseg_reference.classification import AttnPoolOutOfVocabHead, ConvNextOutOfVocabHead
from frozenseg_reference.clip_image import ConvNextImageEncoder, ResNetImageEncoder
from frozenseg_reference.clip_text import ClipTextEncoder
from frozenseg_reference.decoder import FrozenSegDecoder
from frozenseg_reference.presets import Preset
from frozenseg_reference.sam_image import SamImageEncoder
from frozenseg_runtime.progress import quiet_root_logger

# Our module prefix -> official checkpoint prefix (detectron2 `FrozenSeg` state dict).
_CLIP = "backbone.clip_model."
KEY_PREFIXES_CONVNEXT: tuple[tuple[str, str], ...] = (
    ("clip_image.", _CLIP + "visual.trunk."),
    ("decoder.oov_head.trunk_head.", _CLIP + "visual.trunk.head."),
    ("decoder.oov_head.visual_head.", _CLIP + "visual.head."),
)
KEY_PREFIXES_RESNET: tuple[tuple[str, str], ...] = (
    ("clip_image.", _CLIP + "visual."),
    ("decoder.oov_head.attnpool.", _CLIP + "visual.attnpool."),
)
KEY_PREFIXES_COMMON: tuple[tuple[str, str], ...] = (
    ("clip_text.", _CLIP),
    ("decoder.clip_logit_scale", _CLIP + "logit_scale"),
    ("sam_image.encoder.", "sam.image_encoder."),
    ("decoder.pixel_decoder.", "sem_seg_head.pixel_decoder."),
    ("decoder.predictor.", "sem_seg_head.predictor."),
    ("decoder.void_embedding.", "void_embedding."),
)
# Official keys inference never reads.
UNUSED_PREFIXES: tuple[str, ...] = ("sam.prompt_encoder.", "sam.mask_decoder.", "criterion.")


def build_open_clip(preset: Preset) -> nn.Module:
    """The open_clip model of a preset, randomly initialised (weights come from a checkpoint), on
    the default device (the meta device under `with torch.device("meta")`, where FLOPs are
    counted without weights)."""
    if preset.clip_config is not None:
        cfg = copy.deepcopy(preset.clip_config)
        model = open_clip.CLIP(
            cfg["embed_dim"], cfg["vision_cfg"], cfg["text_cfg"], quick_gelu=preset.clip_quick_gelu
        )
    else:
        with quiet_root_logger():  # open_clip warns that no pretrained weights were loaded
            model = open_clip.create_model(
                preset.clip_model, pretrained=None, force_quick_gelu=preset.clip_quick_gelu,
                device=torch.get_default_device(),
            )
    return model.eval()


class FrozenSegModel(nn.Module):
    """Holds the four export units: `clip_image`, `sam_image`, `clip_text`, `decoder`."""

    def __init__(self, preset: Preset) -> None:
        super().__init__()
        self.preset = preset
        clip = build_open_clip(preset)
        visual = clip.visual
        if preset.clip_kind == "convnext":
            self.clip_image = ConvNextImageEncoder(visual.trunk)
            dense_norm = visual.trunk.norm_pre
            oov_head = ConvNextOutOfVocabHead(visual.trunk.head, visual.head)
        elif preset.clip_kind == "resnet":
            self.clip_image = ResNetImageEncoder(visual)
            dense_norm = nn.Identity()
            oov_head = AttnPoolOutOfVocabHead(visual.attnpool)
        else:
            raise ValueError(f"unknown CLIP kind {preset.clip_kind!r}")
        self.clip_text = ClipTextEncoder(clip)
        self.sam_image = SamImageEncoder(preset.sam)
        self.decoder = FrozenSegDecoder(preset, dense_norm, oov_head, clip.logit_scale)
        self.eval()

    def key_prefixes(self) -> tuple[tuple[str, str], ...]:
        specific = KEY_PREFIXES_CONVNEXT if self.preset.clip_kind == "convnext" else KEY_PREFIXES_RESNET
        # Longest prefix first, so that e.g. the trunk head wins over the trunk.
        return tuple(sorted(specific + KEY_PREFIXES_COMMON, key=lambda kv: -len(kv[0])))

    def official_key(self, key: str) -> str:
        """Official checkpoint key of one of our state-dict keys."""
        for ours, theirs in self.key_prefixes():
            if key.startswith(ours):
                return theirs + key[len(ours) :]
        raise KeyError(f"no official key mapping for {key!r}")

    def official_state_dict(self) -> dict[str, torch.Tensor]:
        """Our weights under official key names (what a FrozenSeg checkpoint holds)."""
        out: dict[str, torch.Tensor] = {}
        for key, value in self.state_dict().items():
            out.setdefault(self.official_key(key), value)
        return out
