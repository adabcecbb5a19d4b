"""The released configuration at full size (slow: ~2.4 GB of weights, minutes on 2 cores)."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_model():
    from frozenseg_reference.build import build_frozenseg

    return build_frozenseg("convnext_large_vit_b")


def test_official_key_counts(full_model):
    """Counts from the released checkpoint's state dict (FrozenSeg notes), minus the SAM prompt
    encoder / mask decoder and the criterion buffer, which inference does not use."""
    keys = list(full_model.official_state_dict())
    prefixes = collections.Counter()
    for key in keys:
        for prefix in ("backbone.clip_model.visual.", "backbone.clip_model.", "sam.image_encoder.",
                       "sem_seg_head.pixel_decoder.", "sem_seg_head.predictor.", "void_embedding."):
            if key.startswith(prefix):
                prefixes[prefix] += 1
                break
    assert prefixes["backbone.clip_model.visual."] == 345
    assert prefixes["backbone.clip_model.visual."] + prefixes["backbone.clip_model."] == 543
    assert prefixes["sam.image_encoder."] == 177
    assert prefixes["sem_seg_head.pixel_decoder."] == 218
    assert prefixes["sem_seg_head.predictor."] == 202
    assert prefixes["void_embedding."] == 1
    assert len(keys) == 543 + 177 + 420 + 1


def test_forward_640(full_model):
    from frozenseg_reference.pipeline import encode_vocabulary, preprocessing_constants, run_subgraphs
    from frozenseg_runtime.image.preprocess import preprocess
    from frozenseg_runtime.text.vocabulary import parse_vocabulary

    image = (np.random.default_rng(0).random((640, 640, 3)) * 255).astype(np.uint8)
    prepared = preprocess(image, preprocessing_constants(full_model.preset), None)
    vocab = parse_vocabulary("person,sky,tree,car,grass,road,dog,wall")
    with torch.no_grad():
        raw = run_subgraphs(full_model, prepared, encode_vocabulary(full_model, vocab))
    assert raw["pred_masks"].shape == (250, 160, 160)
    assert raw["class_probs"].shape == (250, 9)
    assert all(np.isfinite(v).all() for v in raw.values())
    assert 0.05 < (raw["pred_masks"] > 0).mean() < 0.95
