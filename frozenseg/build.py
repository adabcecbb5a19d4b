"""Build a FrozenSeg reference model: a preset plus official or synthetic weights."""

from __future__ import annotations

import os

import torch

from frozenseg_reference.checkpoint import load_checkpoint, load_state_dict
from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.presets import DEFAULT_PRESET, Preset, get_preset
from frozenseg_reference.synthetic import synthetic_state_dict


def build_frozenseg(
    preset: str | Preset = DEFAULT_PRESET,
    checkpoint: str | os.PathLike | None = None,
    seed: int = 0,
    synthetic: str = "default",
) -> FrozenSegModel:
    """A model in eval mode with weights from `checkpoint`, or synthetic ones (seeded, of the
    `synthetic` mode: "default" or "stress") when None."""
    preset = get_preset(preset) if isinstance(preset, str) else preset
    with torch.no_grad():
        model = FrozenSegModel(preset)
        if checkpoint is None:
            load_state_dict(model, synthetic_state_dict(model, seed, synthetic))
        else:
            load_checkpoint(model, checkpoint)
    model.weights_source = "synthetic" if checkpoint is None else os.fspath(checkpoint)
    return model.eval()
