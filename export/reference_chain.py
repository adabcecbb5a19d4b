"""The PyTorch reference chain over many images and vocabularies, in float32 or float64.

Stage by stage rather than image by image: each encoder runs once per image (not once per
image and vocabulary), and in float64 only one subgraph's copy exists at a time, so the float64
truth of the full-size model costs one graph's doubled weights, not four.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

import numpy as np
import torch

from frozenseg_export.noise_floor import float64_copy
from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.pipeline import VocabularyTensors, encode_vocabulary
from frozenseg_runtime import graphs
from frozenseg_runtime.image.preprocess import PreparedImage
from frozenseg_runtime.progress import Say, quiet
from frozenseg_runtime.text.vocabulary import Vocabulary

Raw = dict[str, np.ndarray]  # pred_logits, pred_masks, class_probs; batch dimension dropped


def _precision(module: torch.nn.Module, float64: bool):
    return float64_copy(module) if float64 else nullcontext(module)


def _tensor(array: np.ndarray, float64: bool) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(array))
    return t.double() if float64 else t


@torch.no_grad()
def encode_vocabularies(model: FrozenSegModel, vocabularies: dict[str, Vocabulary],
                        float64: bool, train: Vocabulary | None = None) -> dict[str, VocabularyTensors]:
    """Each vocabulary through the reference text encoder (one float64 copy for all)."""
    with _precision(model.clip_text, float64) as text:
        return {name: encode_vocabulary(model, vocab, train, text_encoder=text)
                for name, vocab in vocabularies.items()}


@torch.no_grad()
def run_chain(model: FrozenSegModel, images: Sequence[PreparedImage],
              vocabularies: dict[str, VocabularyTensors], float64: bool,
              say: Say = quiet) -> dict[str, list[Raw]]:
    """Raw decoder outputs per vocabulary name, one per image, stage by stage."""
    label = "float64" if float64 else "float32"
    with _precision(model.clip_image, float64) as clip:
        clip_features = [tuple(clip(_tensor(p.clip_input, float64))) for p in images]
    say(f"reference {label}: CLIP image encoder on {len(images)} images")
    with _precision(model.sam_image, float64) as sam:
        sam_embeddings = [sam(_tensor(p.sam_input, float64)) for p in images]
    say(f"reference {label}: SAM image encoder on {len(images)} images")
    out: dict[str, list[Raw]] = {}
    with _precision(model.decoder, float64) as decoder:
        for name, vt in vocabularies.items():
            emb = vt.text_embeddings.double() if float64 else vt.text_embeddings.float()
            out[name] = []
            for feats, sam_embedding in zip(clip_features, sam_embeddings):
                logits, masks, probs = decoder(*feats, sam_embedding, emb, vt.synonym_mask, vt.seen)
                out[name].append({"pred_logits": logits[0].numpy(), "pred_masks": masks[0].numpy(),
                                  "class_probs": probs[0].numpy()})
            say(f"reference {label}: decoder, vocabulary {name}")
    return out


@torch.no_grad()
def run_chain_tensors(model: FrozenSegModel, images: Sequence[PreparedImage], vocabulary: VocabularyTensors,
                      float64: bool, say: Say = quiet) -> list[dict[str, np.ndarray]]:
    """Every subgraph's outputs per image, named `graph/output` as the registry names them (batch
    dropped): what `check` compares tensor by tensor. Stage by stage, like `run_chain`."""
    label = "float64" if float64 else "float32"
    clip_names = graphs.OUTPUTS[graphs.CLIP_IMAGE]
    (sam_name,) = graphs.OUTPUTS[graphs.SAM_IMAGE]
    out: list[dict[str, np.ndarray]] = [{} for _ in images]
    with _precision(model.clip_image, float64) as clip:
        for i, p in enumerate(images):
            feats = clip(_tensor(p.clip_input, float64))
            out[i].update({f"{graphs.CLIP_IMAGE}/{n}": f for n, f in zip(clip_names, feats)})
            say(f"reference {label}: CLIP image encoder, image {i + 1}/{len(images)}")
    with _precision(model.sam_image, float64) as sam:
        for i, p in enumerate(images):
            out[i][f"{graphs.SAM_IMAGE}/{sam_name}"] = sam(_tensor(p.sam_input, float64))
            say(f"reference {label}: SAM image encoder, image {i + 1}/{len(images)}")
    emb = vocabulary.text_embeddings.double() if float64 else vocabulary.text_embeddings.float()
    with _precision(model.decoder, float64) as decoder:
        for i, tensors in enumerate(out):
            feats = [tensors[f"{graphs.CLIP_IMAGE}/{n}"] for n in clip_names]
            answers = decoder(*feats, tensors[f"{graphs.SAM_IMAGE}/{sam_name}"], emb,
                              vocabulary.synonym_mask, vocabulary.seen)
            tensors.update({f"{graphs.DECODER}/{n}": a for n, a in zip(graphs.OUTPUTS[graphs.DECODER], answers)})
            say(f"reference {label}: decoder, image {i + 1}/{len(images)}")
    text = emb.numpy()
    return [{**{k: v[0].numpy() for k, v in t.items()}, TEXT_EMBEDDINGS: text} for t in out]


TEXT_EMBEDDINGS = f"{graphs.CLIP_TEXT}/text_embeddings"  # template-averaged, classes x synonyms


@torch.no_grad()
def run_decoder_float64(model: FrozenSegModel, inputs: Sequence[dict[str, np.ndarray]],
                        vocabulary: VocabularyTensors, say: Say = quiet) -> list[dict[str, np.ndarray]]:
    """The float64 decoder on given (float32) encoder outputs and text embeddings: the truth for
    judging a deployed decoder on exactly those inputs, apart from the encoders' rounding."""
    clip_names = graphs.OUTPUTS[graphs.CLIP_IMAGE]
    (sam_name,) = graphs.OUTPUTS[graphs.SAM_IMAGE]
    emb = torch.from_numpy(np.ascontiguousarray(inputs[0][TEXT_EMBEDDINGS])).double() if inputs else None
    out = []
    with _precision(model.decoder, True) as decoder:
        for i, tensors in enumerate(inputs):
            feats = [_tensor(tensors[f"{graphs.CLIP_IMAGE}/{n}"][None], True) for n in clip_names]
            answers = decoder(*feats, _tensor(tensors[f"{graphs.SAM_IMAGE}/{sam_name}"][None], True), emb,
                              vocabulary.synonym_mask, vocabulary.seen)
            out.append({f"{graphs.DECODER}/{n}": a[0].numpy() for n, a in zip(graphs.OUTPUTS[graphs.DECODER], answers)})
            say(f"reference float64: decoder on the float32 encoders' outputs, image {i + 1}/{len(inputs)}")
    return out
