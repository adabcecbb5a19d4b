"""The soak, shortened: both runtimes, 4 threads on one segmenter, the vocabulary replaced every 10
segments (the warm-up past one rotation of the four), judged on the same bars as the full run (`python -m frozenseg_bench.soak`: 2,000
segments, a new vocabulary every 50): resident memory after the warm-up grows less than 2%,
descriptors and threads are back to their start once the segmenter is closed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from frozenseg_bench.soak import Settings, judge, soak_cpp, soak_python, table

ROOT = Path(__file__).resolve().parents[2]
TOOL = Path(os.environ.get("FS_CPP_BUILD", ROOT / "build")) / "fs_soak"
SHORT = Settings(threads=4, segments=80, replace_every=10, warmup=45)  # warm-up: past a rotation


def _checked(record: dict) -> dict:
    assert record["segments"] == SHORT.segments
    assert record["vocabularies_set"] == SHORT.segments // SHORT.replace_every  # the first, then every 10th
    assert record["warm"]["threads"] > record["start"]["threads"], "the 4 workers ran at once"
    problems = judge(record, SHORT)
    assert problems == [], f"{problems}\n{table([record])}"
    return record


def test_python_runtime_soak(tiny_artifacts):
    _checked(soak_python(tiny_artifacts[0], SHORT))


def test_cpp_library_soak(tiny_artifacts):
    if not TOOL.is_file():
        if os.environ.get("FS_CPP_REQUIRED") == "1":
            pytest.fail(f"{TOOL} is not built (README's test command builds it)")
        pytest.skip(f"{TOOL} is not built (cmake --build build)")
    _checked(soak_cpp(TOOL, tiny_artifacts[0], SHORT, timeout=600))
