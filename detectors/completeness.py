"""Completeness: how many of the reports each station owes did arrive (received / expected).

Time is cut into slots of the station's ``interval_s``; a slot counts as received when at least
one reading with an event time in it arrived (several channels of a seismic station, duplicates
and retransmissions count once). Over the trailing ``window_s`` (default one hour, at least ten
intervals) up to the clock, expected is the number of slots since the later of the window start
and the first ``advance`` (a station is not blamed for the time before the runtime watched).
Districts (and each district's kinds) sum received and expected over their stations. The
pipeline exports the ratios as ``yujing_station_completeness_ratio`` and
``yujing_district_completeness_ratio`` on every tick.

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


class Completeness:
    """Received / expected reports per station and district (see the module docstring)."""

    def __init__(self, registry: Registry, window_s: float = WINDOW_S_DEFAULT) -> None:
        self.window_s = window_s
        self._specs = {s.id: (s.district, s.kind.value, s.interval_s) for s in registry}
        # received slots per station as sorted, disjoint [first, last] runs (a station that
        # reports every interval has one run: small state, small snapshots)
        self._runs: dict[str, list[list[int]]] = {s: [] for s in self._specs}
        self._clock: float | None = None
        self._first_clock: float | None = None

    def _window(self, interval_s: float) -> float:
        return max(self.window_s, MIN_INTERVALS * interval_s)

    def update(self, reading: Reading) -> None:
        spec = self._specs.get(reading.station)
        if spec is None:
            return
        slot = math.floor(reading.ts / spec[2])
        runs = self._runs[reading.station]
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

    def advance(self, now: float) -> None:
        self._clock = now if self._clock is None else max(self._clock, now)
        if self._first_clock is None:
            self._first_clock = now
        for station, runs in self._runs.items():
            interval = self._specs[station][2]
            oldest = math.ceil((self._clock - self._window(interval)) / interval)
            while runs and runs[0][1] < oldest:
                del runs[0]
            if runs and runs[0][0] < oldest:
                runs[0][0] = oldest

    def _row(self, station: str) -> CompletenessRow:
        district, kind, interval = self._specs[station]
        if self._clock is None or self._first_clock is None:
            return CompletenessRow(district, kind, station, 0, 0)
        end = math.floor(self._clock / interval)  # the slot the clock is in (still open)
        start = max(  # whole slots inside [clock - window, clock), not before the first advance
            math.ceil((self._clock - self._window(interval)) / interval),
            math.floor(self._first_clock / interval),
        )
        received = sum(
            max(0, min(hi, end - 1) - max(lo, start) + 1) for lo, hi in self._runs[station]
        )
        return CompletenessRow(district, kind, station, received, max(0, end - start))

    def stations(self) -> list[CompletenessRow]:
        """One row per station, in registry order."""
        return [self._row(s) for s in self._specs]

    def districts(self) -> list[CompletenessRow]:
        """Per district and kind, and per district over all kinds (``kind == "all"``)."""
        sums: dict[tuple[str, str], list[int]] = {}
        for row in self.stations():
            for key in ((row.district, row.kind), (row.district, "all")):
                total = sums.setdefault(key, [0, 0])
                total[0] += row.received
                total[1] += row.expected
        return [CompletenessRow(d, k, None, r, e) for (d, k), (r, e) in sorted(sums.items())]

    def snapshot(self) -> dict[str, Any]:
        return {
            "runs": {s: [list(r) for r in v] for s, v in self._runs.items()},
            "clock": self._clock,
            "first_clock": self._first_clock,
        }

    def restore(self, state: dict[str, Any]) -> None:
        for station, runs in state.get("runs", {}).items():
            if station in self._runs:
                self._runs[station] = [[int(lo), int(hi)] for lo, hi in runs]
        self._clock = state["clock"]
        self._first_clock = state["first_clock"]
