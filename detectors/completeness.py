"""Completeness: how many of the reports each station owes did arrive (received / expected).

Time is cut into slots of the station's ``interval_s``; a slot counts as received when at least
one reading with an event time in it arrived (several channels of a seismic station, duplicates
and retransmissions count once). Over the trailing ``window_s`` (default one hour, at least ten
intervals) up to the clock, expected is the number of slots since the later of the window start
and the first ``advance`` (a station is not blamed for the time before the runtime watched).
Districts (and each district's kinds) sum received and expected over their stations. The
pipeline exports the ratios as ``yujing_station_completeness_ratio`` and
``yujing_district_completeness_ratio`` (set on a tick at most every 10 s).

>>> from yujing.config.stations import Registry, StationSpec
>>> from yujing.contracts import Kind, Reading
>>> gauges = Registry.from_specs([StationSpec("R1", "", Kind.RAIN, "d1", 0, 0, 60.0)])
>>> book = Completeness(gauges, window_s=600.0)
>>> book.advance(0.0)
>>> for minute in (0, 1, 2, 3, 5, 7, 8, 9):           # 8 of 10 reports came
...     book.update(Reading("R1", Kind.RAIN, "d1", 60.0 * minute + 5, minute, {"rain_mm": 0}))
>>> book.advance(600.0)
>>> [(r.station, r.kind, r.received, r.expected, r.ratio) for r in book.stations()]
[('R1', 'rain', 8, 10, 0.8)]
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from yujing.contracts import Reading

if TYPE_CHECKING:
    from yujing.config.stations import Registry

__all__ = ["Completeness", "CompletenessRow", "WINDOW_S_DEFAULT"]


def _first(run: list[int]) -> int:
    return run[0]


WINDOW_S_DEFAULT = 3600.0
MIN_INTERVALS = 10


@dataclass(frozen=True, slots=True)
class CompletenessRow:
    """One ratio: a station (``station`` set) or a district's kind (``station`` None; ``kind``
    ``"all"`` for the whole district)."""

    district: str
    kind: str
    station: str | None
    received: int
    expected: int

    @property
    def ratio(self) -> float:
        return 1.0 if self.expected == 0 else min(1.0, self.received / self.expected)


@dataclass(slots=True)
class _Station:
    """One station's slots: its constants and its received runs, behind one lookup."""

    district: str
    kind: str
    interval: float
    window: float  # the trailing window, at least MIN_INTERVALS intervals
    # received slots as sorted, disjoint [first, last] runs (a station that reports every
    # interval has one run: small state, small snapshots)
    runs: list[list[int]]


def _add_slot(runs: list[list[int]], slot: int) -> None:
    """Mark ``slot`` received in ``runs`` (sorted, disjoint, not touching)."""
    if runs and runs[-1][0] <= slot <= runs[-1][1] + 1:  # the common case: in order
        runs[-1][1] = max(runs[-1][1], slot)
        return
    i = bisect.bisect_right(runs, slot, key=_first) - 1
    if i >= 0 and runs[i][0] <= slot <= runs[i][1]:
        return  # seen
    if i >= 0 and runs[i][1] == slot - 1:
        runs[i][1] = slot
    else:
        i += 1
        runs.insert(i, [slot, slot])
    if i + 1 < len(runs) and runs[i + 1][0] == runs[i][1] + 1:  # joins the next run
        runs[i][1] = runs[i + 1][1]
        del runs[i + 1]


def _forget_before(runs: list[list[int]], oldest: int) -> None:
    """Drop the slots before ``oldest`` from ``runs``."""
    while runs and runs[0][1] < oldest:
        del runs[0]
    if runs and runs[0][0] < oldest:
        runs[0][0] = oldest


class Completeness:
    """Received / expected reports per station and district (see the module docstring)."""

    def __init__(self, registry: Registry, window_s: float = WINDOW_S_DEFAULT) -> None:
        self.window_s = window_s
        self._stations = {
            s.id: _Station(s.district, s.kind.value, s.interval_s, self._window(s.interval_s), [])
            for s in registry
        }
        # stations by (interval, window): the oldest slot kept is worked out once per step
        self._by_step: dict[tuple[float, float], list[_Station]] = {}
        for station in self._stations.values():
            self._by_step.setdefault((station.interval, station.window), []).append(station)
        self._clock: float | None = None
        self._first_clock: float | None = None

    def _window(self, interval_s: float) -> float:
        return max(self.window_s, MIN_INTERVALS * interval_s)

    def update(self, reading: Reading) -> None:
        station = self._stations.get(reading.station)
        if station is None:
            return
        slot = math.floor(reading.ts / station.interval)
        runs = station.runs
        if runs:  # the common case, in order, first (as in _add_slot)
            last = runs[-1]
            if last[0] <= slot <= last[1] + 1:
                if slot > last[1]:
                    last[1] = slot
                return
        _add_slot(runs, slot)

    def advance(self, now: float) -> None:
        self._clock = clock = now if self._clock is None else max(self._clock, now)
        if self._first_clock is None:
            self._first_clock = now
        for (interval, window), stations in self._by_step.items():
            oldest = math.ceil((clock - window) / interval)
            for station in stations:
                runs = station.runs
                if runs and runs[0][0] < oldest:
                    first = runs[0]
                    if first[1] >= oldest:  # the common case (as in _forget_before): clip it
                        first[0] = oldest
                    else:
                        _forget_before(runs, oldest)

    def _row(self, station_id: str) -> CompletenessRow:
        station = self._stations[station_id]
        district, kind, interval = station.district, station.kind, station.interval
        if self._clock is None or self._first_clock is None:
            return CompletenessRow(district, kind, station_id, 0, 0)
        end = math.floor(self._clock / interval)  # the slot the clock is in (still open)
        start = max(  # whole slots inside [clock - window, clock), not before the first advance
            math.ceil((self._clock - station.window) / interval),
            math.floor(self._first_clock / interval),
        )
        received = sum(max(0, min(hi, end - 1) - max(lo, start) + 1) for lo, hi in station.runs)
        return CompletenessRow(district, kind, station_id, received, max(0, end - start))

    def stations(self) -> list[CompletenessRow]:
        """One row per station, in registry order."""
        return [self._row(s) for s in self._stations]

    def districts(self, stations: Sequence[CompletenessRow] | None = None) -> list[CompletenessRow]:
        """Per district and kind, and per district over all kinds (``kind == "all"``), from
        ``stations`` (:meth:`stations`, when the caller has them already)."""
        sums: dict[tuple[str, str], list[int]] = {}
        for row in self.stations() if stations is None else stations:
            for key in ((row.district, row.kind), (row.district, "all")):
                total = sums.setdefault(key, [0, 0])
                total[0] += row.received
                total[1] += row.expected
        return [CompletenessRow(d, k, None, r, e) for (d, k), (r, e) in sorted(sums.items())]

    def snapshot(self) -> dict[str, Any]:
        return {
            "runs": {s: [list(r) for r in v.runs] for s, v in self._stations.items()},
            "clock": self._clock,
            "first_clock": self._first_clock,
        }

    def restore(self, state: dict[str, Any]) -> None:
        for station_id, runs in state.get("runs", {}).items():
            station = self._stations.get(station_id)
            if station is not None:
                station.runs = [[int(lo), int(hi)] for lo, hi in runs]
        self._clock = state["clock"]
        self._first_clock = state["first_clock"]
