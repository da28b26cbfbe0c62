"""What the city map needs and no single notice carries: every station's current grade, its data
completeness, and each page's time so an acknowledgement can say how long it took.

Fed only with what the pipeline already hands out (readings and notices); it never looks inside
the detectors or the alert book. Thread-safe: the runtime's loop feeds it, the writer's thread
reads it.

>>> from yujing.contracts import AlertKey, AlertState, Grade, Hazard, Notice, NoticeReason
>>> board = StationBoard()
>>> key = AlertKey("G1", Hazard.GAS_LEAK, "ch4")
>>> fired = Notice(key, 1, NoticeReason.FIRED, Grade.RED, Grade.NONE, AlertState.FIRING, "d", 10.0)
>>> board.observe_notice(fired)
(None, ('G1',))
>>> board.state("G1").grade
<Grade.RED: 'red'>
>>> ack = Notice(key, 2, NoticeReason.ACKNOWLEDGED, Grade.RED, Grade.RED,
...              AlertState.ACKNOWLEDGED, "d", 70.0)
>>> board.observe_notice(ack)
(60.0, ('G1',))
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence

from yujing.config.stations import Registry
from yujing.contracts import AlertKey, AlertState, Grade, Notice, NoticeReason, Reading, max_grade
from yujing.storage.schema import StationState

__all__ = ["StationBoard"]

_PAGED = (Grade.ORANGE, Grade.RED)
_PAGE_REASONS = (NoticeReason.FIRED, NoticeReason.UPGRADED)
_MAX_PAGES = 10_000  # forget the oldest page times beyond this (acks that never come)


class StationBoard:
    """Active alerts per station, reading counts per station, page times per alert."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._known = frozenset(s.id for s in registry) if registry is not None else None
        self._active: dict[str, dict[tuple[AlertKey, bool], Grade]] = {}
        self._counts: Counter[str] = Counter()
        self._paged_at: dict[tuple[AlertKey, bool], float] = {}
        self._lock = threading.Lock()

    def observe_readings(self, readings: Sequence[Reading]) -> None:
        counts = Counter(r.station for r in readings)
        with self._lock:
            self._counts.update(counts)

    def _stations_of(self, notice: Notice) -> tuple[str, ...]:
        stations = notice.stations or (notice.key.area,)
        if self._known is None:
            return tuple(stations)
        return tuple(s for s in stations if s in self._known)

    def observe_notice(self, notice: Notice) -> tuple[float | None, tuple[str, ...]]:
        """Record one transition; returns (seconds from page to this acknowledgement or None,
        the stations whose state it touched)."""
        slot = (notice.key, notice.is_drill)
        stations = self._stations_of(notice)
        ended = notice.state is AlertState.RESOLVED or notice.grade is Grade.NONE
        ack_s: float | None = None
        with self._lock:
            if notice.reason in _PAGE_REASONS and notice.grade in _PAGED:
                self._paged_at[slot] = notice.ts
                if len(self._paged_at) > _MAX_PAGES:
                    del self._paged_at[next(iter(self._paged_at))]
            elif notice.reason is NoticeReason.ACKNOWLEDGED and slot in self._paged_at:
                ack_s = max(0.0, notice.ts - self._paged_at.pop(slot))
            if ended:
                self._paged_at.pop(slot, None)
            for station in stations:
                active = self._active.setdefault(station, {})
                if ended:
                    active.pop(slot, None)
                else:
                    active[slot] = notice.grade
        return ack_s, stations

    def state(self, station: str) -> StationState:
        with self._lock:
            grades = list(self._active.get(station, {}).values())
        return StationState(max_grade(grades), len(grades))

    def states(
        self, stations: Iterable[str], *, elapsed_s: float = 0.0, intervals: dict[str, float]
    ) -> dict[str, StationState]:
        """Current state of ``stations``. With ``elapsed_s`` > 0 (the period since the last
        call that did so), completeness = readings received / readings expected over it, and the
        reading counts start again."""
        out: dict[str, StationState] = {}
        with self._lock:
            for station in stations:
                grades = list(self._active.get(station, {}).values())
                completeness = None
                interval = intervals.get(station, 0.0)
                if elapsed_s > 0.0 and interval > 0.0 and elapsed_s >= interval:
                    completeness = min(1.0, self._counts.get(station, 0) * interval / elapsed_s)
                out[station] = StationState(max_grade(grades), len(grades), completeness)
            if elapsed_s > 0.0:
                self._counts.clear()
        return out
