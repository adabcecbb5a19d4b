"""Text features -> the decoder's padded vocabulary tensors (numpy; the official recipe).

Each prompt feature is L2-normalised, the templates of a synonym are averaged, the mean is
normalised again, and synonym rows are laid out as classes x synonyms with a validity mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frozenseg_runtime.text.vocabulary import Vocabulary


@dataclass(frozen=True)
class VocabularyState:
    """Everything the decoder needs about one encoded vocabulary (immutable, swapped whole)."""

    vocabulary: Vocabulary
    text_embeddings: np.ndarray  # (K, S, E) float32
    synonym_mask: np.ndarray  # (K, S) bool
    seen: np.ndarray  # (K,) bool


def l2_normalize(x: np.ndarray, axis: int = -1) -> np.ndarray:
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def average_templates(features: np.ndarray, num_templates: int) -> np.ndarray:
    """(synonyms * templates, E) prompt features -> (synonyms, E) normalised embeddings."""
    feats = l2_normalize(features.astype(np.float32))
    feats = feats.reshape(-1, num_templates, feats.shape[-1]).mean(axis=1)
    return l2_normalize(feats).astype(np.float32)


def padded_embeddings(rows: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Synonym rows (N, E) gathered into (classes, synonyms, E) by an index with -1 padding;
    padded slots hold zeros (the decoder masks them out)."""
    out = rows[np.clip(index, 0, None)]
    out[index < 0] = 0.0
    return out.astype(np.float32)
