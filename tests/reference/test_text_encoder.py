"""Tokenisation and the text classifier against open_clip and the official recipe."""

from __future__ import annotations

import open_clip
import pytest
import torch
from official_forward import official_text_classifier

from frozenseg_reference.presets import VILD_TEMPLATES
from frozenseg_reference.text_classifier import tokenize, vocabulary_tensors
from frozenseg_runtime.errors import VocabularyError
from frozenseg_runtime.text.vocabulary import parse_vocabulary

CORPUS = [
    "a photo of a cat.",
    "There is a traffic light, pole in the scene.",
    "This is a photo of a small crème brûlée",
    "a photo of a 東京タワー in the scene",
    "There is the hot-dog (food) & ketchup!! in the scene.",
    "  many   spaces\tand\ttabs  ",
    "a photo of a " + "very " * 80 + "long name.",
]


def test_tokenize_matches_open_clip():
    reference = open_clip.get_tokenizer("convnext_large_d_320")
    fits = [t for t in CORPUS if len(reference.encode(t)) + 2 <= 77]
    assert len(fits) == len(CORPUS) - 1
    assert torch.equal(tokenize(fits, 77), reference(fits))


def test_too_long_name_is_a_clear_error():
    with pytest.raises(VocabularyError, match="more than CLIP's context of 77"):
        tokenize([CORPUS[-1]], 77)


def test_vocabulary_tensors_equal_official_flat_classifier(tiny_model):
    vocab = parse_vocabulary(["person, people", "sky", "tree, trees, bush"])
    emb, mask = vocabulary_tensors(tiny_model.clip_text, vocab, VILD_TEMPLATES, 77)
    rows, counts = official_text_classifier(tiny_model, vocab)
    assert emb.shape == (3, 3, tiny_model.preset.embed_dim)
    assert mask.tolist() == [[True, True, False], [True, False, False], [True, True, True]]
    assert counts == [2, 1, 3]
    torch.testing.assert_close(emb[mask], rows, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(emb[mask].norm(dim=-1), torch.ones(6))


def test_dropping_trailing_padding_gives_the_same_features(tiny_model):
    tokens = tokenize(["a photo of a cat.", "There is a large traffic light in the scene."], 77)
    length = int(tokens.argmax(-1).max()) + 1
    with torch.no_grad():
        full = tiny_model.clip_text(tokens)
        short = tiny_model.clip_text(tokens[:, :length])
    assert length < 20
    torch.testing.assert_close(short, full, rtol=1e-5, atol=1e-6)
