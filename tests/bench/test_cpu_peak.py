"""The CPU peak `bench` holds stages to: derived from flags and clock as the module says, never a
BF16 figure on a CPU without native bfloat16, and a measured probe that computes what it times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from frozenseg_bench import cpu_peak
from frozenseg_bench.cpu_peak import CpuFacts, derive, stage_precision

ICE_LAKE = "avx2 fma avx512f avx512bw avx512vl avx512_vnni"
SAPPHIRE_RAPIDS = ICE_LAKE + " avx512_bf16 amx_bf16 amx_int8 amx_tile"
ZEN4 = "avx2 fma avx512f avx512bw avx512_vnni avx512_bf16"


def cpuinfo(tmp_path: Path, flags: str, vendor: str = "GenuineIntel",
            model: str = "Intel(R) Xeon(R) Processor @ 2.80GHz") -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nvendor_id\t: {vendor}\nmodel name\t: {model}\nflags\t\t: {flags}\n")
    return path


def facts(tmp_path: Path, flags: str, cores: int = 2, **kwargs: str) -> CpuFacts:
    read = CpuFacts.read(cpuinfo(tmp_path, flags, **kwargs))
    return CpuFacts(read.flags, read.vendor, read.clock_hz, read.clock_source, cores)


def test_an_avx512_xeon_is_derived_from_two_fma_pipes(tmp_path):
    xeon = facts(tmp_path, ICE_LAKE)
    fp32, how = derive(xeon, "fp32")
    assert fp32 == pytest.approx(2 * 2.8e9 * 64)
    assert "2 cores" in how and "2.80 GHz" in how and "model name" in how
    assert derive(xeon, "int8")[0] == pytest.approx(4 * fp32)  # VNNI


def test_bf16_has_no_figure_where_it_would_be_emulated(tmp_path):
    xeon = facts(tmp_path, ICE_LAKE)
    assert not xeon.native_bf16
    value, why = derive(xeon, "bf16")
    assert value is None and "emulated" in why
    measured, probe = cpu_peak.measure("bf16", xeon)
    assert measured is None and "not probed" in probe


def test_amd_avx512_runs_on_256_bit_pipes(tmp_path):
    zen4 = facts(tmp_path, ZEN4, vendor="AuthenticAMD", model="AMD EPYC 9R14 @ 2.60GHz")
    assert derive(zen4, "fp32")[0] == pytest.approx(2 * 2.6e9 * 32)
    assert derive(zen4, "bf16")[0] == pytest.approx(2 * 2.6e9 * 64)


def test_amx_tiles_outrank_the_vector_units(tmp_path):
    sapphire = facts(tmp_path, SAPPHIRE_RAPIDS, cores=4)
    assert sapphire.native_bf16
    assert derive(sapphire, "bf16")[0] == pytest.approx(4 * 2.8e9 * 1024)
    assert derive(sapphire, "int8")[0] == pytest.approx(4 * 2.8e9 * 2048)


def test_no_clock_no_derived_figure(tmp_path):
    unknown = CpuFacts(frozenset(ICE_LAKE.split()), "GenuineIntel", None, "unknown", 2)
    assert derive(unknown, "fp32") == (None, "clock unknown")


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_probe_graph_computes_a_matrix_product(precision):
    """What the probe times is the product it claims (so its FLOP count is the work done)."""
    n = 64
    session = ort.InferenceSession(cpu_peak._matmul_graph(precision, n), providers=["CPUExecutionProvider"])
    a = cpu_peak._probe_input(precision, n)
    (y,) = session.run(None, {"A": a})
    import onnx
    b = onnx.numpy_helper.to_array(onnx.load_from_string(cpu_peak._matmul_graph(precision, n)).graph.initializer[0])
    if precision == "int8":
        np.testing.assert_array_equal(y, a.astype(np.int32) @ b.astype(np.int32))
    else:
        np.testing.assert_allclose(y, a @ b, rtol=1e-4, atol=1e-3)


def test_the_measured_peak_is_a_positive_rate_with_its_engine():
    rate, probe = cpu_peak.measure("fp32", CpuFacts.read(), n=128, repeats=2)
    assert rate is not None and np.isfinite(rate) and rate > 0
    assert "128x128x128" in probe and "threads" in probe


@pytest.mark.parametrize(("contender", "graph", "held_to"), [
    ("fp32", None, "fp32"), ("fp16", None, "fp32"), ("bf16", "bf16", "bf16"), ("bf16", "fp32", "fp32"),
    ("int8", "int8", "int8"), ("mixed", "fp16", "fp32"), ("mixed", "int8", "int8")])
def test_stages_are_held_to_the_peak_of_what_they_compute(contender, graph, held_to):
    assert stage_precision(contender, graph) == held_to
