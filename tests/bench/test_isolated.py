"""`bench`'s baseline in a process of its own: the calls run there (another pid, the same answers
as in-process), its memory is sampled there, and its failures come back as typed errors."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

from frozenseg_bench.contenders import STAGES, RuntimeContender
from frozenseg_bench.isolated import ContenderProcessError, IsolatedContender
from frozenseg_bench.memory import MemoryPeak


@pytest.fixture(scope="module")
def isolated(tiny_artifacts):
    contender = IsolatedContender(functools.partial(RuntimeContender, tiny_artifacts[0], "onnxruntime-cpu", "fp32"))
    yield contender
    contender.close()


def test_the_contender_runs_in_another_process(isolated, tmp_path):
    assert isolated.key == "python/onnxruntime-cpu/fp32"
    assert isolated.pid is not None and isolated.pid != os.getpid()
    vocabulary = tmp_path / "vocabulary.txt"
    vocabulary.write_text("1:person\n2:sky\n3:tree\n")
    isolated.load()
    isolated.set_vocabulary(vocabulary)
    image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    times = isolated.segment(image, (64, 96), "semantic")
    assert set(STAGES) <= set(times) and all(t >= 0 for t in times.values())
    assert isolated.settings()["process"] == "own"
    peak = isolated.peak_memory()
    assert isinstance(peak, MemoryPeak) and peak.host_bytes > 0  # the child's load, sampled there


def test_a_failure_in_the_child_is_a_typed_error_with_its_traceback(isolated, tmp_path):
    with pytest.raises(ContenderProcessError, match="set_vocabulary") as info:
        isolated.set_vocabulary(tmp_path / "missing.txt")
    assert "Traceback" in str(info.value) and "missing.txt" in str(info.value)
    assert isolated.pid and isolated.settings()  # the process serves on after an error


def test_close_ends_the_process(tiny_artifacts):
    contender = IsolatedContender(functools.partial(RuntimeContender, tiny_artifacts[0], "onnxruntime-cpu", "fp32"))
    process = contender._process
    contender.close()
    assert not process.is_alive() and process.exitcode == 0
