"""Synthetic weights give finite, informative outputs: masks of both signs, classes far from
uniform, queries that differ in their class scores."""

from __future__ import annotations

import numpy as np
import pytest

from frozenseg_reference.pipeline import encode_vocabulary, preprocessing_constants, run_subgraphs
from frozenseg_runtime.image.preprocess import preprocess
from frozenseg_runtime.text.vocabulary import parse_vocabulary


@pytest.mark.parametrize("model_name", ["tiny_model", "tiny_resnet_model"])
def test_synthetic_outputs_are_informative(request, model_name, sample_image):
    model = request.getfixturevalue(model_name)
    vocab = parse_vocabulary("person,sky,tree,car,grass,road,dog,wall")
    prepared = preprocess(sample_image, preprocessing_constants(model.preset), None)
    raw = run_subgraphs(model, prepared, encode_vocabulary(model, vocab))
    masks, probs = raw["pred_masks"], raw["class_probs"]
    assert all(np.isfinite(v).all() for v in raw.values())
    positive = (masks > 0).mean(axis=(1, 2))
    assert 0.1 < positive.mean() < 0.9, "mask logits should take both signs"
    assert np.allclose(probs.sum(-1), 1.0, atol=1e-4)
    uniform = 1.0 / (vocab.num_classes + 1)
    assert probs.max(-1).mean() > 2 * uniform, "class probabilities should not be uniform"
    assert np.ptp(probs, axis=0).max() > 0.05, "queries should differ in their class scores"
