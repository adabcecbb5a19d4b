"""Deterministic synthetic weights, so tests and benchmarks run without downloads.

Each tensor is drawn from its own generator seeded by (seed, official key), so values do not
depend on construction order. Two modes:

- `default`: scales follow fan-in, norms start near identity, layer scales and logit scales are
  set so that activations stay finite and outputs are informative: mask logits of both signs and
  class scores far from uniform.
- `stress`: statistics far from any initialisation, as a trained checkpoint's are: sharper
  attention (query and key rows x4), large positional and query embeddings, ConvNeXt layer
  scales around 0.1 (trained CLIP ConvNeXt values, not the 1e-6 of an initialisation), the
  decoder's attention output projections and mask-pooling projection scaled down (x0.3), and
  confident masks: a mask embedding with gain 12 over mask features that carry a per-channel
  offset (`mask_features.bias` with std 2), so each query's mask has an overall sign and some
  queries' masks are empty at one pooling grid or another, as trained decoders' are. Float32
  rounding alone then moves the decoder's outputs visibly, which is what the export's
  noise-floor verification must take in its stride; empty masks are where graphs divide by zero.
"""

from __future__ import annotations

import math
import zlib

import torch

from frozenseg_reference.errors import SyntheticModeError
from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.presets import SYNTHETIC_MODES

CLIP_LOGIT_SCALE = math.log(100.0)  # what trained CLIP models reach (the clamp)
# The decoder's own scale keeps the official initial value: at 100 the in-vocabulary softmax
# is so sharp that float32 rounding alone (PyTorch fp32 vs fp64) moves class probabilities
# by ~1e-4, which would drown the export parity checks in noise.
DECODER_LOGIT_SCALE = math.log(1 / 0.07)

# Official keys of attention input projections whose rows are (query, key, value) stacked.
_QKV_SUFFIXES = ("attn.in_proj_weight", "attn.qkv.weight")  # also self_attn., multihead_attn.
_SEPARATE_QK_SUFFIXES = ("q_proj.weight", "k_proj.weight")
_STRESS_POSITIONAL = ("positional_embedding", "pos_embed", "query_embed.weight", "level_embed",
                      "level_embed.weight")
_STRESS_MASK_EMBED_LAST = "predictor.mask_embed.layers.2.weight"
_STRESS_MASK_FEATURE_OFFSET = "pixel_decoder.mask_features.bias"
_STRESS_DAMPED = "_mask_pooling_proj.1.weight"  # and the decoder's attention output projections
STRESS_DAMPING = 0.3


def synthetic_tensor(
    key: str, like: torch.Tensor, seed: int, deform_heads: int = 8, deform_points: int = 4,
    mode: str = "default",
) -> torch.Tensor:
    """The synthetic value of one official key."""
    if mode == "stress":
        stressed = _stress_tensor(key, like, _generator(key, seed))
        if stressed is not None:
            return stressed
    gen = _generator(key, seed)
    shape, name = like.shape, key.rsplit(".", 1)[-1]

    def normal(std: float, mean: float = 0.0) -> torch.Tensor:
        return torch.randn(shape, generator=gen) * std + mean

    if not like.is_floating_point():
        return torch.zeros_like(like)
    if name == "logit_scale":
        scale = DECODER_LOGIT_SCALE if key.startswith("sem_seg_head.") else CLIP_LOGIT_SCALE
        return torch.full(shape, scale)
    if name == "running_var":
        return 1.0 + torch.rand(shape, generator=gen) * 0.2
    if name in ("running_mean", "bias"):
        if key.endswith("sampling_offsets.bias"):
            return _sampling_grid(deform_heads, deform_points, shape[0]) + normal(0.1)
        return normal(0.02)
    if name == "gamma":  # ConvNeXt layer scale
        return normal(0.02, 0.1)
    if key.endswith("token_embedding.weight"):
        # Unit-scale token embeddings: the class name, not the shared template and end token,
        # must dominate the text features, or every class gets the same embedding.
        return normal(1.0)
    if name in ("positional_embedding", "pos_embed"):
        return normal(0.02 if like.dim() != 2 or "attnpool" not in key else shape[-1] ** -0.5)
    if name.startswith("rel_pos"):
        return normal(0.02)
    if key.endswith(("query_feat.weight", "query_embed.weight", "level_embed", "level_embed.weight",
                     "void_embedding.weight")):
        return normal(1.0)
    if like.dim() == 1:  # LayerNorm / GroupNorm / BatchNorm weight
        return normal(0.1, 1.0)
    fan_in = shape[0] if name == "text_projection" else math.prod(shape[1:])
    std = 1.0 / math.sqrt(fan_in)
    if key.endswith(("sampling_offsets.weight", "attention_weights.weight")):
        std *= 0.1
    if "predictor.transformer_" in key and key.endswith("out_proj.weight"):
        std *= 0.3  # attention averages over near-identical keys; keep the queries distinct
    return normal(std)


def _generator(key: str, seed: int) -> torch.Generator:
    return torch.Generator().manual_seed((zlib.crc32(key.encode()) ^ (seed * 0x9E3779B1)) & 0xFFFFFFFF)


def _stress_tensor(key: str, like: torch.Tensor, gen: torch.Generator) -> torch.Tensor | None:
    """The stress mode's value of one key, or None where it keeps the default (integer buffers,
    logit scales, batch-norm statistics, ConvNeXt layer scales, the deformable-attention
    sampling grid, learned query features and the void embedding)."""
    shape, name = like.shape, key.rsplit(".", 1)[-1]
    keep_default = (
        not like.is_floating_point()
        or name in ("logit_scale", "running_var", "running_mean", "gamma")
        or key.endswith(("sampling_offsets.bias", "query_feat.weight", "void_embedding.weight"))
    )
    if keep_default:
        return None

    def normal(std: float, mean: float = 0.0) -> torch.Tensor:
        return torch.randn(shape, generator=gen) * std + mean

    if key.endswith("token_embedding.weight"):
        return normal(1.0)
    if key.endswith(_STRESS_POSITIONAL):
        return normal(0.5)
    if key.endswith(_STRESS_MASK_FEATURE_OFFSET):
        return normal(2.0)
    if name == "bias":
        return normal(0.02)
    if like.dim() == 1:  # LayerNorm / GroupNorm / BatchNorm weight
        return normal(0.05, 1.0)
    fan_in = shape[0] if name == "text_projection" else math.prod(shape[1:])
    value = normal(1.0 / math.sqrt(fan_in))
    if key.endswith(_QKV_SUFFIXES):
        rows = shape[0] // 3
        value[: 2 * rows] *= 4.0  # query and key rows: sharper attention
    elif key.endswith(_SEPARATE_QK_SUFFIXES):
        value *= 4.0
    elif key.endswith(_STRESS_MASK_EMBED_LAST):
        value *= 12.0
    elif key.endswith(_STRESS_DAMPED) or ("predictor.transformer_" in key and key.endswith("out_proj.weight")):
        value *= STRESS_DAMPING
    return value


def _sampling_grid(heads: int, points: int, n: int) -> torch.Tensor:
    """The official MSDeformAttn bias pattern: points 1..P pixels out along each head's ray,
    flattened as (heads, levels, points, 2); `n` = heads*levels*points*2 of the layer."""
    levels = n // (heads * points * 2)
    thetas = torch.arange(heads, dtype=torch.float32) * (2.0 * math.pi / heads)
    grid = torch.stack([thetas.cos(), thetas.sin()], -1)
    grid = (grid / grid.abs().max(-1, keepdim=True)[0]).view(heads, 1, 1, 2)
    grid = grid.repeat(1, levels, points, 1)
    grid = grid * torch.arange(1, points + 1, dtype=torch.float32).view(1, 1, points, 1)
    return grid.reshape(-1)


# Probe words for the text-projection adjustment below (any generic nouns serve).
_PROBE_WORDS = ("person", "sky", "tree", "car", "grass", "road", "dog", "wall", "water", "cat",
                "building", "chair", "table", "bird", "floor", "mountain", "boat", "lamp")


def synthetic_state_dict(
    model: FrozenSegModel, seed: int = 0, mode: str = "default"
) -> dict[str, torch.Tensor]:
    """Official-key state dict with synthetic values for every weight the model uses."""
    if mode not in SYNTHETIC_MODES:
        raise SyntheticModeError(f"synthetic weights' mode must be one of "
                                 f"{', '.join(SYNTHETIC_MODES)} (--synthetic), got {mode!r}")
    heads, points = model.preset.enc_nheads, model.preset.enc_points
    state = {
        model.official_key(key): synthetic_tensor(
            model.official_key(key), value, seed, heads, points, mode
        )
        for key, value in model.state_dict().items()
    }
    _remove_common_text_direction(model, state)
    return state


@torch.no_grad()
def _remove_common_text_direction(model: FrozenSegModel, state: dict[str, torch.Tensor]) -> None:
    """A random text tower maps every prompt to nearly the same direction (the shared template
    and end token dominate), which makes all classes look alike. Project that common direction,
    measured on a few probe prompts, out of the text projection."""
    from frozenseg_reference.text_classifier import tokenize

    key = model.official_key("clip_text.text_projection")
    text = model.clip_text
    saved = {k: v.clone() for k, v in text.state_dict().items()}
    text.load_state_dict({k: state[model.official_key("clip_text." + k)] for k in saved})
    tokens = tokenize([f"a photo of a {w}." for w in _PROBE_WORDS], model.preset.context_length)
    feats = torch.nn.functional.normalize(text(tokens), dim=-1)
    text.load_state_dict(saved)
    common = torch.nn.functional.normalize(feats.mean(0), dim=0)
    projection = state[key]
    state[key] = projection - (projection @ common)[:, None] * common[None, :]
