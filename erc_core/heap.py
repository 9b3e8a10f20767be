"""Hand the C heap's free pages back to the system between the batches of a long inference loop.

glibc's malloc maps a block above its mmap threshold on its own and unmaps it on free, but each
such free raises the threshold to that block's size (up to 32 MiB). After the first batches the
activations are therefore cut from the heap, and a loop whose batch shapes keep changing (stage 2
sorts by length) leaves freed holes there that glibc keeps: without this, stage 2's peak memory
rose with the corpus (docs/benchmarks.md, "Stage 2 over all of IEMOCAP"). `malloc_trim(0)`
returns every free page, holes included. Measured there against the alternative of fixing the
threshold (mallopt), it saved as much memory for half the extra CPU time. torch has no setting
for its CPU allocator, and requiring an LD_PRELOADed jemalloc is not ours to ask of users."""

import ctypes


def _glibc_malloc_trim():
    """glibc's malloc_trim through ctypes, or None (macOS, musl, Windows)."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it
        return libc.malloc_trim
    except (OSError, TypeError, AttributeError):  # TypeError: Windows' CDLL takes no None
        return None


_MALLOC_TRIM = _glibc_malloc_trim()


def release_free_heap() -> bool:
    """Return the heap's free pages to the system; False where there is no glibc to ask."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True
