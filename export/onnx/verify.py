"""Verification of an export on ONNX Runtime (CPU), per graph and chained, on the float32 noise
floor: the truth is the PyTorch reference in float64, and the exported graphs must be about as
close to it as PyTorch's own float32 run is (noise_floor.py).

Per graph: polygraphy runs every output on a few feeds (see parity.py). Chained: the product
runtime (numpy pre-processing, the four ONNX graphs, numpy post-processing) against the reference
chain in float32 and float64 on several images and two vocabularies; the figures are semantic
label agreement and panoptic quality.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from frozenseg_export.noise_floor import (
    LABEL_ALLOWANCE,
    PANOPTIC_ALLOWANCE,
    disagreement_bar,
    max_relative_error,
)
from frozenseg_export.onnx.parity import OutputParity, compare_graph
from frozenseg_export.onnx.units import SPECS
from frozenseg_export.reference_chain import encode_vocabularies, run_chain
from frozenseg_export.segmentation_metrics import PanopticQuality
from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.pipeline import preprocessing_constants
from frozenseg_reference.presets import VILD_TEMPLATES
from frozenseg_reference.text_classifier import tokenize
from frozenseg_runtime import graphs
from frozenseg_runtime.image.preprocess import PreparedImage, preprocess
from frozenseg_runtime.manifest import Manifest
from frozenseg_runtime.progress import Say
from frozenseg_runtime.segmenter import Segmenter
from frozenseg_runtime.text.embedding import VocabularyState
from frozenseg_runtime.text.cache import MEMORY_ONLY
from frozenseg_runtime.text.tokenizer import drop_padding
from frozenseg_runtime.text.vocabulary import Vocabulary, padded_synonym_index, parse_vocabulary


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
    from frozenseg_runtime.text.vocabulary import seen_flags

    _, index, mask = padded_synonym_index(vocab)
    g = np.random.default_rng(seed)
    emb = g.standard_normal((*index.shape, model.preset.embed_dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
    seen = seen_flags(vocab, default_train_vocabulary())
    return VocabularyTensors(torch.from_numpy(emb), torch.from_numpy(np.asarray(mask)),
                             torch.tensor(seen, dtype=torch.bool))


FLAT = 0.0  # a normalised image of the mean colour: a blank frame
SATURATED = 3.0  # beyond any normalised photograph (white is about 2.2)
EDGE_SIDE = 320  # the smallest image side the graphs take


def _split_image(shape: tuple[int, ...], first: float, second: float | None, g: np.random.Generator) -> np.ndarray:
    """An image whose left half is `first` and right half `second` (random where None): one
    float64 run covers both, where a feed each would cost two."""
    image = g.standard_normal(shape).astype(np.float32)
    half = shape[-1] // 2
    image[..., :half] = first
    if second is not None:
        image[..., half:] = second
    return image


def edge_feeds(model: FrozenSegModel, name: str) -> list[dict[str, np.ndarray]]:
    """Feeds that reach what trained weights reach and random feeds rarely do, at the smallest
    sizes the graph takes: flat and saturated image regions (a flat image gives every query an
    almost uniform mask, so masks come out empty at every pooling grid and masked attention
    rows have every key masked); the empty prompt (start and end tokens only); a one-class
    vocabulary whose class has one real synonym and the rest padding."""
    g = np.random.default_rng(8)
    size = model.preset.preprocessing.sam_size
    if name == graphs.CLIP_IMAGE:
        return [{"image": _split_image((1, 3, EDGE_SIDE, EDGE_SIDE), FLAT, SATURATED, g)}]
    if name == graphs.SAM_IMAGE:
        return []  # its one random feed is half flat (random_feeds)
    if name == graphs.CLIP_TEXT:
        return [{"tokens": drop_padding(tokenize([""], model.preset.context_length).numpy())}]
    with torch.no_grad():
        sam = model.sam_image(torch.full((1, 3, size, size), FLAT)).numpy()
        feats = model.clip_image(torch.full((1, 3, EDGE_SIDE, EDGE_SIDE), FLAT))
    k, s = 1, 4
    emb = g.standard_normal((k, s, model.preset.embed_dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
    mask = np.zeros((k, s), bool)
    mask[:, 0] = True  # the synonyms are padding but the first
    feed = dict(zip(graphs.CLIP_FEATURES, (f.numpy() for f in feats)))
    feed.update(sam_embedding=sam, text_embeddings=emb, synonym_mask=mask, seen=np.ones(k, bool))
    return [feed]


def random_feeds(model: FrozenSegModel, name: str) -> list[dict[str, np.ndarray]]:
    """Random feeds of the sizes the graph registry gives (different dynamic sizes where the
    graph has any). SAM's single feed is half flat (`edge_feeds` would cost a second float64
    run of the largest encoder at its fixed 1024 x 1024)."""
    g = np.random.default_rng(7)
    sizes = graphs.REGISTRY[name].verification
    size = model.preset.preprocessing.sam_size
    if name == graphs.CLIP_IMAGE:
        return [{"image": g.standard_normal((1, 3, h, w)).astype(np.float32)}
                for h, w in sizes.image_sizes]
    if name == graphs.SAM_IMAGE:
        return [{"image": _split_image((1, 3, size, size), FLAT, None, g)}]
    if name == graphs.CLIP_TEXT:
        prompts = [t.format(c) for c in sizes.prompt_words for t in VILD_TEMPLATES]
        tokens = tokenize(prompts, model.preset.context_length).numpy()
        # the full context, and trailing padding dropped (what the runtime sends) on a third of
        # the prompts, every word among them
        return [{"tokens": tokens[:4]}, {"tokens": drop_padding(tokens[::3])}]
    feeds = []
    with torch.no_grad():
        # One SAM embedding serves every feed: the decoder's dynamic sizes are CLIP's and the
        # vocabulary's, and SAM's float32 run at 1024 x 1024 is the dearest part of a feed.
        sam = model.sam_image(torch.from_numpy(g.standard_normal((1, 3, size, size)).astype(np.float32))).numpy()
        for (h, w), (k, s) in zip(sizes.image_sizes, sizes.vocabulary_sizes, strict=True):
            feats = model.clip_image(torch.from_numpy(g.standard_normal((1, 3, h, w)).astype(np.float32)))
            emb = g.standard_normal((k, s, model.preset.embed_dim)).astype(np.float32)
            emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
            mask = g.random((k, s)) > 0.4
            mask[:, 0] = True
            feed = dict(zip(graphs.CLIP_FEATURES, (f.numpy() for f in feats)))
            feed.update(sam_embedding=sam, text_embeddings=emb, synonym_mask=mask,
                        seen=g.random(k) > 0.5)
            feeds.append(feed)
    return feeds


def verify_graph(model: FrozenSegModel, name: str, path: str | os.PathLike) -> list[OutputParity]:
    """Every output of one exported graph against the float64 reference, on its floor."""
    spec = SPECS[name]
    random = random_feeds(model, name)
    edge = edge_feeds(model, name)
    # The decoder's edge feeds are judged on the median query (parity.median_query_error says why).
    median = frozenset(range(len(random), len(random) + len(edge))) if name == graphs.DECODER else frozenset()
    return compare_graph(spec.module(model), path, spec.inputs, spec.outputs, random + edge,
                         graphs.REGISTRY[name].parity, median)


def graph_failure(name: str, parity: list[OutputParity]) -> str | None:
    """The message naming the graph and each failing output, or None when all pass."""
    failed = [p.failure() for p in parity if not p.passed]
    return f"{name}: parity with PyTorch fails: " + "; ".join(failed) if failed else None


@dataclass
class _Answers:
    """What the chained check compares: one chain's answers on one image."""

    labels: np.ndarray  # semantic labels (H, W)
    panoptic: tuple[np.ndarray, list[dict[str, Any]]]  # id map and segments
    class_probs: np.ndarray  # (Q, K + 1)


def _answers(raw: dict[str, np.ndarray], prepared: PreparedImage, vocab: Vocabulary,
             seg: Segmenter) -> _Answers:
    """Semantic and panoptic answers of raw decoder outputs, by the runtime's post-processing
    stage (the reference's is the same code)."""
    semantic = seg.postprocess(raw, prepared, "semantic", vocab)
    panoptic = seg.postprocess(raw, prepared, "panoptic", vocab)
    return _Answers(semantic.semantic_labels, (panoptic.panoptic_seg, panoptic.segments_info),
                    raw["class_probs"])


@dataclass
class _Tally:
    """Agreement of one chain with another (the truth), accumulated over images."""

    agree: int = 0
    pixels: int = 0
    panoptic: PanopticQuality = field(default_factory=PanopticQuality)
    class_probs_max_abs: float = 0.0

    def add(self, answers: _Answers, truth: _Answers) -> None:
        self.agree += int((answers.labels == truth.labels).sum())
        self.pixels += answers.labels.size
        self.panoptic.add(*answers.panoptic, *truth.panoptic)
        self.class_probs_max_abs = max(self.class_probs_max_abs, float(np.abs(
            answers.class_probs.astype(np.float64) - truth.class_probs).max()))

    @property
    def label_agreement(self) -> float:
        return self.agree / self.pixels

    @property
    def panoptic_quality(self) -> float:
        return self.panoptic.result()["pq"]


def verify_chain(
    model: FrozenSegModel,
    manifest: Manifest,
    images: list[np.ndarray],
    vocabularies: dict[str, Vocabulary],
    resize: tuple[int, int] | None,
    say: Say,
    text_graph_max_classes: int | None = None,
) -> dict[str, Any]:
    """Semantic labels and panoptic segments of the product runtime (Segmenter on ONNX Runtime
    CPU, its torch-free tokenizer and numpy code) and of the PyTorch float32 reference, each
    against the PyTorch float64 reference. The runtime passes when it disagrees with float64 at
    most `FLOOR_MULTIPLE` times as much as PyTorch float32 does, plus a small allowance.

    A vocabulary with more than `text_graph_max_classes` classes skips the text encoders (every
    chain gets the same random unit embeddings): at full size 150 classes are ~2000 prompts,
    minutes per side, and the text graph has its own per-graph parity check."""
    constants = preprocessing_constants(model.preset)
    prepared = [preprocess(image, constants, resize) for image in images]
    through = {v: text_graph_max_classes is None or vocab.num_classes <= text_graph_max_classes
               for v, vocab in vocabularies.items()}
    random_tensors = {v: random_vocabulary_tensors(model, vocab)
                      for v, vocab in vocabularies.items() if not through[v]}
    encoded = {v: vocab for v, vocab in vocabularies.items() if through[v]}
    chains = {}
    for precision, float64 in (("float32", False), ("float64", True)):
        tensors = {**encode_vocabularies(model, encoded, float64), **random_tensors}
        say(f"chained parity: reference {precision} encoded {len(encoded)} vocabularies")
        chains[precision] = run_chain(model, prepared, tensors, float64, say)

    # (chain, truth) pairs: the floor, the runtime against the truth, and (for information)
    # the runtime against PyTorch float32.
    pairs = (("float32", "float64"), ("onnxruntime", "float64"), ("onnxruntime", "float32"))
    tallies = {v: {pair: _Tally() for pair in pairs} for v in vocabularies}
    states: dict[str, VocabularyState] = {}
    with Segmenter.open(manifest, backend="onnxruntime-cpu", cache_dir=MEMORY_ONLY) as seg:
        for vname, vocab in vocabularies.items():
            if through[vname]:
                states[vname] = seg.encode_vocabulary(vocab)
            else:
                rt = random_tensors[vname]
                states[vname] = VocabularyState(vocab, rt.text_embeddings.numpy(),
                                                rt.synonym_mask.numpy(), rt.seen.numpy())
        for i, image in enumerate(prepared):
            features = seg.encode_image(image)
            for vname, vocab in vocabularies.items():
                answers = {
                    "float32": _answers(chains["float32"][vname][i], image, vocab, seg),
                    "float64": _answers(chains["float64"][vname][i], image, vocab, seg),
                    "onnxruntime": _answers(seg.decode(features, states[vname]), image, vocab, seg),
                }
                for chain, truth in pairs:
                    tallies[vname][chain, truth].add(answers[chain], answers[truth])
            say(f"chained parity: runtime on image {i + 1}/{len(prepared)}")

    out: dict[str, Any] = {}
    for vname, vocab in vocabularies.items():
        floor = tallies[vname]["float32", "float64"]
        onnx = tallies[vname]["onnxruntime", "float64"]
        label_bar = disagreement_bar(1.0 - floor.label_agreement, LABEL_ALLOWANCE)
        panoptic_bar = disagreement_bar(1.0 - floor.panoptic_quality, PANOPTIC_ALLOWANCE)
        label_ok = 1.0 - onnx.label_agreement <= label_bar
        panoptic_ok = 1.0 - onnx.panoptic_quality <= panoptic_bar
        out[vname] = {
            "classes": vocab.num_classes,
            "text_through_graphs": through[vname],
            "images": len(images),
            "semantic_label_agreement": onnx.label_agreement,
            "float32_label_agreement": floor.label_agreement,
            "label_disagreement_bar": label_bar,
            "label_agreement_vs_float32": tallies[vname]["onnxruntime", "float32"].label_agreement,
            "panoptic_quality": onnx.panoptic_quality,
            "float32_panoptic_quality": floor.panoptic_quality,
            "panoptic_disagreement_bar": panoptic_bar,
            "float32_logit_floor": max(
                max_relative_error(r32["pred_logits"], r64["pred_logits"])
                for r32, r64 in zip(chains["float32"][vname], chains["float64"][vname])),
            "class_probs_max_abs": onnx.class_probs_max_abs,
            "float32_class_probs_max_abs": floor.class_probs_max_abs,
            "passed_labels": label_ok,
            "passed_panoptic": panoptic_ok,
            "passed": label_ok and panoptic_ok,
        }
    return out


def chain_failure(vname: str, figures: dict[str, Any]) -> str | None:
    """The message naming what failed in one vocabulary's chained check, or None."""
    problems = []
    if not figures["passed_labels"]:
        problems.append(
            f"label disagreement with float64 {1 - figures['semantic_label_agreement']:.2e} exceeds "
            f"its bar {figures['label_disagreement_bar']:.2e} (float32 floor "
            f"{1 - figures['float32_label_agreement']:.2e})")
    if not figures["passed_panoptic"]:
        problems.append(
            f"1 - PQ against float64 {1 - figures['panoptic_quality']:.2e} exceeds its bar "
            f"{figures['panoptic_disagreement_bar']:.2e} (float32 floor "
            f"{1 - figures['float32_panoptic_quality']:.2e})")
    return f"chained parity fails for {vname}: " + "; ".join(problems) if problems else None
