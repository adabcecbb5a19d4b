"""The reference pipeline: shared numpy pre/post-processing around the four torch subgraphs."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import torch

from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.presets import VILD_TEMPLATES, Preset
from frozenseg_reference.text_classifier import vocabulary_tensors
from frozenseg_runtime.image.preprocess import PreparedImage, PreprocessConstants, preprocess
from frozenseg_runtime.output import postprocess as post
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary, seen_flags

Progress = Callable[[str], None]


@functools.lru_cache(maxsize=1)
def default_train_vocabulary() -> Vocabulary:
    """COCO panoptic (133 classes), the training vocabulary of the released checkpoints."""
    path = resources.files("frozenseg_reference") / "data" / "coco_panoptic.json"
    with resources.as_file(path) as p:
        return parse_vocabulary(p)


def preprocessing_constants(preset: Preset) -> PreprocessConstants:
    """The preset's pre-processing constants, as the runtime reads them from a manifest."""
    return PreprocessConstants.from_record(vars(preset.preprocessing))


@dataclass(frozen=True)
class VocabularyTensors:
    """The decoder's vocabulary inputs."""

    text_embeddings: torch.Tensor  # (K, S, E) float32
    synonym_mask: torch.Tensor  # (K, S) bool
    seen: torch.Tensor  # (K,) bool


def encode_vocabulary(
    model: FrozenSegModel, vocab: Vocabulary, train_vocab: Vocabulary | None = None,
    text_encoder: torch.nn.Module | None = None,
) -> VocabularyTensors:
    """The decoder's vocabulary inputs; `text_encoder` replaces `model.clip_text` (e.g. a
    float64 copy of it)."""
    train_vocab = default_train_vocabulary() if train_vocab is None else train_vocab
    emb, mask = vocabulary_tensors(
        model.clip_text if text_encoder is None else text_encoder, vocab, VILD_TEMPLATES,
        model.preset.context_length,
    )
    seen = torch.tensor(seen_flags(vocab, train_vocab), dtype=torch.bool)
    return VocabularyTensors(emb, mask, seen)


@torch.no_grad()
def run_subgraphs(
    model: FrozenSegModel, prepared: PreparedImage, vocab: VocabularyTensors
) -> dict[str, np.ndarray]:
    """The chained subgraphs on one prepared image -> raw decoder outputs (batch dim dropped)."""
    feats = model.clip_image(torch.from_numpy(prepared.clip_input))
    sam = model.sam_image(torch.from_numpy(prepared.sam_input))
    logits, masks, probs = model.decoder(
        *feats, sam, vocab.text_embeddings, vocab.synonym_mask, vocab.seen
    )
    return {"pred_logits": logits[0].numpy(), "pred_masks": masks[0].numpy(),
            "class_probs": probs[0].numpy()}


def postprocess_all_tasks(
    raw: dict[str, np.ndarray], prepared: PreparedImage, vocab: Vocabulary, preset: Preset
) -> dict[str, Any]:
    """Official semantic / panoptic / instance inference at the output size."""
    inf = preset.inference
    masks = post.masks_to_output(
        raw["pred_masks"], prepared.padded_size, prepared.image_size, prepared.output_size
    )
    probs = raw["class_probs"]
    panoptic, segments = post.panoptic_inference(
        probs, masks, vocab.isthing, inf.object_mask_threshold, inf.overlap_threshold, inf.log_eps
    )
    inst_masks, inst_scores, inst_classes = post.instance_inference(
        probs, masks, vocab.isthing, inf.instance_topk, things_only=True, log_eps=inf.log_eps,
        score_eps=inf.instance_score_eps
    )
    return {
        "sem_seg": post.semantic_inference(probs, masks, inf.log_eps),
        "panoptic_seg": panoptic,
        "segments_info": segments,
        "instance_masks": inst_masks,
        "instance_scores": inst_scores,
        "instance_classes": inst_classes,
    }


def predict(
    model: FrozenSegModel,
    image: np.ndarray,
    vocab: Vocabulary,
    train_vocab: Vocabulary | None = None,
    resize: tuple[int, int] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Image (H, W, 3) uint8 RGB -> raw outputs and all three segmentations at (H, W)."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    prepared = preprocess(image, preprocessing_constants(model.preset), resize)
    say(f"preprocessed to {prepared.image_size}, padded {prepared.padded_size}")
    vt = encode_vocabulary(model, vocab, train_vocab)
    say(f"encoded {vocab.num_classes} classes ({int(vt.seen.sum())} seen in training)")
    raw = run_subgraphs(model, prepared, vt)
    say("ran CLIP, SAM and decoder subgraphs")
    results = postprocess_all_tasks(raw, prepared, vocab, model.preset)
    say(f"post-processed in total {time.perf_counter() - t0:.1f} s")
    return {**raw, **results}
