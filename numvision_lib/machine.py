"""The CPU's fields and a process's resident memory, as Linux's /proc gives them, without TensorFlow: for the
hardware checks, every benchmark's machine record and the kernel measurements."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple


def cpu_info(field: str) -> str | None:
    """The first CPU's `field` in /proc/cpuinfo ("model name", "flags"); None where there is no such file or field
    (not Linux, or a CPU that does not report it)."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == field:
            return value.strip()
    return None


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's instruction-set flags ("avx2", "avx512_bf16", ...); empty where Linux does not say (not Linux, Arm)."""
    return frozenset((cpu_info("flags") or "").split())


class ResidentMemory(NamedTuple):
    """A live process's resident set now (VmRSS) and at its peak so far (VmHWM, which Linux keeps for the process,
    so no short peak is missed), in bytes."""
    now_bytes: int
    peak_bytes: int


def resident_memory(pid: int) -> ResidentMemory:
    """The resident memory of the live process `pid`, from /proc/PID/status."""
    kib = {}
    # The process's name (its first line) may be in any encoding; the figures are ASCII.
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8", errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            kib[name] = int(value.split()[0])  # "123 kB": Linux's kB are KiB
    return ResidentMemory(now_bytes=kib["VmRSS"] * 1024, peak_bytes=kib["VmHWM"] * 1024)
