"""Area rainfall: the mean of a district's (and an area's) gauges, graded by the rain ladders.

Every rain gauge belongs to its district and, when the registry gives one, to its ``area``; each
such group is graded on its own, with the same ``rainstorm`` and ``short_heavy_rain`` ladders as
a single gauge (``configs/ladders/rain.yaml``). The group's total for window ``W`` (the windows
the rules read: 1, 3, 6 and 12 h) at event time ``t`` is the arithmetic mean, over the gauges that
count, of each gauge's total in ``(t - W, t]``
(:class:`detectors.rain.RainWindows`). The findings' ``area`` is the group id (district or area),
``station`` is None, and the evidence lists the gauges used and the ones left out.

Which gauges count
    A gauge counts once it has reported, and not while it is silent (``sensor/silence``) or
    persistently suspect (``sensor/quality``, ``sensor/drift``): a dead gauge reads 0 mm, which
    would dilute the mean. Suspect single reports are excluded by the gauge's own
    :class:`~detectors.quality.QualityGate` (the same checks the gauge's detector runs). With
    fewer than ``area_min_gauges`` (rule param, default 2) gauges counting, the group's rules
    turn ``unknown``.

Time
    Each gauge's reports pass a ``seq`` gate (a shuffled buffered upload is put back in order) and
    are added to the gauge's windows (:class:`detectors.rain.RainWindows`; late reports at their
    place). A group is evaluated once per tick (``advance``), after the whole batch: at the newest
    event time its gauges delivered since the last tick (never before the last evaluation), or,
    without new data, at ``now`` so windows expire. One evaluation per tick means the mean never
    shows a half-updated hour (some gauges' report in, others' not yet) within a batch.

>>> from yujing.config.stations import Registry, StationSpec
>>> from yujing.contracts import Kind, Reading
>>> from pathlib import Path
>>> from yujing.config import load_ladders
>>> book = load_ladders(Path(__file__).parents[1] / "configs" / "ladders")
>>> gauges = [StationSpec(n, "", Kind.RAIN, "d1", 0.0, 0.0, 3600.0) for n in ("A", "B")]
>>> area = AreaRain(Registry.from_specs(gauges), book.for_kind(Kind.RAIN))
>>> area.update(Reading("A", Kind.RAIN, "d1", 3600.0, 1, {"rain_mm": 30.0}))
[]
>>> area.advance(3601.0)                           # one gauge only: cannot grade the area yet
[]
>>> area.update(Reading("B", Kind.RAIN, "d1", 3600.0, 1, {"rain_mm": 14.0}))
[]
>>> [(f.area, f.rule, f.grade.value, f.value) for f in area.advance(3602.0)]
[('d1', 'rainstorm', 'none', 22.0), ('d1', 'short_heavy_rain', 'blue', 22.0)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from detectors import _text
from detectors._sequence import SequenceGate
from detectors.ladder import LadderState, next_grade
from detectors.quality import QualityGate
from detectors.rain import RAIN_WINDOWS_S, UM_PER_MM, RainWindows
from yujing.contracts import ConfigError, Finding, Grade, Hazard, Kind, Reading

if TYPE_CHECKING:
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import Registry

__all__ = ["AREA_MIN_GAUGES_DEFAULT", "AreaRain"]

AREA_MIN_GAUGES_DEFAULT = 2
_EXCLUDING = ("silence", "quality", "drift")


@dataclass(slots=True)
class _Gauge:
    station: str
    windows: RainWindows = field(default_factory=RainWindows)
    seq: SequenceGate = field(default_factory=SequenceGate)
    quality: QualityGate | None = None
    reported: bool = False
    excluded: set[str] = field(default_factory=set)  # sensor rules now at a warning grade
    groups: tuple[_Group, ...] = ()  # its district and area (the objects: no lookup per reading)


@dataclass(slots=True)
class _Group:
    district: str
    gauges: tuple[str, ...]
    states: dict[str, LadderState] = field(default_factory=dict)
    published: dict[str, Grade] = field(default_factory=dict)
    eval_ts: float | None = None
    dirty_ts: float | None = None  # newest data time not evaluated yet (evaluated on advance)
    dirty_source_ts: float | None = None
    # the increments of the gauges that count, pooled (0 mm ones left out: they change no
    # total): mean = pooled total / number of gauges
    pooled: RainWindows = field(default_factory=RainWindows)
    pooled_from: frozenset[str] = frozenset()
    # (membership version, gauges used, gauges left out), worked out again when a gauge of the
    # registry first reports or is excluded or let back in
    counted: tuple[int, list[str], list[str]] | None = None


class AreaRain:
    """Area rainfall for every district and area of the registry's rain gauges."""

    reads_kinds: frozenset[Kind] = frozenset({Kind.RAIN})  # kinds whose readings update() uses

    def __init__(self, registry: Registry, rules: Sequence[RuleSpec]) -> None:
        self.rules = tuple(r for r in rules if r.hazard is Hazard.RAINSTORM)
        for spec in self.rules:
            for rung in spec.ladder.rungs:
                q = spec.ladder.quantity_of(rung)
                if q not in RAIN_WINDOWS_S:
                    raise ConfigError(f"area rain: rule {spec.rule!r} reads {q!r}")
        # windows the rules read (12 h for the CMA signals): longer history is not kept
        self.windows = {
            q: w
            for q, w in RAIN_WINDOWS_S.items()
            if any(
                spec.ladder.quantity_of(r) == q for spec in self.rules for r in spec.ladder.rungs
            )
        }
        self.horizon_s = max(self.windows.values(), default=max(RAIN_WINDOWS_S.values()))
        mins = {int(r.params.get("area_min_gauges", AREA_MIN_GAUGES_DEFAULT)) for r in self.rules}
        self.min_gauges = max(mins, default=AREA_MIN_GAUGES_DEFAULT)
        members: dict[str, list[str]] = {}
        districts: dict[str, Counter[str]] = {}
        self._gauges: dict[str, _Gauge] = {}
        self._groups_of: dict[str, tuple[str, ...]] = {}
        specs = {q: s for r in self.rules for q, s in r.quality.items()}
        clock = next((r.clock for r in self.rules if r.clock is not None), None)
        for station in registry:
            if station.kind is not Kind.RAIN:
                continue
            groups = tuple(dict.fromkeys(g for g in (station.district, station.area) if g))
            self._groups_of[station.id] = groups
            self._gauges[station.id] = _Gauge(
                station.id, quality=QualityGate(specs, clock, station.interval_s)
            )
            for group in groups:
                members.setdefault(group, []).append(station.id)
                districts.setdefault(group, Counter())[station.district] += 1
        self._groups = {
            g: _Group(districts[g].most_common(1)[0][0], tuple(ids))
            for g, ids in sorted(members.items())
        }
        for station_id, gauge in self._gauges.items():
            gauge.groups = tuple(self._groups[g] for g in self._groups_of[station_id])
        self._clock: float | None = None
        self._membership = 0  # bumped whenever a gauge starts or stops counting

    # -- AreaDetector --------------------------------------------------------------------------

    def observe(self, finding: Finding) -> list[Finding]:
        gauge = self._gauges.get(finding.station or "")
        if gauge is None or finding.hazard is not Hazard.SENSOR or finding.rule not in _EXCLUDING:
            return [finding]
        before = bool(gauge.excluded)
        if finding.grade.is_warning:
            gauge.excluded.add(finding.rule)
        else:
            gauge.excluded.discard(finding.rule)
        if before != bool(gauge.excluded):  # the gauge leaves or joins its groups' means
            self._membership += 1
            for name in self._groups_of[finding.station or ""]:
                self._touch(self._groups[name], finding.ts, None)
        return [finding]

    def update(self, reading: Reading) -> list[Finding]:
        """Take a reading into its gauge's windows; groups are graded on ``advance`` only."""
        gauge = self._gauges.get(reading.station)
        if gauge is not None:
            for ready in gauge.seq.admit(reading, hold=True):
                self._take(gauge, ready)
        return []

    def advance(self, now: float) -> list[Finding]:
        self._clock = now if self._clock is None else max(self._clock, now)
        out: list[Finding] = []
        for gauge in self._gauges.values():
            if gauge.seq.held:  # readings behind a seq gap (none, nearly always)
                for ready in gauge.seq.release():
                    self._take(gauge, ready)
            if gauge.quality is not None:
                for judged in gauge.quality.release(now):
                    self._apply(gauge, judged)
        for name, group in self._groups.items():
            if group.dirty_ts is not None:  # new data (or members) since the last tick
                at, source_ts = group.dirty_ts, group.dirty_source_ts
                group.dirty_ts = group.dirty_source_ts = None
                out.extend(self._evaluate(name, at, source_ts))
            elif group.eval_ts is not None and now > group.eval_ts:
                out.extend(self._evaluate(name, now, None))  # windows expire without data
        return out

    def _touch(self, group: _Group, ts: float, source_ts: float | None) -> None:
        """Mark a group for evaluation at the next tick, at its newest data time."""
        group.dirty_ts = ts if group.dirty_ts is None else max(group.dirty_ts, ts)
        if source_ts is not None:
            group.dirty_source_ts = max(group.dirty_source_ts or source_ts, source_ts)

    # -- evaluation ----------------------------------------------------------------------------

    def _take(self, gauge: _Gauge, reading: Reading) -> None:
        """Judge one reading the ``seq`` gate let through; apply what the quality gate passes."""
        if gauge.quality is None:
            self._apply(gauge, reading)
            return
        for ready in gauge.quality.admit(reading, self._clock):
            self._apply(gauge, ready)

    def _apply(self, gauge: _Gauge, reading: Reading) -> None:
        """Add one judged reading to its gauge's windows and to the pools of its groups that
        count the gauge, and mark the groups for the next tick. Runs for every rain reading:
        hence the loops written out (no helper calls, no lookups by name)."""
        if not gauge.reported:
            gauge.reported = True
            self._membership += 1
        mm = reading.values.get("rain_mm")
        ts = reading.ts
        groups = gauge.groups
        at = ts
        for group in groups:
            if group.eval_ts is not None and group.eval_ts > at:
                at = group.eval_ts
        if mm is not None and ts > at - self.horizon_s:
            um = round(max(0.0, float(mm)) * UM_PER_MM)
            gauge.windows.add(ts, um)
            gauge.windows.prune(at - self.horizon_s)  # kept to re-pool when membership changes
            if um:  # a 0 mm increment changes no pooled total: the pools skip it
                for group in groups:
                    if gauge.station in group.pooled_from:
                        group.pooled.add(ts, um)
        for group in groups:  # _touch(group, ts, ts), written out
            dirty = group.dirty_ts
            group.dirty_ts = ts if dirty is None or ts > dirty else dirty
            dirty = group.dirty_source_ts or ts
            group.dirty_source_ts = ts if ts > dirty else dirty

    def _counting(self, group: _Group) -> tuple[list[str], list[str]]:
        if group.counted is not None and group.counted[0] == self._membership:
            return group.counted[1], group.counted[2]
        used: list[str] = []
        left_out: list[str] = []
        for station in group.gauges:
            gauge = self._gauges[station]
            (used if gauge.reported and not gauge.excluded else left_out).append(station)
        group.counted = (self._membership, used, left_out)
        return used, left_out

    def _evaluate(self, name: str, ts: float, source_ts: float | None) -> list[Finding]:
        group = self._groups[name]
        at = ts if group.eval_ts is None else max(group.eval_ts, ts)
        if (
            group.eval_ts is None
            and source_ts is None
            and not any(self._gauges[s].reported for s in group.gauges)
        ):
            return []  # nothing reported yet: warm-up
        group.eval_ts = at
        used, left_out = self._counting(group)
        if len(used) < self.min_gauges:
            return self._blind(name, group, at, used, left_out)
        if len(group.pooled_from) != len(used) or not group.pooled_from.issuperset(used):
            group.pooled = RainWindows.pooled(  # a gauge joined or left: pool afresh
                [self._gauges[station].windows.to_json() for station in used]
            )
            group.pooled_from = frozenset(used)
        group.pooled.prune(at - self.horizon_s)
        means = {
            q: group.pooled.total_um(at, w) / len(used) / UM_PER_MM for q, w in self.windows.items()
        }
        out: list[Finding] = []
        for spec in self.rules:
            state = group.states.get(spec.rule, LadderState())
            state = group.states[spec.rule] = next_grade(spec.ladder, state, means, at)
            if state.grade is group.published.get(spec.rule, Grade.UNKNOWN):
                continue
            previous = group.published.get(spec.rule, Grade.UNKNOWN)
            group.published[spec.rule] = state.grade
            out.append(
                self._finding(
                    name, group, spec, state.grade, previous, means, at, source_ts, used, left_out
                )
            )
        return out

    def _blind(
        self, name: str, group: _Group, at: float, used: list[str], left_out: list[str]
    ) -> list[Finding]:
        out = []
        for spec in self.rules:
            group.states[spec.rule] = LadderState()
            previous = group.published.get(spec.rule, Grade.UNKNOWN)
            if previous is Grade.UNKNOWN:
                continue
            group.published[spec.rule] = Grade.UNKNOWN
            out.append(
                self._finding(
                    name, group, spec, Grade.UNKNOWN, previous, {}, at, None, used, left_out
                )
            )
        return out

    def _finding(
        self,
        name: str,
        group: _Group,
        spec: RuleSpec,
        grade: Grade,
        previous: Grade,
        means: dict[str, float],
        at: float,
        source_ts: float | None,
        used: list[str],
        left_out: list[str],
    ) -> Finding:
        ladder = spec.ladder
        threshold: float | None = None
        quantity = ladder.quantity
        if grade is Grade.UNKNOWN:
            message = f"area mean needs {self.min_gauges} gauges, {len(used)} count (unknown)"
        elif grade is Grade.NONE:
            left = ladder.rung_for(previous) if previous.is_warning else None
            quantity = quantity if left is None else ladder.quantity_of(left)
            message = _text.cleared(
                quantity,
                means.get(quantity),
                None if left is None else left.enter,
                0.0 if left is None else left.hysteresis,
                0.0 if left is None else left.min_dwell_s,
                previous,
            )
        else:
            rung = ladder.rung_for(grade)
            assert rung is not None
            quantity, threshold = ladder.quantity_of(rung), rung.enter
            message = _text.reached(quantity, means.get(quantity), rung.enter, grade, previous)
        return Finding(
            area=name,
            district=group.district,
            hazard=spec.hazard,
            rule=spec.rule,
            grade=grade,
            ts=at,
            value=None if grade is Grade.UNKNOWN else means.get(quantity),
            threshold=threshold,
            quantity=quantity,
            station=None,
            message=f"area mean of {len(used)} gauges: {message}",
            evidence={
                "mean_totals_mm": dict(means),
                "gauges": used,
                "left_out": left_out,
                "window_s": self.windows.get(quantity),
            },
            source_ts=source_ts,
        )

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "clock": self._clock,
            "gauges": {
                s: {
                    "windows": g.windows.to_json(),
                    "seq": g.seq.snapshot(),
                    "quality": None if g.quality is None else g.quality.snapshot(),
                    "reported": g.reported,
                    "excluded": sorted(g.excluded),
                }
                for s, g in self._gauges.items()
            },
            "groups": {
                name: {
                    "states": {
                        r: [st.grade.value, st.since, st.below_since] for r, st in g.states.items()
                    },
                    "published": {r: gr.value for r, gr in g.published.items()},
                    "eval_ts": g.eval_ts,
                    "dirty_ts": g.dirty_ts,
                    "dirty_source_ts": g.dirty_source_ts,
                }
                for name, g in self._groups.items()
            },
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._clock = state["clock"]
        self._membership += 1
        for s, saved in state["gauges"].items():
            gauge = self._gauges.get(s)
            if gauge is None:
                continue
            gauge.windows = RainWindows.from_json(saved["windows"])
            gauge.seq.restore(saved["seq"])
            if gauge.quality is not None and saved["quality"] is not None:
                gauge.quality.restore(saved["quality"])
            gauge.reported = bool(saved["reported"])
            gauge.excluded = set(saved["excluded"])
        for name, saved in state["groups"].items():
            group = self._groups.get(name)
            if group is None:
                continue
            group.states = {
                r: LadderState(Grade(v[0]), v[1], v[2]) for r, v in saved["states"].items()
            }
            group.published = {r: Grade(g) for r, g in saved["published"].items()}
            group.eval_ts = saved["eval_ts"]
            group.dirty_ts = saved["dirty_ts"]
            group.dirty_source_ts = saved["dirty_source_ts"]
            group.pooled, group.pooled_from = RainWindows(), frozenset()  # pooled when graded
