"""Un-split forward in the form of the official `FrozenSeg.forward`, for checking the subgraphs.

Same weights, but the official way of doing each step that the subgraphs rewrite for export:
torch preprocessing (`ImageList` padding, `F.interpolate` to 1024), the text classifier as a flat
list of synonym rows with `num_templates` and the Python max loop of `get_classification_logits`,
the official `grid_sample` deformable-attention sampler, the seen/unseen ensemble as the official
weighted sum, and torch post-processing (`sem_seg_postprocess`, `semantic_inference`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F

from frozenseg_reference.deform_attn import MSDeformAttn
from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.presets import VILD_TEMPLATES
from frozenseg_reference.text_classifier import tokenize
from frozenseg_runtime.text.vocabulary import Vocabulary


def official_text_classifier(model: FrozenSegModel, vocab: Vocabulary) -> tuple[torch.Tensor, list[int]]:
    """(sum of synonyms, E) rows and the synonym count per class (`get_text_classifier`)."""
    prompts = [t.format(name) for names in vocab.names for name in names for t in VILD_TEMPLATES]
    num_templates = [len(names) for names in vocab.names]
    tokens = tokenize(prompts, model.preset.context_length)
    feats = torch.cat([model.clip_text(tokens[i : i + 128]) for i in range(0, len(tokens), 128)])
    feats = feats / feats.norm(dim=-1, keepdim=True)
    feats = feats.reshape(feats.shape[0] // len(VILD_TEMPLATES), len(VILD_TEMPLATES), -1).mean(1)
    return feats / feats.norm(dim=-1, keepdim=True), num_templates


def official_classification_logits(x, text_classifier, logit_scale, num_templates, scale_max):
    """`get_classification_logits` as written officially (Python loop over classes)."""
    x = F.normalize(x, dim=-1)
    pred = torch.clamp(logit_scale.exp(), max=scale_max) * x @ text_classifier.T
    out, start = [], 0
    for n in num_templates:
        out.append(pred[:, :, start : start + n].max(-1).values)
        start += n
    out.append(pred[:, :, -1])
    return torch.stack(out, dim=-1)


@contextlib.contextmanager
def official_sampler(model: FrozenSegModel) -> Iterator[None]:
    """Run every deformable-attention layer with the official grid_sample fallback."""
    layers = [m for m in model.modules() if isinstance(m, MSDeformAttn)]
    for m in layers:
        m.use_grid_sample = True
    try:
        yield
    finally:
        for m in layers:
            m.use_grid_sample = False


@torch.no_grad()
def official_forward(
    model: FrozenSegModel,
    image: torch.Tensor,
    vocab: Vocabulary,
    seen: Sequence[bool],
    output_size: tuple[int, int],
) -> dict[str, torch.Tensor]:
    """image: (3, h, w) float RGB 0..255, already resized. Returns class_probs, pred_masks at
    stride 4, and sem_seg (K, H, W) at `output_size`, computed the official way."""
    pp, inf = model.preset.preprocessing, model.preset.inference
    mean = lambda v: torch.tensor(v).view(-1, 1, 1)  # noqa: E731
    h, w = image.shape[-2:]
    hp, wp = (-(-h // pp.pad_multiple) * pp.pad_multiple, -(-w // pp.pad_multiple) * pp.pad_multiple)
    sam_in = F.pad((image - mean(pp.sam_mean)) / mean(pp.sam_std), (0, wp - w, 0, hp - h))
    sam_in = F.interpolate(sam_in[None], size=(pp.sam_size,) * 2, mode="bilinear", align_corners=False)
    clip_in = F.pad((image - mean(pp.clip_mean)) / mean(pp.clip_std), (0, wp - w, 0, hp - h))[None]

    rows, num_templates = official_text_classifier(model, vocab)
    void = F.normalize(model.decoder.void_embedding.weight, dim=-1)
    classifier = torch.cat([rows, void], 0)
    # The decoder's in-vocabulary head takes the padded form; build it from the flat rows.
    padded, mask = _pad_rows(rows, num_templates)

    feats = model.clip_image(clip_in)
    sam = model.sam_image(sam_in)
    dec = model.decoder
    with official_sampler(model):
        mask_features, levels, sam_map = dec.pixel_decoder(*feats, sam)
    full_cls, full_mask = _with_void(padded, mask, void)
    logits, masks = dec.predictor(levels, mask_features, sam_map, sam, full_cls, full_mask)

    dense = dec.clip_dense_norm(feats[3])
    pooling = F.interpolate(masks, size=dense.shape[-2:], mode="bilinear", align_corners=False)
    oov = official_classification_logits(
        dec.oov_head(dense, pooling), classifier, dec.clip_logit_scale, num_templates,
        inf.logit_scale_max,
    )
    p_in = logits[..., :-1].softmax(-1)
    p_out = oov[..., :-1].softmax(-1)
    alpha, beta = inf.ensemble_alpha, inf.ensemble_beta
    if inf.ensemble_on_valid_mask:
        valid = ((pooling > 0).to(pooling).sum(-1).sum(-1) > 0).to(p_in.dtype).unsqueeze(-1)
        alpha = torch.ones_like(p_in) * alpha * valid
        beta = torch.ones_like(p_in) * beta * valid
    overlap = torch.tensor(list(seen), dtype=torch.long)
    cls = (p_in ** (1 - alpha) * p_out**alpha).log() * overlap + (
        p_in ** (1 - beta) * p_out**beta
    ).log() * (1 - overlap)
    is_void = F.softmax(logits, dim=-1)[..., -1:]
    probs = torch.cat([cls.softmax(-1) * (1.0 - is_void), is_void], dim=-1)

    mask_cls = torch.log(probs + inf.log_eps)[0]
    up = F.interpolate(masks, size=(hp, wp), mode="bilinear", align_corners=False)[0]
    up = F.interpolate(up[:, :h, :w][None], size=output_size, mode="bilinear", align_corners=False)[0]
    sem = torch.einsum("qc,qhw->chw", F.softmax(mask_cls, dim=-1)[..., :-1], up.sigmoid())
    return {"class_probs": probs[0], "pred_masks": masks[0], "pred_logits": logits[0], "sem_seg": sem}


def _pad_rows(rows: torch.Tensor, counts: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    s = max(counts)
    padded = rows.new_zeros((len(counts), s, rows.shape[-1]))
    mask = torch.zeros((len(counts), s), dtype=torch.bool)
    start = 0
    for k, n in enumerate(counts):
        padded[k, :n] = rows[start : start + n]
        mask[k, :n] = True
        start += n
    return padded, mask


def _with_void(padded, mask, void):
    s = padded.shape[1]
    void_rows = void.reshape(1, 1, -1).expand(1, s, -1)
    void_mask = torch.zeros((1, s), dtype=torch.bool)
    void_mask[0, 0] = True
    return torch.cat([padded, void_rows]), torch.cat([mask, void_mask])
