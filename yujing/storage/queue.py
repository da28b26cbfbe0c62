"""The writer's bounded queue: ``put`` never blocks, ``take`` hands out batches.

Two lanes share one bound counted in points. *Priority* holds alerts and station state (rare,
what the duty staff look at); *bulk* holds readings, derived values and threshold lines. When a
``put`` would pass the bound, the oldest points go first, bulk before priority: after an outage
the freshest data is what the boards need, and an alert is dropped only when alerts alone fill
the queue. ``put`` returns how many points it dropped, so the caller can count them.

>>> q = PointQueue(limit=3)
>>> q.put(Chunk("reading", [1, 2], str))
0
>>> q.put(Chunk("alert", ["a"], str), priority=True)
0
>>> q.put(Chunk("reading", [3], str))   # full: the oldest bulk point (1) goes
1
>>> [(c.measurement, list(c.items)) for c in q.take(10, wait_s=0)]
[('alert', ['a']), ('reading', [2]), ('reading', [3])]
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Chunk", "PointQueue"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive points of one measurement, still unencoded; ``encode`` turns one item into a
    line (or None to skip it). Encoding happens on the writer's thread, off the alert path."""

    measurement: str
    items: Sequence[Any]
    encode: Callable[[Any], str | None]

    def __len__(self) -> int:
        return len(self.items)

    def split(self, n: int) -> tuple[Chunk, Chunk]:
        """The first ``n`` items and the rest."""
        return (
            Chunk(self.measurement, self.items[:n], self.encode),
            Chunk(self.measurement, self.items[n:], self.encode),
        )


class PointQueue:
    """Bounded to ``limit`` points across both lanes; thread-safe."""

    def __init__(self, limit: int, *, wake_at: int | None = None) -> None:
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        self.limit = limit
        self._wake_at = min(limit, wake_at or limit)
        self._priority: deque[Chunk] = deque()
        self._bulk: deque[Chunk] = deque()
        self._size = 0
        self._closed = False
        self._cond = threading.Condition(threading.Lock())

    def __len__(self) -> int:
        return self._size

    def put(self, chunk: Chunk, *, priority: bool = False) -> int:
        """Queue ``chunk``; returns the number of points dropped to stay within the bound."""
        n = len(chunk)
        if n == 0:
            return 0
        dropped = 0
        if n > self.limit:  # larger than the whole queue: keep its newest points
            dropped, n = n - self.limit, self.limit
            chunk = chunk.split(dropped)[1]
        with self._cond:
            excess = self._size + n - self.limit
            if excess > 0:
                dropped += self._evict(excess)
            (self._priority if priority else self._bulk).append(chunk)
            self._size += n
            if self._size >= self._wake_at:
                self._cond.notify()
        return dropped

    def _evict(self, excess: int) -> int:
        """Drop ``excess`` points, oldest first, bulk lane before priority (lock held)."""
        left = excess
        for lane in (self._bulk, self._priority):
            while left > 0 and lane:
                oldest = lane[0]
                if len(oldest) <= left:
                    lane.popleft()
                    left -= len(oldest)
                else:
                    lane[0] = oldest.split(left)[1]
                    left = 0
        self._size -= excess - left
        return excess - left

    def take(self, max_points: int, wait_s: float) -> list[Chunk]:
        """Up to ``max_points`` points, priority first. Waits up to ``wait_s`` for at least
        ``wake_at`` points (or ``close``) before handing out whatever is there (maybe nothing)."""
        deadline = time.monotonic() + wait_s
        out: list[Chunk] = []
        with self._cond:
            while self._size < self._wake_at and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            room = max_points
            for lane in (self._priority, self._bulk):
                while room > 0 and lane:
                    head = lane.popleft()
                    if len(head) > room:
                        head, rest = head.split(room)
                        lane.appendleft(rest)
                    out.append(head)
                    room -= len(head)
            self._size -= max_points - room
        return out

    def drain(self) -> int:
        """Empty the queue; returns the number of points thrown away."""
        with self._cond:
            n = self._size
            self._priority.clear()
            self._bulk.clear()
            self._size = 0
            return n

    def close(self) -> None:
        """Wake a waiting ``take`` for good (it returns at once from now on)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
