"""How fast this machine runs Python at the moment: the benches print it before and after
their run, beside their numbers. On a shared VM the same code's speed swings (seen here:
this loop took 1.0 s and 2.0 s a few minutes apart), so two runs compare only with this
number beside them."""

from __future__ import annotations

import time

LOOP = 10_000_000


def python_loop_s() -> float:
    """Seconds a plain Python loop of LOOP additions takes (CPython 3.11 on a quiet modern
    core: about 0.5 s)."""
    start = time.perf_counter()
    total = 0
    for i in range(LOOP):
        total += i
    return round(time.perf_counter() - start, 2)
