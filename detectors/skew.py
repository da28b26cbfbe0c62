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
from typing import TYPE_CHECKING, Any

from yujing.contracts import Finding, Grade, Hazard, Reading

if TYPE_CHECKING:
    from yujing.config.stations import Registry

__all__ = ["CLOCK_RULE", "ClockSkew", "MIN_STATIONS"]

CLOCK_RULE = "clock_skew"
MIN_STATIONS = 3


class ClockSkew:
    """The clock-lag check over all stations of a registry (see the module docstring)."""

    def __init__(self, registry: Registry, lag_s: float = 900.0, persist_m: int = 5) -> None:
        self.lag_s = lag_s
        self.persist_m = persist_m
        self._district = {s.id: s.district for s in registry}
        self._newest: dict[str, float] = {}
        self._frontier: float | None = None
        self._tick = 0
        self._lags: dict[str, list[float]] = {}
        self._counted: dict[str, int] = {}  # tick at which a lag was last counted
        self._skewed: set[str] = set()

    def observe(self, finding: Finding) -> list[Finding]:
        return [finding]

    def update(self, reading: Reading) -> list[Finding]:
        station = reading.station
        if station not in self._district:
            return []
        newest = self._newest.get(station)
        self._newest[station] = reading.ts if newest is None else max(newest, reading.ts)
        if self._frontier is None or self._counted.get(station) == self._tick:
            return []
        self._counted[station] = self._tick
        lags = self._lags[station] = [*self._lags.get(station, []), self._frontier - reading.ts][
            -self.persist_m :
        ]
        lagging = len(lags) == self.persist_m and min(lags) > self.lag_s
        if lagging == (station in self._skewed):
            return []
        if lagging:
            self._skewed.add(station)
            message = (
                f"event times lag the other stations' by {min(lags):.0f} s or more "
                f"(limit {self.lag_s:g} s): clock behind"
            )
        else:
            self._skewed.discard(station)
            message = "event times keep up with the other stations again"
        return [
            Finding(
                area=station,
                district=self._district[station],
                hazard=Hazard.SENSOR,
                rule=CLOCK_RULE,
                grade=Grade.BLUE if lagging else Grade.NONE,
                ts=reading.ts,
                value=min(lags) if lagging else None,
                threshold=None,
                quantity="clock_lag_s",
                station=station,
                message=message,
                evidence={"lags_s": list(lags), "lag_limit_s": self.lag_s},
                source_ts=reading.ts,
            )
        ]

    def advance(self, now: float) -> list[Finding]:
        self._tick += 1
        if len(self._newest) >= MIN_STATIONS:
            self._frontier = statistics.median(self._newest.values())
        return []

    def snapshot(self) -> dict[str, Any]:
        return {
            "newest": dict(self._newest),
            "frontier": self._frontier,
            "tick": self._tick,
            "lags": {s: list(v) for s, v in self._lags.items()},
            "counted": dict(self._counted),
            "skewed": sorted(self._skewed),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._newest = {s: float(v) for s, v in state["newest"].items()}
        self._frontier = state["frontier"]
        self._tick = int(state["tick"])
        self._lags = {s: [float(x) for x in v] for s, v in state["lags"].items()}
        self._counted = {s: int(v) for s, v in state["counted"].items()}
        self._skewed = set(state["skewed"])
