"""erc_core.heap.release_free_heap: 128 MiB freed inside glibc's heap (pinned below a live block,
so glibc's own trimming of the heap's top cannot reach it) stays resident until it is called,
and leaves the process's RSS when it is. Each case runs in a fresh interpreter."""

import subprocess
import sys
from pathlib import Path

import pytest

from erc_core.heap import release_free_heap

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import ctypes, os, sys
from erc_core.heap import release_free_heap

def rss_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
size = 64 << 10                                   # below glibc's mmap threshold: cut from the heap
blocks = [libc.malloc(size) for _ in range(2048)]
for block in blocks:
    ctypes.memset(block, 1, size)                 # resident
pin = libc.malloc(size)                           # above them: the freed blocks are not the heap's top
for block in blocks:
    libc.free(block)
before = rss_mib()
released = release_free_heap() if sys.argv[1] == "release" else None
print(released, round(before - rss_mib()))
"""

needs_glibc = pytest.mark.skipif(not release_free_heap(), reason="needs glibc (malloc_trim)")


def freed_mib(mode: str) -> tuple[str, int]:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=REPO, capture_output=True, text=True, check=True)
    released, mib = done.stdout.split()
    return released, int(mib)


@needs_glibc
def test_freed_heap_memory_stays_resident_without_it():
    released, mib = freed_mib("leave")
    assert released == "None" and mib < 16


@needs_glibc
def test_it_returns_the_freed_heap_memory():
    released, mib = freed_mib("release")
    assert released == "True" and mib > 112
