"""The parts of `bench` that need no model: statistics, the peak table, FLOP counting on the meta
device against counting on real tensors, and the command line's checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from frozenseg_bench.peaks import PEAKS, find_peak, peak_for
from frozenseg_bench.timing import LatencyStats, percentile
from frozenseg_export.cli import main


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=40),
       st.sampled_from([0, 50, 90, 99, 100]))
def test_percentile_is_numpys_linear_percentile(samples, q):
    assert percentile(sorted(samples), q) == pytest.approx(float(np.percentile(samples, q)), rel=1e-12, abs=1e-12)


def test_latency_stats_of_known_samples():
    stats = LatencyStats.of([4.0, 1.0, 3.0, 2.0])
    assert (stats.n, stats.mean, stats.p50, stats.min, stats.max) == (4, 2.5, 2.5, 1.0, 4.0)
    with pytest.raises(ValueError):
        LatencyStats.of([])


@pytest.mark.parametrize("name, expected", [
    ("NVIDIA H200", "NVIDIA H200"),
    ("NVIDIA H200 NVL", "NVIDIA H200 NVL"),
    ("NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM"),
    ("NVIDIA H100 PCIe", "NVIDIA H100 PCIe"),
    ("NVIDIA A100-SXM4-80GB", "NVIDIA A100 SXM4 80GB"),
    ("Tesla T4", "NVIDIA T4"),
    ("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090"),
    ("NVIDIA Jetson AGX Orin Developer Kit", "NVIDIA Jetson AGX Orin 64GB"),
])
def test_peaks_find_the_most_specific_device(name, expected):
    peak = find_peak(name)
    assert peak is not None and peak.name == expected


def test_peaks_refuse_what_they_cannot_know():
    assert find_peak("Orin") is None  # torch's name of every Orin module
    assert find_peak("AMD EPYC 7B13") is None
    for peak in PEAKS:
        assert peak.source.strip()
        for precision in ("fp32", "fp16", "int8", "mixed"):
            value = peak_for(peak, precision)
            assert value is None or value > 1e11  # FLOP/s, not TFLOP/s
    with pytest.raises(ValueError):
        peak_for(PEAKS[0], "bf16")


def test_meta_device_counts_what_real_tensors_count(tiny_model):
    """Counting without weights (meta tensors) must give the count of the real forward."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from frozenseg_bench.flops import image_flops, meta_model, text_flops

    meta = meta_model("tiny")
    from frozenseg_reference.presets import PRESETS

    sam_size = PRESETS["tiny"].preprocessing.sam_size
    clip_shape, sam_shape = (1, 3, 64, 96), (1, 3, sam_size, sam_size)
    counted = image_flops(meta, clip_shape, sam_shape, (3, 2))
    with torch.no_grad():
        clip = FlopCounterMode(display=False)
        with clip:
            features = tiny_model.clip_image(torch.rand(clip_shape))
        sam = FlopCounterMode(display=False)
        with sam:
            embedding = tiny_model.sam_image(torch.rand(sam_shape))
        decoder = FlopCounterMode(display=False)
        width = tiny_model.clip_text.text_projection.shape[-1]
        with decoder:
            tiny_model.decoder(*features, embedding, torch.rand(3, 2, width), torch.ones(3, 2, dtype=torch.bool),
                               torch.zeros(3, dtype=torch.bool))
        text = FlopCounterMode(display=False)
        with text:
            tiny_model.clip_text(torch.randint(0, 1000, (4, 9)))
    assert counted == {"clip_image": clip.get_total_flops(), "sam_image": sam.get_total_flops(),
                       "decoder": decoder.get_total_flops()}
    # On a CPU, attention runs in a fused kernel the counter does not see; on the meta device it
    # decomposes into the two batched products (scores and weighted values) that it counts.
    transformer = tiny_model.clip_text.transformer
    attention = 2 * (2 * 4 * 9 * 9 * transformer.width) * transformer.layers
    assert text_flops(meta, [(4, 9)]) == text.get_total_flops() + attention


@pytest.mark.parametrize("argv, message", [
    (["--resolution", "edge=640"], "NAME=SHORT,MAX"),
    (["--resolution", "edge=640,320"], "MAX >= SHORT"),
])
def test_bad_resolutions_are_refused_by_the_parser(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--artifacts", str(tmp_path), *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--runs", "0"], "--runs must be at least 1, got 0"),
    (["--resolution", "a=64,128", "--resolution", "a=96,160"], "resolution names must differ, got a, a"),
])
def test_bad_counts_are_usage_errors(tmp_path, capsys, argv, message):
    assert main(["bench", "--artifacts", str(tmp_path), "--out", str(tmp_path / "out"), *argv]) == 2
    assert message in capsys.readouterr().err
