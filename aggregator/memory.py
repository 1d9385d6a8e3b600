"""Process memory: fewer malloc arenas for a long-running, many-threaded poller.

glibc gives each thread that allocates its own arena (up to 8 per core). The poller's writer
and parser threads allocate and free many short-lived objects (parse trees, harvests), and
each arena keeps its freed pages, so the resident size grows with the number of threads
rather than with what is live. Two arenas, set before any thread starts, keep the same
work in far less memory: a first pass over 2,000 villages peaked at 162 MB instead of
~225 MB (bench/bench_poll.py), at no measurable CPU cost. Python's own heap after such a
pass is ~12 MB for 400 villages (tracemalloc): the rest of the resident size is native.
"""

from __future__ import annotations

import ctypes
import os
import sys

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most `arenas` malloc arenas; True when it took effect. Elsewhere
    (macOS, musl) nothing happens. An operator's MALLOC_ARENA_MAX wins."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
