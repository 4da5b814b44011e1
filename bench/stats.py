"""Quantiles and process CPU/RSS readings shared by the measures."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import re
import resource
import sys
import tempfile
import types
from collections.abc import Sequence
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def quantile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (from /proc, clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def proc_rss_mb(pid: int | None = None) -> float:
    """Resident set size in MB (this process when `pid` is None)."""
    statm = Path(f"/proc/{pid or os.getpid()}/statm").read_text().split()
    return int(statm[1]) * _PAGE / 1e6


def self_cpu_s() -> float:
    """This process's user + system CPU seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (glibc >= 2.33)."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None or not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallinfo2"):  # musl, or a glibc older than 2.33
        return None
    libc.mallinfo2.restype = _MallInfo2
    return libc


_LIBC = _glibc()


def malloc_in_use_mb() -> float | None:
    """Bytes (MB) malloc has handed out and not had back: live C and large Python allocations,
    without what the allocator keeps after a free (None off glibc)."""
    if _LIBC is None:
        return None
    info = _LIBC.mallinfo2()
    return (info.uordblks + info.hblkhd) / 1e6


def malloc_trim() -> None:
    """Give the memory glibc keeps after frees back to the system (nothing off glibc)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def python_heap_mb() -> float:
    """Bytes (MB) in the objects CPython's small-object allocator holds now (its own report)."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as out:  # the report goes to the C stderr only
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        report = out.read().decode(errors="replace")
    found = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", report)
    return int(found.group(1).replace(",", "")) / 1e6 if found else float("nan")


def deep_size_mb(*roots: object) -> float:
    """What the objects reachable from `roots` take (MB), each counted once; code, classes and
    modules are not followed (they are not records)."""
    seen: set[int] = set()
    todo, total = list(roots), 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, _SHARED):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        todo.extend(gc.get_referents(obj))
    return total / 1e6


_SHARED = (type, types.ModuleType, types.FunctionType, types.CodeType, types.MethodType)
