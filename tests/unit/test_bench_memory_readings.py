"""The memory readings the soak and bench/memory.py report: each follows what it claims to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.stats import deep_size_mb, malloc_in_use_mb, python_heap_mb

glibc = pytest.mark.skipif(malloc_in_use_mb() is None, reason="mallinfo2 needs glibc >= 2.33")


@glibc
def test_malloc_in_use_follows_a_large_allocation_and_its_free() -> None:
    before = malloc_in_use_mb()
    block = bytearray(8_000_000)  # past the small-object allocator: malloc (mmap) itself
    during = malloc_in_use_mb()
    del block
    after = malloc_in_use_mb()
    assert before is not None and during is not None and after is not None
    assert 7.9 < during - before < 8.5
    assert abs(after - before) < 0.5


# Run in a fresh interpreter: in the suite's process the heap is full of holes earlier tests
# freed, so the chunks would land in pages already resident and RSS would not rise at all.
_TRIM_PROBE = """
from bench.stats import malloc_trim, proc_rss_mb
malloc_trim()
base = proc_rss_mb()
chunks = [bytes(600) + bytes([i % 256]) for i in range(40_000)]
pin = bytes(600) + b"pin"
grown = proc_rss_mb() - base
del chunks
kept = proc_rss_mb() - base
malloc_trim()
print(grown, kept, proc_rss_mb() - base, pin.endswith(b"pin"))
"""


@glibc
def test_malloc_trim_gives_back_what_glibc_kept() -> None:
    # Many small malloc chunks (bytes of 600 B are past pymalloc's 512 B) below one that stays
    # (so free() cannot shrink the heap's top): freed, glibc keeps their pages until trimmed.
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", _TRIM_PROBE],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    grown, kept, trimmed = (float(x) for x in out[:3])
    assert grown > 20, out
    assert kept > 20, out
    assert trimmed < 5, out
    assert out[3] == "True"


def test_python_heap_counts_small_objects() -> None:
    before = python_heap_mb()
    objects = [(i, float(i)) for i in range(100_000)]  # tuples and floats: pymalloc's
    grown = python_heap_mb() - before
    assert 5.0 < grown < 20.0, grown
    del objects


def test_deep_size_counts_each_record_once_and_not_the_code() -> None:
    payload = "x" * 10_000
    records = {"a": [payload, payload], "b": (payload,)}
    size = deep_size_mb(records)
    assert 0.010 < size < 0.012  # the payload once, and the small containers
    assert deep_size_mb(records, records) == size
    assert deep_size_mb([sys, deep_size_mb, int]) < 0.001  # modules, functions, classes
