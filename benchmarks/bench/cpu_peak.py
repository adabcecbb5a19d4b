"""The CPU's matrix-multiply peak in FP32, BF16 and INT8: derived from its instruction set and
clock, and measured by a short GEMM probe on the engines the runtimes use.

Why both: the derived figure is what the silicon could do (cores x clock x operations per cycle),
stated with its assumptions so a reader can check it; the measured figure is what a well-tuned
GEMM reaches on this machine today (turbo, a VM's share of a core, memory). A stage's fraction of
peak is taken against the measured figure, the bar it could actually reach; both go in the report.

Operations per cycle and core, for the units a GEMM uses (two vector FMA pipes assumed where the
CPU has AVX-512, as Xeon Gold and Platinum have; one 256-bit FMA pair on AVX2 and on AMD's
double-pumped AVX-512 before Zen 5):

    FP32  AVX-512: 2 pipes x 16 lanes x 2 (multiply, add) = 64;  AVX2+FMA: 2 x 8 x 2 = 32
    BF16  AVX512-BF16 (vdpbf16ps): twice FP32;  AMX-BF16: 1,024 per core
    INT8  AVX512-VNNI (vpdpbusd): four times FP32;  AVX-VNNI on 256 bits: the same over AVX2;
          AMX-INT8: 2,048 per core; without VNNI, no derived figure (three instructions per step)

BF16 is never emulated: without AVX512-BF16 or AMX there is no BF16 figure, with the reason.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from frozenseg_runtime.backends.cpu_features import cpu_flags, has_native_bf16
from frozenseg_runtime.schedule import usable_cores

PROBE_SIZE = 1536  # 7.2 GFLOP a call: a few hundred milliseconds on two cores, beyond any cache
PROBE_REPEATS = 5
PRECISIONS = ("fp32", "bf16", "int8")


@dataclass(frozen=True)
class CpuFacts:
    """What the derivation needs: flags, vendor, clock, cores."""

    flags: frozenset[str]
    vendor: str
    clock_hz: float | None
    clock_source: str
    cores: int

    @classmethod
    def read(cls, cpuinfo: Path = Path("/proc/cpuinfo")) -> "CpuFacts":
        try:
            text = cpuinfo.read_text(errors="replace")
        except OSError:
            text = ""
        clock, source = _clock(text)
        return cls(cpu_flags(cpuinfo), _field(text, "vendor_id"), clock, source, usable_cores())

    @property
    def native_bf16(self) -> bool:
        return has_native_bf16(self.flags)


def _field(cpuinfo: str, name: str) -> str:
    match = re.search(rf"^{name}\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _clock(cpuinfo: str) -> tuple[float | None, str]:
    """The nominal clock: the model name's "@ 2.80GHz", else cpufreq's maximum, else cpuinfo's MHz."""
    match = re.search(r"@\s*([0-9.]+)\s*GHz", _field(cpuinfo, "model name"))
    if match:
        return float(match.group(1)) * 1e9, "model name"
    try:
        khz = int(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text())
        return khz * 1e3, "cpufreq maximum"
    except (OSError, ValueError):
        pass
    mhz = _field(cpuinfo, "cpu MHz")
    return (float(mhz) * 1e6, "cpuinfo MHz") if mhz else (None, "unknown")


def operations_per_cycle(facts: CpuFacts, precision: str) -> tuple[int | None, str]:
    """Per core, with the units it assumes (see the module docstring)."""
    wide = "avx512f" in facts.flags and "AMD" not in facts.vendor
    if "avx512f" in facts.flags and not wide:
        fp32, fp32_units = 32, "AVX-512 on 256-bit pipes (AMD): 2 x 8 lanes x 2"
    elif wide:
        fp32, fp32_units = 64, "AVX-512: 2 FMA pipes x 16 lanes x 2"
    elif {"avx2", "fma"} <= facts.flags:
        fp32, fp32_units = 32, "AVX2+FMA: 2 FMA pipes x 8 lanes x 2"
    else:
        return None, "no AVX2/FMA: not derived"
    if precision == "fp32":
        return fp32, fp32_units
    if precision == "bf16":
        if "amx_bf16" in facts.flags:
            return 1024, "AMX-BF16"
        if "avx512_bf16" in facts.flags:
            return 2 * fp32, "AVX512-BF16 (vdpbf16ps): 2 x FP32"
        return None, "no AVX512-BF16 or AMX: BF16 would be emulated"
    if precision == "int8":
        if "amx_int8" in facts.flags:
            return 2048, "AMX-INT8"
        if "avx512_vnni" in facts.flags or "avx_vnni" in facts.flags:
            return 4 * fp32, "VNNI (vpdpbusd): 4 x FP32"
        return None, "no VNNI: not derived"
    raise ValueError(f"unknown precision {precision!r}")


@dataclass(frozen=True)
class CpuPeak:
    """One precision's peak in FLOP/s (OP/s for INT8): derived and measured, each with how."""

    precision: str
    derived_flop_per_s: float | None
    derivation: str
    measured_flop_per_s: float | None
    probe: str

    @property
    def flop_per_s(self) -> float | None:
        """The bar a stage is held to: the measured GEMM, else the derived figure."""
        return self.measured_flop_per_s or self.derived_flop_per_s

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flop_per_s": self.flop_per_s}


def derive(facts: CpuFacts, precision: str) -> tuple[float | None, str]:
    per_cycle, units = operations_per_cycle(facts, precision)
    if per_cycle is None or facts.clock_hz is None:
        return None, units if per_cycle is None else "clock unknown"
    return (facts.cores * facts.clock_hz * per_cycle,
            f"{facts.cores} cores x {facts.clock_hz / 1e9:.2f} GHz ({facts.clock_source}) x {per_cycle} "
            f"per cycle ({units})")


def _matmul_graph(precision: str, n: int) -> bytes:
    """Y = A @ B with B a constant: MatMul in float32, MatMulInteger on uint8 x int8 for INT8 (the
    operand types ONNX Runtime's VNNI kernels take, as the int8-cpu files do)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    if precision == "int8":
        weight = numpy_helper.from_array(rng.integers(-127, 128, (n, n), dtype=np.int8), "B")
        node = helper.make_node("MatMulInteger", ["A", "B"], ["Y"])
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
    else:
        weight = numpy_helper.from_array(rng.standard_normal((n, n), dtype=np.float32), "B")
        node = helper.make_node("MatMul", ["A", "B"], ["Y"])
        a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph([node], "gemm_probe", [helper.make_tensor_value_info("A", a_type, [n, n])],
                              [helper.make_tensor_value_info("Y", y_type, [n, n])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _probe_input(precision: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    if precision == "int8":
        return rng.integers(0, 256, (n, n), dtype=np.uint8)
    return rng.standard_normal((n, n), dtype=np.float32)


PROBE_MIN_SECONDS = 0.2  # each timing spans at least this many calls' worth (one call can be 7 ms)


def _best_rate(run: Any, n: int, repeats: int) -> float:
    """The best of `repeats` timings, each over enough calls to last PROBE_MIN_SECONDS (a single
    INT8 call of the probe lasts milliseconds: one VM hiccup would decide it)."""
    run()  # first call: packing, allocation
    calls = max(1, math.ceil(PROBE_MIN_SECONDS / max(_seconds(run, 1), 1e-6)))
    best = min(_seconds(run, calls) for _ in range(repeats)) / calls
    return 2.0 * n ** 3 / best


def _seconds(run: Any, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        run()
    return time.perf_counter() - start


def probe_onnxruntime(precision: str, n: int = PROBE_SIZE, repeats: int = PROBE_REPEATS) -> float:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = usable_cores()
    session = ort.InferenceSession(_matmul_graph(precision, n), options, providers=["CPUExecutionProvider"])
    feed = {"A": _probe_input(precision, n)}
    return _best_rate(lambda: session.run(None, feed), n, repeats)


def probe_openvino(precision: str, n: int = PROBE_SIZE, repeats: int = PROBE_REPEATS) -> float:
    """FP32 or BF16 (OpenVINO's inference precision hint) on the FP32 MatMul graph."""
    import openvino as ov

    core = ov.Core()
    model = core.read_model(_matmul_graph("fp32", n), b"")
    hint = {"fp32": "f32", "bf16": "bf16"}[precision]
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint,
                                                 "INFERENCE_NUM_THREADS": usable_cores()})
    request = compiled.create_infer_request()
    feed = {0: _probe_input("fp32", n)}
    return _best_rate(lambda: request.infer(feed), n, repeats)


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def measure(precision: str, facts: CpuFacts, n: int = PROBE_SIZE, repeats: int = PROBE_REPEATS
            ) -> tuple[float | None, str]:
    """The best measured GEMM rate over the installed engines, and which engine gave it."""
    if precision == "bf16" and not facts.native_bf16:
        return None, "not probed: no AVX512-BF16 or AMX (BF16 would be emulated)"
    engines: list[tuple[str, Any]] = []
    if precision in ("fp32", "int8") and _installed("onnxruntime"):
        engines.append(("ONNX Runtime " + ("MatMulInteger u8 x s8" if precision == "int8" else "MatMul"),
                        probe_onnxruntime))
    if precision in ("fp32", "bf16") and _installed("openvino"):
        engines.append((f"OpenVINO MatMul ({precision})", probe_openvino))
    rates = [(probe(precision, n, repeats), name) for name, probe in engines]
    if not rates:
        return None, "not probed: no engine installed for it"
    rate, name = max(rates)
    return rate, f"{name}, {n}x{n}x{n}, {usable_cores()} threads, best of {repeats} timings of >= {PROBE_MIN_SECONDS} s"


def cpu_peaks(n: int = PROBE_SIZE, repeats: int = PROBE_REPEATS) -> dict[str, CpuPeak]:
    """Every precision's peak on this CPU (a probe of a few seconds in all)."""
    facts = CpuFacts.read()
    peaks = {}
    for precision in PRECISIONS:
        derived, derivation = derive(facts, precision)
        measured, probe = measure(precision, facts, n, repeats)
        peaks[precision] = CpuPeak(precision, derived, derivation, measured, probe)
    return peaks


def stage_precision(contender_precision: str, graph_precision: str | None = None) -> str:
    """Which peak a stage is held to: its graph's own precision where known (mixed files), bf16 and
    int8 as named; FP16 and FP32 against FP32, since x86 has no FP16 matrix unit."""
    precision = graph_precision or contender_precision
    return precision if precision in ("bf16", "int8") else "fp32"
