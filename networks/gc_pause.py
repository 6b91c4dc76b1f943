"""Pausing Python's cyclic garbage collector while many long-lived objects are made.

Allocating ~10^5 container objects that are no cyclic garbage (a network build's edge
dicts and geometries; a large solve's chains, columns and caches) triggers full
collections, each walking every object of the process: a third to a half of a network
build, ~10 % of a province solve (``benchmarks/README.md``). :func:`paused_gc` switches the
collector off for a block and restores it after.

The switch is process-wide, so the pause is reference-counted under a lock: the first
block to enter records whether the collector was on and switches it off, the last to
leave switches it back on if it was. Overlapping blocks in several threads (two solves of
a thread pool, a build beside a solve) therefore end with the collector as it was before
the first of them, whatever order they end in; a block that raises restores it as well.
Nothing is collected while any block runs: a caller that makes cyclic garbage meanwhile
keeps it until the last block ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0  # blocks inside paused_gc, in every thread
_was_enabled = False  # the collector's state when the outermost block entered


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector off for the block, as it was after the last overlapping block
    (see the module docstring). Also a decorator: ``@paused_gc()``."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
