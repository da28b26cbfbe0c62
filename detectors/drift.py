"""Drift against neighbours: a sensor whose offset from its neighbours moves, persistently.

For a station with neighbours and a quantity whose quality spec sets ``drift_limit`` (and
``drift_window_s``, ``W``), each reading gives a *residual*: the value minus the median of the
neighbours' latest values of the same quantity (those no older than two report intervals; at
least two of them, or who of the two drifts cannot be told). The
station drifts when the median residual of the last ``W`` differs from the median residual of the
``W`` before by more than ``drift_limit`` (each median over at least :data:`MIN_POINTS`
residuals): a constant offset (another datum, a mounting height) cancels, a creeping or jumping
one does not. The station then gets ``sensor/drift`` (blue, ``value`` = the offset change,
``threshold`` = the limit) until the change falls back under the limit; the neighbour-agreement
gate stops trusting it meanwhile (:mod:`detectors.agreement`).

A drift is a maintenance flag, not a verdict: a real leak growing for hours at one point looks
the same, which is why it goes to a person.

>>> from yujing.config.stations import Registry, StationSpec
>>> from yujing.contracts import Kind, Reading
>>> from detectors.quality import QualitySpec
>>> def point(name, *near): return StationSpec(name, "", Kind.GAS, "d1", 0.0, 0.0, 600.0,
...                                            neighbours=near)
>>> spec = {"ch4_pct_lel": QualitySpec(drift_limit=3.0, drift_window_s=3600.0)}
>>> drift = NeighbourDrift(Registry.from_specs([point("A", "B", "C"), point("B", "A"),
...                                              point("C", "A")]), spec)
>>> out = []
>>> for i in range(30):                                   # A creeps up 0.6 %LEL per report
...     for name, value in (("B", 0.5), ("C", 0.7), ("A", 0.6 + 0.6 * max(0, i - 10))):
...         out += drift.update(Reading(name, Kind.GAS, "d1", 600.0 * i, i,
...                                     {"ch4_pct_lel": value}))
>>> [(f.station, f.rule, f.grade.value, round(f.value, 2)) for f in out]
[('A', 'drift', 'blue', 3.6)]
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from detectors.quality import QualitySpec
from yujing.contracts import Finding, Grade, Hazard, Kind, Reading

if TYPE_CHECKING:
    from yujing.config.stations import Registry

__all__ = ["DRIFT_RULE", "MIN_POINTS", "NeighbourDrift"]

DRIFT_RULE = "drift"
MIN_POINTS = 5
MIN_NEIGHBOURS = 2


@dataclass(slots=True)
class _Residuals:
    """One station's residuals of one quantity in time order (``ts``, ``values``: what a
    snapshot keeps), and the same values sorted in the two windows the medians are taken over:
    ``older`` (the window before) and ``recent`` (the last window, from ``split_ts`` on).

    Why sorted halves: with a 6 h window and reports every minute each window holds 360
    residuals; sorting both for every reading made the drift check cost more than the rest of
    a gas reading's path. Kept sorted, each reading moves the few residuals that cross a
    window edge, and a median is a look-up.
    """

    ts: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    drifting: bool = False
    older: list[float] = field(default_factory=list)
    recent: list[float] = field(default_factory=list)
    split_ts: float | None = None  # None: the sorted windows are not built (after a restore)

    def add(self, ts: float, value: float, window_s: float) -> None:
        """Take one residual; forget those more than two windows behind the newest."""
        times, values = self.ts, self.values
        newest = max(ts, times[-1]) if times else ts
        cut_ts, split_ts = newest - 2 * window_s, newest - window_s
        if self.split_ts is None:  # the windows as they stood before this residual
            self._sort(times[-1] - window_s if times else split_ts)
        was = self.split_ts
        assert was is not None
        gone = bisect.bisect_left(times, cut_ts)
        moving = bisect.bisect_left(times, split_ts)
        for k in range(gone):
            _discard(self.older if times[k] < was else self.recent, values[k])
        for k in range(max(gone, bisect.bisect_left(times, was)), moving):
            _discard(self.recent, values[k])
            bisect.insort(self.older, values[k])
        del times[:gone], values[:gone]
        self.split_ts = split_ts
        if ts >= cut_ts:  # else it is older than what is kept (a very late reading)
            at = bisect.bisect_right(times, ts)
            times.insert(at, ts)
            values.insert(at, value)
            bisect.insort(self.older if ts < split_ts else self.recent, value)

    def _sort(self, split_ts: float) -> None:
        split = bisect.bisect_left(self.ts, split_ts)
        self.older, self.recent = sorted(self.values[:split]), sorted(self.values[split:])
        self.split_ts = split_ts


def _discard(ordered: list[float], value: float) -> None:
    del ordered[bisect.bisect_left(ordered, value)]


def _median(ordered: list[float]) -> float:
    """:func:`statistics.median` of an already sorted list (the same arithmetic)."""
    n = len(ordered)
    half = n // 2
    return ordered[half] if n % 2 else (ordered[half - 1] + ordered[half]) / 2


class NeighbourDrift:
    """The drift check for every station with neighbours (see the module docstring)."""

    def __init__(self, registry: Registry, specs: Mapping[str, QualitySpec]) -> None:
        self.specs = {q: s for q, s in specs.items() if s.drift_limit > 0}
        # kinds whose readings update() uses: those with neighbours (waveforms carry no values)
        self.reads_kinds = frozenset(
            s.kind for s in registry if s.neighbours and s.kind is not Kind.SEISMIC and self.specs
        )
        self._neighbours = {s.id: s.neighbours for s in registry if s.neighbours}
        self._interval = {s.id: s.interval_s for s in registry}
        self._district = {s.id: s.district for s in registry}
        self._latest: dict[str, dict[str, tuple[float, float]]] = {}
        self._residuals: dict[str, dict[str, _Residuals]] = {}

    def observe(self, finding: Finding) -> list[Finding]:
        return [finding]

    def update(self, reading: Reading) -> list[Finding]:
        if not self.specs:
            return []
        out: list[Finding] = []
        for q, value in reading.values.items():
            spec = self.specs.get(q)
            if spec is None:
                continue
            latest = self._latest.setdefault(reading.station, {})
            previous = latest.get(q)
            if previous is None or reading.ts >= previous[0]:
                latest[q] = (reading.ts, float(value))
            near = self._neighbours.get(reading.station, ())
            if not near:
                continue
            out.extend(self._residual(reading, q, float(value), spec, near))
        return out

    def advance(self, now: float) -> list[Finding]:
        return []

    def _residual(
        self, reading: Reading, q: str, value: float, spec: QualitySpec, near: tuple[str, ...]
    ) -> list[Finding]:
        fresh = []
        for other in near:
            seen = self._latest.get(other, {}).get(q)
            if seen is None:
                continue
            limit = 2.0 * max(self._interval.get(other, 0.0), self._interval[reading.station])
            if abs(seen[0] - reading.ts) <= limit:
                fresh.append(seen[1])
        if len(fresh) < MIN_NEIGHBOURS:
            return []  # with one neighbour, who of the two drifts cannot be told
        track = self._residuals.setdefault(reading.station, {}).setdefault(q, _Residuals())
        window = spec.drift_window_s
        track.add(reading.ts, value - _median(sorted(fresh)), window)
        if len(track.older) < MIN_POINTS or len(track.recent) < MIN_POINTS:
            return []
        change = _median(track.recent) - _median(track.older)
        drifting = abs(change) > spec.drift_limit
        if drifting is track.drifting:
            return []
        track.drifting = drifting
        grade = Grade.BLUE if drifting else Grade.NONE
        message = (
            f"{q} drifted {change:+.3g} against its neighbours within {window:g} s "
            f"(limit {spec.drift_limit:g})"
            if drifting
            else f"{q} follows its neighbours again"
        )
        return [
            Finding(
                area=reading.station,
                district=self._district[reading.station],
                hazard=Hazard.SENSOR,
                rule=DRIFT_RULE,
                grade=grade,
                ts=reading.ts,
                value=abs(change) if drifting else None,
                threshold=spec.drift_limit if drifting else None,
                quantity=q,
                station=reading.station,
                message=message,
                evidence={
                    "quantity": q,
                    "offset_change": change,
                    "window_s": window,
                    "neighbours": list(near),
                },
                source_ts=reading.ts,
            )
        ]

    def snapshot(self) -> dict[str, Any]:
        return {
            "latest": {s: {q: list(v) for q, v in qs.items()} for s, qs in self._latest.items()},
            "residuals": {
                s: {q: [r.ts, r.values, r.drifting] for q, r in qs.items()}
                for s, qs in self._residuals.items()
            },
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._latest = {
            s: {q: (float(v[0]), float(v[1])) for q, v in qs.items()}
            for s, qs in state["latest"].items()
        }
        self._residuals = {
            s: {
                q: _Residuals([float(t) for t in r[0]], [float(v) for v in r[1]], bool(r[2]))
                for q, r in qs.items()
            }
            for s, qs in state["residuals"].items()
        }
