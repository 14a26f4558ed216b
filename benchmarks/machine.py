"""Which CPU a benchmark ran on: the model name and the vector/matrix units that set its speed."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# int8 and bf16 speed depend on these far more than on the clock.
_UNITS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "amx_bf16")


def describe_cpu() -> str:
    """E.g. 'Intel(R) Xeon(R) Processor (x86_64, 2 cores; avx2 avx512f avx512_vnni amx_int8)'."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    units = " ".join(u for u in _UNITS if u in flags) or "no AVX2"
    return f"{name} ({platform.machine()}, {os.cpu_count()} cores; {units})"
