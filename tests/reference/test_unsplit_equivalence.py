"""The four subgraphs chained (numpy pre/post-processing, export-friendly ops) give the same
result as the un-split forward written the official way."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from official_forward import official_forward

from frozenseg_reference.pipeline import (
    default_train_vocabulary,
    encode_vocabulary,
    postprocess_all_tasks,
    preprocessing_constants,
    run_subgraphs,
)
from frozenseg_runtime.image.preprocess import preprocess, resize_image
from frozenseg_runtime.text.vocabulary import parse_vocabulary, seen_flags

VOCABS = {
    "small": "person,sky,tree,car,grass,zebra crossing,xylophone",
    "synonyms": ["person, people, man", "sky", "tree, trees", "dog", "okapi, okapis, forest giraffe"],
}


@pytest.mark.parametrize("model_name", ["tiny_model", "tiny_resnet_model"])
@pytest.mark.parametrize("vocab_name", sorted(VOCABS))
def test_chained_subgraphs_equal_official_unsplit_forward(request, model_name, vocab_name, sample_image):
    model = request.getfixturevalue(model_name)
    vocab = parse_vocabulary(VOCABS[vocab_name])
    seen = seen_flags(vocab, default_train_vocabulary())
    assert any(seen) and not all(seen), "the vocabulary should mix seen and unseen classes"

    prepared = preprocess(sample_image, preprocessing_constants(model.preset), (96, 160))
    raw = run_subgraphs(model, prepared, encode_vocabulary(model, vocab))
    chained = postprocess_all_tasks(raw, prepared, vocab, model.preset)

    resized = torch.from_numpy(resize_image(sample_image, 96, 160).copy())
    assert resized.shape[:2] == prepared.image_size
    ref = official_forward(model, resized.permute(2, 0, 1).float(), vocab, seen, prepared.output_size)

    np.testing.assert_allclose(raw["pred_masks"], ref["pred_masks"].numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(raw["pred_logits"], ref["pred_logits"].numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(raw["class_probs"], ref["class_probs"].numpy(), atol=1e-5)
    np.testing.assert_allclose(chained["sem_seg"], ref["sem_seg"].numpy(), atol=1e-4)
    agree = (chained["sem_seg"].argmax(0) == ref["sem_seg"].numpy().argmax(0)).mean()
    assert agree >= 0.9999
    assert chained["sem_seg"].shape == (vocab.num_classes, *sample_image.shape[:2])


def test_one_decoder_serves_any_vocabulary_size(tiny_model, sample_image):
    """The decoder traced with one vocabulary size runs another: nothing depends on K or S."""
    model = tiny_model
    prepared = preprocess(sample_image, preprocessing_constants(model.preset), None)
    with torch.no_grad():
        feats = model.clip_image(torch.from_numpy(prepared.clip_input))
        sam = model.sam_image(torch.from_numpy(prepared.sam_input))

    def vocab_inputs(k: int, s: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        emb = torch.nn.functional.normalize(torch.randn(k, s, model.preset.embed_dim, generator=g), dim=-1)
        mask = torch.rand(k, s, generator=g) > 0.3
        mask[:, 0] = True
        return emb, mask, torch.rand(k, generator=g) > 0.5

    with torch.no_grad():
        traced = torch.jit.trace(model.decoder, (*feats, sam, *vocab_inputs(4, 2, 0)), check_trace=False)
        for k, s in ((9, 3), (1, 1), (150, 5)):
            inputs = (*feats, sam, *vocab_inputs(k, s, k))
            for a, b in zip(traced(*inputs), model.decoder(*inputs)):
                assert a.shape == b.shape
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
