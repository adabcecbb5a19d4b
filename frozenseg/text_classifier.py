"""Vocabulary -> padded text-classifier tensors (`FrozenSeg.get_text_classifier`).

Every synonym goes through the 14 templates, the CLIP text encoder, L2 normalisation, the mean
over templates and a second normalisation; the rows are laid out as (classes, synonyms, embed)
with a validity mask, the decoder's vocabulary input.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from open_clip.tokenizer import SimpleTokenizer

from frozenseg_reference.clip_text import ClipTextEncoder
from frozenseg_runtime.errors import VocabularyError
from frozenseg_runtime.text.vocabulary import Vocabulary, padded_synonym_index

_TOKENIZER: SimpleTokenizer | None = None


def tokenizer() -> SimpleTokenizer:
    global _TOKENIZER
    if _TOKENIZER is None:
        _TOKENIZER = SimpleTokenizer()
    return _TOKENIZER


def tokenize(prompts: Sequence[str], context_length: int) -> torch.Tensor:
    """open_clip token ids (N, context_length); a prompt that would be truncated is an error."""
    tok = tokenizer()
    rows = []
    for prompt in prompts:
        ids = [tok.encoder["<start_of_text>"]] + tok.encode(prompt) + [tok.encoder["<end_of_text>"]]
        if len(ids) > context_length:
            raise VocabularyError(
                f"prompt {prompt!r} is {len(ids)} tokens long, more than CLIP's context of "
                f"{context_length}: shorten the class name"
            )
        rows.append(ids + [0] * (context_length - len(ids)))
    return torch.tensor(rows, dtype=torch.int64)


@torch.no_grad()
def synonym_embeddings(
    text_encoder: ClipTextEncoder,
    synonyms: Sequence[str],
    templates: Sequence[str],
    context_length: int,
    batch_size: int = 256,
) -> torch.Tensor:
    """(N, E) template-averaged, normalised embedding of each synonym."""
    prompts = [t.format(s) for s in synonyms for t in templates]
    tokens = tokenize(prompts, context_length)
    feats = torch.cat([text_encoder(tokens[i : i + batch_size]) for i in range(0, len(tokens), batch_size)])
    feats = F.normalize(feats, dim=-1).reshape(len(synonyms), len(templates), -1).mean(1)
    return F.normalize(feats, dim=-1)


def vocabulary_tensors(
    text_encoder: ClipTextEncoder,
    vocab: Vocabulary,
    templates: Sequence[str],
    context_length: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(text_embeddings (K, S, E), synonym_mask (K, S) bool) for the decoder."""
    flat, index, mask = padded_synonym_index(vocab)
    rows = synonym_embeddings(text_encoder, flat, templates, context_length)
    index_t = torch.as_tensor(index).clamp(min=0)
    return rows[index_t], torch.as_tensor(mask, dtype=torch.bool)
