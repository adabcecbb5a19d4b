"""Strict loading of official (detectron2-format) FrozenSeg checkpoints.

A checkpoint is a dict whose `model` entry is the state dict of the whole official `FrozenSeg`
module. Every weight the subgraphs use must be present with the right shape; any other key is an
error, except the SAM prompt encoder / mask decoder and the training-only criterion buffer.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from frozenseg_reference.errors import CheckpointError
from frozenseg_reference.model import UNUSED_PREFIXES, FrozenSegModel

_SHOWN = 20


def read_checkpoint(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The state dict inside a detectron2 checkpoint, loaded with `weights_only=True`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist or is not a file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file or pickled code that weights_only refuses
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("model"), dict):
        keys = list(obj)[:5] if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(
            f"{path} is not a detectron2 checkpoint: expected a dict with a 'model' state dict, "
            f"got {keys}"
        )
    return obj["model"]


def check_state_dict(model: FrozenSegModel, state: dict[str, torch.Tensor]) -> dict[str, str]:
    """Map our keys to checkpoint keys; raise CheckpointError naming every problem."""
    ours = model.state_dict()
    mapping = {key: model.official_key(key) for key in ours}
    missing = [theirs for theirs in mapping.values() if theirs not in state]
    wrong_shape = [
        f"{theirs}: checkpoint {tuple(state[theirs].shape)}, model {tuple(ours[key].shape)}"
        for key, theirs in mapping.items()
        if theirs in state and tuple(state[theirs].shape) != tuple(ours[key].shape)
    ]
    used = set(mapping.values())
    unexpected = [k for k in state if k not in used and not k.startswith(UNUSED_PREFIXES)]
    problems = []
    for title, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", wrong_shape)):
        if keys:
            shown = ", ".join(sorted(keys)[:_SHOWN])
            more = f" (+{len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else ""
            problems.append(f"{len(keys)} {title}: {shown}{more}")
    if problems:
        raise CheckpointError(
            f"checkpoint does not match preset {model.preset.name!r}: " + "; ".join(problems)
        )
    return mapping


def load_state_dict(model: FrozenSegModel, state: dict[str, torch.Tensor]) -> None:
    """Copy an official-key state dict into the model (float32), strictly."""
    mapping = check_state_dict(model, state)
    converted = {
        key: state[theirs].to(dtype=ours.dtype)
        for (key, theirs), ours in zip(mapping.items(), model.state_dict().values())
    }
    model.load_state_dict(converted, strict=True)


def load_checkpoint(model: FrozenSegModel, path: str | os.PathLike) -> None:
    load_state_dict(model, read_checkpoint(path))
