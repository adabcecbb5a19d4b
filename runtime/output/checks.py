"""Checks of the decoder outputs every task takes (C++: output/checks.cpp)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_inputs(class_probs: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cast to float32 and check that the query counts agree."""
    class_probs = np.asarray(class_probs, dtype=np.float32)
    masks = np.asarray(masks, dtype=np.float32)
    if class_probs.ndim != 2 or masks.ndim != 3 or class_probs.shape[0] != masks.shape[0]:
        raise ValueError(
            f"expected class_probs (Q, C+1) and masks (Q, H, W) with the same Q, got "
            f"{class_probs.shape} and {masks.shape}"
        )
    return class_probs, masks


def check_isthing(isthing: Sequence[bool], num_classes: int) -> np.ndarray:
    """One flag per class (void excluded)."""
    flags = np.asarray(list(isthing), dtype=bool)
    if flags.shape != (num_classes,):
        raise ValueError(f"expected {num_classes} isthing flags, got {flags.shape[0]}")
    return flags
