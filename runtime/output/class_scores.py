"""The class scores every official inference starts from, and the float32 sigmoid (C++:
output/class_scores.cpp)."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function in float32; large negative inputs give 0 without a warning."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):
        return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))


def sigmoid_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`sigmoid(x)` written into `out` (which may be `x`): the same float32 operations, no temporaries."""
    with np.errstate(over="ignore"):
        np.negative(x, out=out)
        np.exp(out, out=out)
    np.add(out, np.float32(1.0), out=out)
    np.divide(np.float32(1.0), out, out=out)
    return out


def official_class_scores(class_probs: np.ndarray, log_eps: float) -> np.ndarray:
    """softmax(log(p + log_eps), -1): the scores every official inference routine starts from.

    The official code stores `log(mask_cls_probs + 1e-8)` (the manifest's `log_eps`) and each
    inference applies a softmax; this is the same computation, made stable by subtracting the
    row maximum.
    """
    p = np.asarray(class_probs, dtype=np.float32)
    logits = np.log(p + np.float32(log_eps))
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)
