"""`frozenseg-deploy bench --quick` on the tiny preset: the whole command (PyTorch baseline, the
Python runtime, the C++ library where built), its JSON checked against schema.json, its table and
its charts (real PNG files); and the figures it reports are its own rounds' arithmetic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from frozenseg_bench.contenders import STAGES
from frozenseg_bench.report import load_schema
from frozenseg_export.cli import main

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = Path(os.environ.get("FS_CPP_BUILD", ROOT / "build")) / "libfrozenseg.so"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def bench_run(tiny_artifacts, tmp_path_factory):
    if not LIBRARY.is_file() and os.environ.get("FS_CPP_REQUIRED") == "1":
        pytest.fail(f"{LIBRARY} is not built (README's test command builds it)")
    base = tmp_path_factory.mktemp("bench")
    vocabulary = base / "vocabulary.txt"
    vocabulary.write_text("1:person,people\n2:sky\n3:tree,trees\n4:grass\n5:car\n")
    out = base / "out"
    argv = ["bench", "--artifacts", str(tiny_artifacts[0]), "--out", str(out), "--quick",
            "--vocabulary", str(vocabulary), "--resolution", "small=96,160", "--resolution", "smaller=64,128",
            "--cpp-library", str(LIBRARY)]
    assert main(argv) == 0
    return out, json.loads((out / "bench.json").read_text())


def test_report_follows_the_schema(bench_run):
    _, report = bench_run
    jsonschema.validate(report, load_schema())
    assert report["quick"] is True
    assert report["settings"]["runs"] == 2


def test_every_contender_ran_at_every_resolution(bench_run):
    _, report = bench_run
    keys = [c["key"] for c in report["contenders"]]
    assert keys[0] == report["baseline"] == "pytorch/cpu/fp32/eager"
    assert "python/onnxruntime-cpu/fp32" in keys
    if LIBRARY.is_file():
        assert "cpp/onnxruntime-cpu/fp32" in keys
    for contender in report["contenders"]:
        assert set(contender["resolutions"]) == {"small", "smaller"}
        for record in contender["resolutions"].values():
            assert record["end_to_end"]["n"] == 2
            assert set(record["postprocess_by_task"]) == {"semantic", "panoptic"}  # two rounds: tasks in turn
    assert report["failed"] == []
    reasons = {s["contender"]: s["reason"] for s in report["skipped"]}
    assert all(reasons.values())


def test_ratios_are_the_rounds_own_medians(bench_run):
    """A contender's speedup is the median of the baseline calls paired with it over its own median;
    the baseline's is 1 by definition."""
    _, report = bench_run
    for record in report["contenders"][0]["resolutions"].values():
        assert record["speedup"]["end_to_end"] == 1.0
    for contender in report["contenders"][1:]:
        for record in contender["resolutions"].values():
            e2e = record["end_to_end"]
            assert e2e["min"] <= e2e["p50"] <= e2e["p90"] <= e2e["p99"] <= e2e["max"]
            assert e2e["p50"] == pytest.approx((e2e["min"] + e2e["max"]) / 2)  # two rounds
            assert record["speedup"]["end_to_end"] == pytest.approx(record["baseline_end_to_end_p50"] / e2e["p50"])
            for stage in STAGES:
                assert record["speedup"]["stages"][stage] > 0


def test_flops_are_counted_and_achieved_rates_follow(bench_run):
    _, report = bench_run
    flops = report["flops"]["resolutions"]
    assert flops["small"]["flops"]["clip_image"] > flops["smaller"]["flops"]["clip_image"] > 0
    assert flops["small"]["flops"]["sam_image"] == flops["smaller"]["flops"]["sam_image"]  # SAM's input is fixed
    python = next(c for c in report["contenders"] if c["key"] == "python/onnxruntime-cpu/fp32")
    record = python["resolutions"]["small"]
    assert record["achieved_flop_per_s"]["decoder"] == pytest.approx(
        flops["small"]["flops"]["decoder"] / record["stages"]["decoder"]["p50"])
    peaks = report["cpu_peaks"]  # probed in the same run
    assert peaks["fp32"]["measured_flop_per_s"] > 0 and peaks["fp32"]["derivation"]
    assert record["fraction_of_peak"]["decoder"] == pytest.approx(
        record["achieved_flop_per_s"]["decoder"] / peaks["fp32"]["flop_per_s"])
    assert python["peak"]["flop_per_s"] == peaks["fp32"]["flop_per_s"]


def test_goals_are_this_runs_arithmetic(bench_run):
    _, report = bench_run
    goals, baseline = report["goals"], report["contenders"][0]
    runtimes = [c for c in report["contenders"][1:] if c["runtime"] != "pytorch"]
    memory = goals["memory"]
    assert memory["baseline_host_mib"] == baseline["memory"]["host_mib"]
    assert memory["host_mib"] == {c["key"]: c["memory"]["host_mib"] for c in runtimes}
    assert memory["met"] == all(m <= memory["baseline_host_mib"] for m in memory["host_mib"].values())
    fractions = goals["encoders_fp32_peak"]["fractions"]
    assert set(fractions) == {c["key"] for c in runtimes if c["precision"] == "fp32"}
    fastest = goals["fastest_passing"]
    own = baseline["resolutions"]["small"]["end_to_end"]["p50"]
    best = max((c for c in runtimes if c["accuracy"]["meets_bars"]),
               key=lambda c: own / c["resolutions"]["small"]["end_to_end"]["p50"])
    assert fastest["contender"] == best["key"]
    assert fastest["speedup_own_rounds"] == pytest.approx(own / best["resolutions"]["small"]["end_to_end"]["p50"])
    assert fastest["met"] == (fastest["speedup_own_rounds"] >= 3.0)


def test_table_and_charts_are_written(bench_run):
    out, report = bench_run
    table = (out / "bench.md").read_text()
    for contender in report["contenders"]:
        assert contender["label"] in table
    assert "## small: shortest edge 96, at most 160" in table
    assert "matrix-multiply peak" in table and "## Goals" in table
    for name in ("bench_stages.png", "bench_resolution.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(out / name) as image:
            image.verify()
            assert image.format == "PNG" and image.size[0] > 300
