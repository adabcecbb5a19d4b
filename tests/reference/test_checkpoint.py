"""Strict loading of official-format checkpoints."""

from __future__ import annotations

import collections

import pytest
import torch

from frozenseg_reference.build import build_frozenseg
from frozenseg_reference.checkpoint import CheckpointError, load_checkpoint, read_checkpoint
from frozenseg_reference.model import FrozenSegModel
from frozenseg_reference.presets import get_preset
from frozenseg_reference.synthetic import synthetic_state_dict


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, tiny_model, write_checkpoint):
    return write_checkpoint(tiny_model, tmp_path_factory.mktemp("ckpt") / "tiny.pth", seed=3)


def _save(path, state):
    torch.save({"model": state}, path)
    return path


def test_checkpoint_round_trip(tiny_checkpoint):
    loaded = build_frozenseg("tiny", tiny_checkpoint)
    synthetic = build_frozenseg("tiny", seed=3)
    for (k, a), (_, b) in zip(loaded.state_dict().items(), synthetic.state_dict().items()):
        assert torch.equal(a, b), k
    assert loaded.weights_source.endswith("tiny.pth")


def test_official_key_counts_follow_the_official_structure(tiny_model):
    """Per-prefix key counts of the tiny preset, derived from the official module layout:
    predictor = 6 per self/cross/FFN layer, 6 per feature injector, 22 others; pixel decoder =
    12 input projections, (1 + 16 per layer) per deformable encoder (two), 2 + 6 + 4."""
    keys = tiny_model.official_state_dict().keys()
    count = collections.Counter(".".join(k.split(".")[:2]) for k in keys)
    layers = get_preset("tiny").dec_layers
    injectors = len(range(0, layers, 3))
    assert count["sem_seg_head.predictor"] == 18 * layers + 6 * injectors + 22
    enc = get_preset("tiny").enc_layers
    assert count["sem_seg_head.pixel_decoder"] == 12 + 2 * (1 + 16 * enc) + 12
    assert count["void_embedding.weight"] == 1
    clip = tiny_model.official_state_dict()
    assert "backbone.clip_model.visual.trunk.head.norm.weight" in clip
    assert "backbone.clip_model.logit_scale" in clip
    assert not any(k.startswith(("sam.prompt_encoder", "criterion")) for k in keys)


def test_unused_official_keys_are_tolerated(tmp_path, tiny_checkpoint):
    state = read_checkpoint(tiny_checkpoint)
    state["sam.prompt_encoder.point_embeddings.0.weight"] = torch.zeros(1, 256)
    state["sam.mask_decoder.iou_token.weight"] = torch.zeros(1, 256)
    model = FrozenSegModel(get_preset("tiny"))
    load_checkpoint(model, _save(tmp_path / "extra.pth", state))


def test_missing_key_is_named(tmp_path, tiny_checkpoint):
    state = read_checkpoint(tiny_checkpoint)
    del state["sem_seg_head.predictor.query_feat.weight"]
    with pytest.raises(CheckpointError, match=r"1 missing: sem_seg_head\.predictor\.query_feat\.weight"):
        build_frozenseg("tiny", _save(tmp_path / "missing.pth", state))


def test_unexpected_key_is_named(tmp_path, tiny_checkpoint):
    state = read_checkpoint(tiny_checkpoint)
    state["sem_seg_head.predictor.extra_head.weight"] = torch.zeros(3)
    with pytest.raises(CheckpointError, match=r"unexpected: sem_seg_head\.predictor\.extra_head\.weight"):
        build_frozenseg("tiny", _save(tmp_path / "unexpected.pth", state))


def test_shape_mismatch_is_named(tmp_path, tiny_checkpoint):
    state = read_checkpoint(tiny_checkpoint)
    state["void_embedding.weight"] = torch.zeros(1, 7)
    with pytest.raises(CheckpointError, match=r"shape mismatch: void_embedding\.weight: checkpoint \(1, 7\)"):
        build_frozenseg("tiny", _save(tmp_path / "shape.pth", state))


def test_checkpoint_of_another_preset_fails(tiny_checkpoint):
    with pytest.raises(CheckpointError, match="does not match preset 'tiny_resnet'"):
        build_frozenseg("tiny_resnet", tiny_checkpoint)


def test_not_a_detectron2_checkpoint(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "bare.pth")
    with pytest.raises(CheckpointError, match="'model' state dict"):
        read_checkpoint(tmp_path / "bare.pth")
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "absent.pth")


class _Payload:
    pass


def test_pickled_code_is_refused(tmp_path):
    """weights_only=True: a checkpoint carrying arbitrary objects is not unpickled."""
    torch.save({"model": {"x": torch.zeros(1)}, "extra": _Payload()}, tmp_path / "code.pth")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        read_checkpoint(tmp_path / "code.pth")


def test_synthetic_weights_are_deterministic_and_seeded(tiny_model):
    a = synthetic_state_dict(tiny_model, seed=1)
    b = synthetic_state_dict(tiny_model, seed=1)
    c = synthetic_state_dict(tiny_model, seed=2)
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert sum(not torch.equal(a[k], c[k]) for k in a) > 0.9 * len(a)
