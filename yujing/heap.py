"""The cyclic garbage collector, set for a process that holds a large, long-lived state.

The detectors' state is hundreds of thousands of long-lived objects, and the pipeline allocates
millions of short-lived ones (readings, values, findings) that reference counting frees as soon
as they are dropped. With CPython's default thresholds the collector runs a young collection
every 700 allocations and walks the old generations often, finding next to nothing: about 15 %
of a 12 h replay slice of the city storm; in the live loop, full collections over the state
stall it for a sixth of a second at 5,000 stations (``python -m bench.hotspots``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # runs inside rare_collections now (several runtimes may share a process: tests)
_saved: tuple[int, int, int] | None = None


@contextmanager
def rare_collections(young: int = 100_000) -> Iterator[None]:
    """The collector, rarely, for the length of a run (a replay, the live loop).

    The state built before the run is frozen (never scanned again: a checkpoint's forked child
    also leaves those pages shared), young collections run every ``young`` allocations, middle
    ones every 20 young, full ones every 100 middle (at most). When the last run inside ends,
    the collector is put back as it was.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.freeze()
        _depth += 1
        gc.set_threshold(young, 20, 100)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                gc.unfreeze()
