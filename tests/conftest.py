"""Shared fixtures: small presets with synthetic weights, built once per session."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_model():
    from frozenseg_reference.build import build_frozenseg

    return build_frozenseg("tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_resnet_model():
    from frozenseg_reference.build import build_frozenseg

    return build_frozenseg("tiny_resnet", seed=0)


@pytest.fixture(scope="session")
def sample_image() -> np.ndarray:
    """A small structured RGB image (gradients and shapes), deterministic."""
    h, w = 120, 176
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 // w, yy * 255 // h, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
    img[30:80, 40:100] = (200, 30, 30)
    img[((yy - 60) ** 2 + (xx - 140) ** 2) < 400] = (20, 180, 60)
    return img


@pytest.fixture(scope="session")
def tiny_artifacts(tmp_path_factory):
    """One verified export of the tiny preset (both chained vocabularies through the text graph)."""
    from frozenseg_export.run_export import ExportOptions, run_export

    out = tmp_path_factory.mktemp("export") / "tiny"
    messages: list[str] = []
    run_export(out, ExportOptions(preset="tiny", text_graph_max_classes=None), say=messages.append)
    return out, messages
