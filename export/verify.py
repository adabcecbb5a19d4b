"""Verification of an export on ONNX Runtime (CPU): per graph and chained, against PyTorch.

Per graph: polygraphy compares every output on a few feeds (see parity.py). Chained: the numpy
pre-processing, the four ONNX graphs and the numpy post-processing against the PyTorch pipeline
on several images and two vocabularies; the figure is semantic label agreement.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.pipeline import (
    encode_vocabulary,
    postprocess,
    preprocessing_kwargs,
    run_subgraphs,
)
from frozenseg_reference.presets import VILD_TEMPLATES
from frozenseg_reference.text_classifier import tokenize
from frozenseg_runtime import graph_io as io
from frozenseg_runtime.manifest import Manifest
from frozenseg_runtime.preprocess import preprocess
from frozenseg_runtime.segmenter import Segmenter, VocabularyState
from frozenseg_runtime.segmenter import postprocess as runtime_postprocess
from frozenseg_runtime.vocabulary import Vocabulary, padded_synonym_index, parse_vocabulary

from .graph_specs import SPECS
from .parity import as_dicts, compare_graph

# Bars: (bar, absolute?). Features and embeddings: relative error; class probabilities: abs.
BARS: dict[str, tuple[float, bool]] = {
    **{name: (1e-4, False) for name in io.CLIP_FEATURES},
    "sam_embedding": (1e-4, False),
    "text_features": (1e-4, False),
    "class_probs": (1e-4, True),
    "pred_logits": (1e-3, False),
    "pred_masks": (1e-3, False),
}
LABEL_AGREEMENT_BAR = 0.9999

Say = Callable[[str], None]


def vocabulary_150() -> Vocabulary:
    """150 classes with 1-3 synonyms, made up (names need not be real)."""
    words = ["wall", "floor", "tree", "ceiling", "road", "bed", "window", "grass", "cabinet",
             "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain",
             "chair", "car", "water", "painting", "sofa", "shelf", "house", "sea"]
    names = []
    for i in range(150):
        base = f"{words[i % len(words)]} {i}"
        names.append([base] + [f"{base} variant {j}" for j in range(i % 3)])
    return parse_vocabulary(names)


VOCAB_8 = "person,sky,tree,car,grass,road,dog,wall"


def random_vocabulary_tensors(model: FrozenSegModel, vocab: Vocabulary, seed: int = 5):
    """Seen flags from the real vocabulary, unit random embeddings in its padded layout."""
    from frozenseg_reference.pipeline import VocabularyTensors, default_train_vocabulary
    from frozenseg_runtime.vocabulary import seen_flags

    _, index, mask = padded_synonym_index(vocab)
    g = np.random.default_rng(seed)
    emb = g.standard_normal((*index.shape, model.preset.embed_dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
    seen = seen_flags(vocab, default_train_vocabulary())
    return VocabularyTensors(torch.from_numpy(emb), torch.from_numpy(np.asarray(mask)),
                             torch.tensor(seen, dtype=torch.bool))


def graph_feeds(model: FrozenSegModel, name: str) -> list[dict[str, np.ndarray]]:
    """Two feeds per graph, of different dynamic sizes where the graph has any."""
    g = np.random.default_rng(7)
    if name == io.CLIP_IMAGE:
        return [{"image": g.standard_normal((1, 3, h, w)).astype(np.float32)}
                for h, w in ((320, 352), (416, 320))]
    if name == io.SAM_IMAGE:
        size = model.preset.preprocessing.sam_size
        return [{"image": g.standard_normal((1, 3, size, size)).astype(np.float32)}]
    if name == io.CLIP_TEXT:
        prompts = [t.format(c) for c in ("cat", "traffic light", "crème brûlée") for t in VILD_TEMPLATES]
        tokens = tokenize(prompts, model.preset.context_length).numpy()
        # the full context, and trailing padding dropped (what the runtime sends)
        return [{"tokens": tokens[:5]}, {"tokens": tokens},
                {"tokens": tokens[:, : int(tokens.argmax(-1).max()) + 1]}]
    feeds = []
    with torch.no_grad():
        for (h, w), (k, s) in (((320, 352), (8, 2)), ((416, 320), (150, 3))):
            feats = model.clip_image(torch.from_numpy(g.standard_normal((1, 3, h, w)).astype(np.float32)))
            size = model.preset.preprocessing.sam_size
            sam = model.sam_image(torch.from_numpy(g.standard_normal((1, 3, size, size)).astype(np.float32)))
            emb = g.standard_normal((k, s, model.preset.embed_dim)).astype(np.float32)
            emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
            mask = g.random((k, s)) > 0.4
            mask[:, 0] = True
            feed = dict(zip(io.CLIP_FEATURES, (f.numpy() for f in feats)))
            feed.update(sam_embedding=sam.numpy(), text_embeddings=emb, synonym_mask=mask,
                        seen=g.random(k) > 0.5)
            feeds.append(feed)
    return feeds


def verify_graph(model: FrozenSegModel, name: str, path: str | os.PathLike) -> list[dict]:
    spec = SPECS[name]
    report = compare_graph(spec.module(model), path, spec.inputs, spec.outputs,
                           graph_feeds(model, name), {o: BARS[o] for o in spec.outputs})
    return as_dicts(report)


def verify_chain(
    model: FrozenSegModel,
    manifest: Manifest,
    images: list[np.ndarray],
    vocabularies: dict[str, Vocabulary],
    resize: tuple[int, int] | None,
    say: Say,
    text_graph_max_classes: int | None = None,
) -> dict[str, Any]:
    """Semantic label agreement and class-probability error: the product runtime (Segmenter
    on ONNX Runtime CPU, its torch-free tokenizer and numpy code) against the PyTorch pipeline.

    A vocabulary with more than `text_graph_max_classes` classes skips the text encoders (both
    sides get the same random unit embeddings): at full size 150 classes are ~2000 prompts,
    minutes per side, and the text graph has its own per-graph parity check."""
    out: dict[str, Any] = {}
    kwargs = preprocessing_kwargs(model.preset)
    with Segmenter(manifest, backend="onnxruntime-cpu", cache_dir=False) as seg:
        for vname, vocab in vocabularies.items():
            through_text = text_graph_max_classes is None or vocab.num_classes <= text_graph_max_classes
            if through_text:
                ref_vocab = encode_vocabulary(model, vocab)
                seg.set_vocabulary(vocab)
                state = seg.vocabulary_state
            else:
                ref_vocab = random_vocabulary_tensors(model, vocab)
                state = VocabularyState(vocab, ref_vocab.text_embeddings.numpy(),
                                        ref_vocab.synonym_mask.numpy(), ref_vocab.seen.numpy())
            agree, total, prob_err = 0, 0, 0.0
            for i, image in enumerate(images):
                prepared = preprocess(image, resize=resize, **kwargs)
                ref_raw = run_subgraphs(model, prepared, ref_vocab)
                ort_raw = seg.run_graphs(seg.prepare(image, resize), state)
                ref_sem = postprocess(ref_raw, prepared, vocab, model.preset)["sem_seg"].argmax(0)
                ort_sem = runtime_postprocess(ort_raw, prepared, vocab, "semantic", seg.inference)
                agree += int((ref_sem == ort_sem.semantic_labels).sum())
                total += ref_sem.size
                prob_err = max(prob_err, float(np.abs(ref_raw["class_probs"] - ort_raw["class_probs"]).max()))
                say(f"chained parity, vocabulary {vname}: image {i + 1}/{len(images)}")
            out[vname] = {
                "classes": vocab.num_classes,
                "text_through_graphs": through_text,
                "images": len(images),
                "semantic_label_agreement": agree / total,
                "class_probs_max_abs": prob_err,
                "passed": agree / total >= LABEL_AGREEMENT_BAR,
            }
    return out
