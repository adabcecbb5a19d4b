"""Real inputs for every graph, made by running the FP32 graphs on images.

Calibration and accuracy measurement both need what each graph really sees: the encoders see
pre-processed images, the decoder sees the FP32 encoders' features and a vocabulary's text
embeddings, the text encoder sees tokenised prompts. The runtime's own Segmenter produces
them, so the pre-processing is the product's, not a copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frozenseg_export.errors import CalibrationImageError
from frozenseg_runtime import graphs
from frozenseg_runtime.image.loading import IMAGE_SUFFIXES
from frozenseg_runtime.manifest import Manifest
from frozenseg_runtime.progress import Say
from frozenseg_runtime.segmenter import Segmenter, decoder_feed
from frozenseg_runtime.text.cache import MEMORY_ONLY
from frozenseg_runtime.text.vocabulary import Vocabulary, parse_vocabulary

Feed = dict[str, np.ndarray]

# Classes the training vocabulary does not have, so the out-of-vocabulary path is exercised.
UNSEEN_CLASSES = ("lighthouse", "kayak", "cactus", "waterfall", "zebra crossing", "harp",
                  "stalactite", "windmill")
PROMPTS_PER_TEXT_FEED = 56  # 4 classes x 14 templates


def image_files(folder: str | Path, limit: int | None = None) -> list[Path]:
    """Image files of a folder, sorted by name so the set (and its cache key) is stable."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CalibrationImageError(f"calibration image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise CalibrationImageError(
            f"{folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); calibration needs "
            f"a few representative photos")
    return files[:limit] if limit else files


def measurement_vocabulary(manifest: Manifest, seen_classes: int = 40) -> Vocabulary:
    """Training classes the checkpoint knows plus unseen ones, so both heads take part."""
    train = manifest.constants["train_vocabulary"]
    names = [list(n) for n in train["names"][:seen_classes]] + [[c] for c in UNSEEN_CLASSES]
    return parse_vocabulary(names)


@dataclass
class GraphFeeds:
    """Inputs per graph and a digest of all of them (the calibration cache key's data part)."""

    feeds: dict[str, list[Feed]]

    def digest(self, graph: str) -> str:
        h = hashlib.sha256()
        for feed in self.feeds[graph]:
            for name in sorted(feed):
                value = np.ascontiguousarray(feed[name])
                h.update(f"{name}{value.dtype}{value.shape}".encode())
                h.update(value.tobytes())
        return h.hexdigest()


def collect_feeds(manifest: Manifest, image_sets: dict[str, Sequence[str | Path | np.ndarray]],
                  vocabulary: Vocabulary, say: Say, text_feeds: int = 4) -> dict[str, GraphFeeds]:
    """Run the FP32 graphs on each named set of images and keep every graph's inputs.

    One runtime serves every set (its sessions are the largest memory users of the whole
    quantize step), without ONNX Runtime's memory arena so full-size models fit in RAM."""
    sets: dict[str, GraphFeeds] = {}
    with Segmenter.open(manifest.with_precision("fp32"), backend="onnxruntime-cpu", cache_dir=MEMORY_ONLY,
                   memory_arena=False) as seg:
        say(f"encoding the {len(vocabulary.names)}-class measurement vocabulary with the FP32 text graph")
        state = seg.encode_vocabulary(vocabulary)
        tokens = seg.prompt_tokens([n[0] for n in vocabulary.names])
        text = seg.text_batches(tokens[: text_feeds * PROMPTS_PER_TEXT_FEED], PROMPTS_PER_TEXT_FEED)
        for set_name, images in image_sets.items():
            feeds: dict[str, list[Feed]] = {name: [] for name in graphs.GRAPHS}
            feeds[graphs.CLIP_TEXT] = [{"tokens": batch} for batch in text]
            for i, image in enumerate(images, 1):
                prepared = seg.prepare(image)
                feeds[graphs.CLIP_IMAGE].append({"image": prepared.clip_input})
                feeds[graphs.SAM_IMAGE].append({"image": prepared.sam_input})
                feeds[graphs.DECODER].append(decoder_feed(seg.encode_image(prepared), state))
                say(f"{set_name}: FP32 features of image {i}/{len(images)} "
                    f"({prepared.clip_input.shape[2]}x{prepared.clip_input.shape[3]})")
            sets[set_name] = GraphFeeds(feeds)
    return sets
