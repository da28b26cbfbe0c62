"""Due times of alert slots, so that a tick visits only the slots whose timer ran out.

The live runtime ticks every second and a storm keeps thousands of alerts active; looking at
each of them per tick (a dwell, flapping that may calm down, a group waiting to fire) costs more
than the tick's real work. A :class:`DueQueue` keeps one due time per slot in a heap and hands
back, at ``now``, only the slots that are due.

Callers keep the decision itself exact: the queue only says *when to look*. A slot looked at too
early must simply do nothing (every visit re-checks its own condition), so :func:`early` moves a
due time a hair earlier to absorb floating-point rounding: ``now - start >= wait`` and
``now >= start + wait`` can disagree in the last bit, and a visit must never come a tick late.

>>> from yujing.contracts import AlertKey, Hazard
>>> a, b = [(AlertKey(area, Hazard.FLOOD, "level"), False) for area in ("S1", "S2")]
>>> queue = DueQueue()
>>> queue.schedule(a, 100.0); queue.schedule(b, 50.0); queue.schedule(a, 120.0)  # a stays at 100
>>> queue.pop_due(60.0) == [b], queue.pop_due(99.0), queue.pop_due(100.0) == [a], len(queue)
(True, [], True, 0)
"""

from __future__ import annotations

import heapq

from alerting.slots import Slot

__all__ = ["DueQueue", "early"]


def early(due: float) -> float:
    """``due`` moved earlier by a few parts in 10¹² (about 2 ms at epoch seconds): enough to
    absorb the rounding of ``start + wait``, too little to matter to a one-second tick."""
    return due - (abs(due) * 1e-12 + 1e-9)


class DueQueue:
    """The earliest due time per slot, in a heap with lazy deletion.

    Scheduling a slot that is already due earlier keeps the earlier time (the visit then
    reschedules); scheduling it earlier replaces the pending time. Superseded heap items stay
    in the heap and are skipped when they surface, so every operation is O(log n).
    """

    __slots__ = ("_due", "_heap")

    def __init__(self) -> None:
        self._heap: list[tuple[float, Slot]] = []
        self._due: dict[Slot, float] = {}

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, slot: object) -> bool:
        return slot in self._due

    def schedule(self, slot: Slot, due: float) -> None:
        """Look at ``slot`` once ``now`` reaches ``due`` (or earlier, if already scheduled so)."""
        current = self._due.get(slot)
        if current is not None and current <= due:
            return
        self._due[slot] = due
        heapq.heappush(self._heap, (due, slot))

    def pop_due(self, now: float) -> list[Slot]:
        """Every slot due at ``now`` (unordered), each removed from the queue."""
        heap, scheduled = self._heap, self._due
        out: list[Slot] = []
        while heap and heap[0][0] <= now:
            due, slot = heapq.heappop(heap)
            if scheduled.get(slot) == due:
                del scheduled[slot]
                out.append(slot)
        return out

    def clear(self) -> None:
        self._heap.clear()
        self._due.clear()
