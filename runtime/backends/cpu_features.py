"""What the CPU computes natively, read from the kernel's /proc/cpuinfo flags.

BF16 is a runtime precision only where the CPU has bfloat16 instructions: OpenVINO, asked for bf16
on a CPU without them, quietly computes in f32 instead (measured with 2026.4.1 on an AMD Zen 3),
so the runtime checks the flags itself and refuses, rather than report a precision it never ran.
"""

from __future__ import annotations

import os
from pathlib import Path

from frozenseg_runtime.errors import PrecisionUnavailableError

CPUINFO = Path("/proc/cpuinfo")
# Either gives OpenVINO's CPU plugin native bfloat16: AVX512-BF16 (Cooper Lake, AMD Zen 4 and
# later) or AMX's BF16 tiles (Sapphire Rapids and later).
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path: str | os.PathLike[str] = CPUINFO) -> frozenset[str]:
    """The flags of the first processor in a cpuinfo file; none where it cannot be read (not
    Linux, or a CPU that lists none)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def has_native_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU (or these cpuinfo flags) computes bfloat16 natively (BF16_FLAGS)."""
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in BF16_FLAGS)


def require_bf16(graph: str) -> None:
    """Refuse bf16 for `graph` unless this CPU has native bfloat16 (BF16_FLAGS)."""
    if not has_native_bf16():
        raise PrecisionUnavailableError(
            f"{graph}: precision bf16 needs a CPU with native bfloat16 ({' or '.join(BF16_FLAGS)} in "
            f"{CPUINFO}'s flags), which this one lacks; it is not emulated: use --precision fp32 here")
