"""Clock skew: a station whose event times lag the rest of the network's, persistently.

The runtime clock cannot serve as the reference: when the pipeline falls behind (a backlog after a
restart, a replay) every reading looks late. So the reference is the network itself: on every
``advance`` the *frontier* is the median, over the stations that reported, of each station's newest
event time. A reading's lag is ``frontier - ts`` at the time it is taken; a backlog shifts the
frontier and the readings alike. A station gets ``sensor/clock_skew`` (blue, ``value`` = the
smallest of its recent lags) when each of its last ``persist_m`` readings, counted at most once
per tick (a buffered upload arrives within one tick and counts once), lagged by more than
``lag_s`` (the ``clock`` block of the ladder files, default 900 s); ``none`` when it catches up.
The readings themselves are real and are kept.

>>> from yujing.config.stations import Registry, StationSpec
>>> from yujing.contracts import Kind, Reading
>>> net = Registry.from_specs([StationSpec(n, "", Kind.GAS, "d1", 0, 0, 60.0) for n in "ABCD"])
>>> skew = ClockSkew(net, lag_s=900.0, persist_m=3)
>>> found = []
>>> for minute in range(10):
...     now = 60.0 * minute
...     for name in "ABC":
...         found += skew.update(Reading(name, Kind.GAS, "d1", now, minute, {"ch4_pct_lel": 0}))
...     found += skew.update(Reading("D", Kind.GAS, "d1", now - 1200.0, minute,
...                                  {"ch4_pct_lel": 0}))    # D's clock is 20 min behind
...     found += skew.advance(now + 1.0)
>>> [(f.station, f.rule, f.grade.value, f.value) for f in found]
[('D', 'clock_skew', 'blue', 1140.0)]
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from yujing.contracts import Finding, Grade, Hazard, Reading

if TYPE_CHECKING:
    from yujing.config.stations import Registry

__all__ = ["CLOCK_RULE", "ClockSkew", "MIN_STATIONS"]

CLOCK_RULE = "clock_skew"
MIN_STATIONS = 3


@dataclass(slots=True)
class _Clock:
    """One station's bookkeeping, in one object so that a reading costs one lookup."""

    district: str
    lags: deque[float]  # the last persist_m lags counted
    newest: float | None = None  # newest event time seen
    counted: int | None = None  # tick at which a lag was last counted
    over: int = 0  # how many of the newest lags in a row exceed the limit
    skewed: bool = False


def _over_in_a_row(lags: deque[float], lag_s: float) -> int:
    """How many of the newest ``lags`` in a row exceed ``lag_s``."""
    count = 0
    for lag in reversed(lags):
        if lag <= lag_s:
            break
        count += 1
    return count


class ClockSkew:
    """The clock-lag check over all stations of a registry (see the module docstring).

    A station is lagging when its last ``persist_m`` lags all exceed ``lag_s``: kept as the
    number of lags in a row over the limit (``_Clock.over``), so a reading costs a comparison,
    not a list rebuilt and its minimum taken; the lags themselves are kept for the evidence."""

    def __init__(self, registry: Registry, lag_s: float = 900.0, persist_m: int = 5) -> None:
        if persist_m < 1:
            raise ValueError(f"clock skew: persist_m must be at least 1, not {persist_m}")
        self.lag_s = lag_s
        self.persist_m = persist_m
        self._clocks = {s.id: _Clock(s.district, deque(maxlen=persist_m)) for s in registry}
        self._reported: list[_Clock] = []  # stations with a newest time (the median's data)
        self._first: dict[str, None] = {}  # their ids, in order of their first report
        self._frontier: float | None = None
        self._tick = 0

    def observe(self, finding: Finding) -> list[Finding]:
        return [finding]

    def update(self, reading: Reading) -> list[Finding]:
        clock = self._clocks.get(reading.station)
        if clock is None:
            return []
        ts = reading.ts
        newest = clock.newest
        if newest is None:
            self._reported.append(clock)
            self._first[reading.station] = None
            clock.newest = ts
        elif ts > newest:
            clock.newest = ts
        frontier = self._frontier
        if frontier is None or clock.counted == self._tick:
            return []
        clock.counted = self._tick
        lag = frontier - ts
        clock.lags.append(lag)
        clock.over = clock.over + 1 if lag > self.lag_s else 0
        lagging = clock.over >= self.persist_m
        if lagging == clock.skewed:
            return []
        clock.skewed = lagging
        return [self._finding(reading, clock, lagging)]

    def _finding(self, reading: Reading, clock: _Clock, lagging: bool) -> Finding:
        station = reading.station
        lags = list(clock.lags)
        if lagging:
            message = (
                f"event times lag the other stations' by {min(lags):.0f} s or more "
                f"(limit {self.lag_s:g} s): clock behind"
            )
        else:
            message = "event times keep up with the other stations again"
        return Finding(
            area=station,
            district=clock.district,
            hazard=Hazard.SENSOR,
            rule=CLOCK_RULE,
            grade=Grade.BLUE if lagging else Grade.NONE,
            ts=reading.ts,
            value=min(lags) if lagging else None,
            threshold=None,
            quantity="clock_lag_s",
            station=station,
            message=message,
            evidence={"lags_s": lags, "lag_limit_s": self.lag_s},
            source_ts=reading.ts,
        )

    def advance(self, now: float) -> list[Finding]:
        self._tick += 1
        if len(self._reported) >= MIN_STATIONS:
            newest = [clock.newest for clock in self._reported if clock.newest is not None]
            self._frontier = statistics.median(newest)
        return []

    def snapshot(self) -> dict[str, Any]:
        clocks = self._clocks
        counted = [s for s in self._first if clocks[s].counted is not None]
        return {
            "newest": {s: clocks[s].newest for s in self._first},
            "frontier": self._frontier,
            "tick": self._tick,
            "lags": {s: list(clocks[s].lags) for s in counted},
            "counted": {s: clocks[s].counted for s in counted},
            "skewed": sorted(s for s in self._first if clocks[s].skewed),
        }

    def restore(self, state: dict[str, Any]) -> None:
        for clock in self._clocks.values():
            clock.lags.clear()
            clock.newest = clock.counted = None
            clock.over, clock.skewed = 0, False
        self._reported, self._first = [], {}
        for s, v in state["newest"].items():
            known = self._clocks.get(s)
            if known is not None:
                known.newest = float(v)
                self._reported.append(known)
                self._first[s] = None
        self._frontier = state["frontier"]
        self._tick = int(state["tick"])
        for s, v in state["lags"].items():
            if s in self._clocks:
                self._clocks[s].lags.extend(float(x) for x in v)
                self._clocks[s].over = _over_in_a_row(self._clocks[s].lags, self.lag_s)
        for s, v in state["counted"].items():
            if s in self._clocks:
                self._clocks[s].counted = int(v)
        for s in state["skewed"]:
            if s in self._clocks:
                self._clocks[s].skewed = True
