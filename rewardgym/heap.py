"""Keeping Python's garbage collector off a server's start-up heap.

A worker imports its family (sympy, Biopython, reasoning-gym with matplotlib: 140,000-180,000 objects that live as
long as the process) and then allocates per request. Objects that outlive a few collections (a batch's items and
results wait for the whole batch) eventually trigger a full collection, which walks every object, start-up heap
included: 80-140 ms on this project's 2-core VM, a stall for every item in flight in that process.
`gc.freeze()` moves everything alive at the end of start-up to a generation the collector never walks; in a fork
server, the processes it forks inherit that, and their collections no longer touch (and so no longer copy) the
pages they share with it.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect once, then exempt every object alive now from later collections. Call once start-up is done."""
    gc.collect()
    gc.freeze()
