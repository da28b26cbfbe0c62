"""k-of-n neighbour agreement: where neighbours observe the same field, one sensor alone cannot
page anyone orange or red.

For a station with neighbours (registry ``neighbours``), a per-station finding of grade orange or
red for some (hazard, rule) goes on unchanged only when at least ``k`` of the stations able to
see (the station and its *seeing* neighbours) currently see that rule at a warning grade (blue or
above). ``k`` is the rule's param ``agree_k`` (default 2). Otherwise the finding is *downgraded*
to yellow and flagged: ``evidence["agreement"]`` says who agreed, ``raw_grade`` keeps what the
sensor said, and the message starts with "unconfirmed". When a neighbour's grade changes, the
stations listing it are judged again, so the orange arrives as soon as a neighbour confirms (and
falls back to yellow if the support goes while the sensor still says orange).

Where agreement applies is a per-hazard decision of the ladder files (``agree_k``, with its
rationale; docs/detectors.md): ``agree_k: 1`` means the station's own reading is authoritative (a
river gauge against its own warning level, a gas or toxic detector at a point source, a tank's
set points), ``2`` means a neighbour must see the same field (rain gauges, strong-motion
stations).

A neighbour *sees* a rule when it has graded it (not ``unknown``: silent, warming up, persistently
suspect) and is trusted. A station that is drifting against its neighbours (``sensor/drift``) or
persistently suspect (``sensor/quality``) is not trusted: its orange is never confirmed (whatever
``k``), and it neither supports nor contradicts a neighbour. Neighbours that cannot see do not
count: ``k`` is capped at 1 + the number of seeing neighbours, so a sensor whose neighbours have
all gone blind is judged on its own rather than silenced by their absence
(``evidence["agreement"]["blind"]`` lists them). Findings of stations without neighbours, area
findings and sensor findings pass unchanged; the grades of stations without neighbours are still
kept, so they can confirm the stations that list them.

>>> from yujing.config.stations import Registry, StationSpec
>>> from yujing.contracts import Finding, Grade, Hazard, Kind
>>> def gauge(name, *near): return StationSpec(name, "", Kind.RAIN, "d1", 0.0, 0.0, 60.0,
...                                            neighbours=near)
>>> gate = NeighbourAgreement(Registry.from_specs([gauge("A", "B"), gauge("B", "A")]), {})
>>> def f(station, grade, ts): return Finding(station, "d1", Hazard.RAINSTORM, "rainstorm",
...                                           grade, ts, station=station, value=60.0)
>>> [(x.area, x.grade.value) for x in gate.observe(f("B", Grade.NONE, 5.0))]
[('B', 'none')]
>>> [(x.area, x.grade.value) for x in gate.observe(f("A", Grade.ORANGE, 10.0))]  # B sees none
[('A', 'yellow')]
>>> [(x.area, x.grade.value) for x in gate.observe(f("B", Grade.BLUE, 12.0))]  # B confirms
[('B', 'blue'), ('A', 'orange')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from detectors._findings import finding_from_json, finding_to_json
from yujing.contracts import Finding, Grade, Hazard, Kind

if TYPE_CHECKING:
    from yujing.config.stations import Registry

__all__ = ["AGREE_K_DEFAULT", "NeighbourAgreement"]

AGREE_K_DEFAULT = 2
GATED_FROM = Grade.ORANGE  # grades at or above need agreement
DOWNGRADED_TO = Grade.YELLOW
_UNTRUSTED_RULES = ("drift", "quality")


def _rule_key(finding: Finding) -> str:
    return f"{finding.hazard.value}/{finding.rule}"


class NeighbourAgreement:
    """The agreement gate over all stations of a registry (see the module docstring).

    ``agree_k`` maps ``"hazard/rule"`` to its k (from the rules' params).
    """

    reads_kinds: frozenset[Kind] = frozenset()  # kinds whose readings update() uses

    def __init__(self, registry: Registry, agree_k: Mapping[str, int]) -> None:
        self.agree_k = dict(agree_k)
        self._neighbours: dict[str, tuple[str, ...]] = {
            s.id: tuple(n for n in s.neighbours if n != s.id) for s in registry
        }
        self._listed_by: dict[str, list[str]] = {}
        for station, near in self._neighbours.items():
            for other in near:
                self._listed_by.setdefault(other, []).append(station)
        # state: latest raw grade per (station, rule) and, while at orange or red, the raw
        # finding itself (to pass on a gated copy when a neighbour changes); what was passed on;
        # untrusted stations
        self._grades: dict[str, dict[str, Grade]] = {}
        self._raw: dict[str, dict[str, Finding]] = {}
        self._passed: dict[str, dict[str, tuple[str, str]]] = {}
        self._untrusted: dict[str, set[str]] = {}

    # -- AreaDetector --------------------------------------------------------------------------

    def observe(self, finding: Finding) -> list[Finding]:
        station = finding.station
        if station is None or finding.area != station:
            return [finding]
        if finding.hazard is Hazard.SENSOR:
            return [finding, *self._trust_changed(finding)]
        near = self._neighbours.get(station, ())
        listed_by = self._listed_by.get(station, ())
        if not near and not listed_by:
            return [finding]
        key = _rule_key(finding)
        self._grades.setdefault(station, {})[key] = finding.grade
        if near:
            raw = self._raw.setdefault(station, {})
            if finding.grade.rank >= GATED_FROM.rank:
                raw[key] = finding
            else:
                raw.pop(key, None)
            out = self._judge(station, key, finding.ts, force=True, fresh=finding)
        else:  # no neighbours of its own: passes unchanged, but confirms those listing it
            out = [finding]
        for other in listed_by:
            out.extend(self._judge(other, key, finding.ts))
        return out

    def update(self, reading: Any) -> list[Finding]:
        return []

    def advance(self, now: float) -> list[Finding]:
        return []

    # -- judging -------------------------------------------------------------------------------

    def _trust_changed(self, finding: Finding) -> list[Finding]:
        if finding.rule not in _UNTRUSTED_RULES or finding.station is None:
            return []
        station = finding.station
        reasons = self._untrusted.setdefault(station, set())
        before = bool(reasons)
        if finding.grade.is_warning:
            reasons.add(finding.rule)
        else:
            reasons.discard(finding.rule)
        if before == bool(reasons):
            return []
        out: list[Finding] = []
        for key in list(self._grades.get(station, {})):
            out.extend(self._judge(station, key, finding.ts))
            for other in self._listed_by.get(station, ()):
                out.extend(self._judge(other, key, finding.ts))
        return out

    def _trusted(self, station: str) -> bool:
        return not self._untrusted.get(station)

    def _judge(
        self,
        station: str,
        key: str,
        ts: float,
        *,
        force: bool = False,
        fresh: Finding | None = None,
    ) -> list[Finding]:
        """Pass on (a gated copy of) the station's latest finding for ``key`` if what goes on
        changes; ``force`` passes it on anyway (``fresh``, a new first-tier finding)."""
        raw = fresh if fresh is not None else self._raw.get(station, {}).get(key)
        if raw is None:
            return []  # below orange and not fresh: nothing to re-judge
        near = self._neighbours.get(station, ())
        seeing = [
            n
            for n in near
            if self._trusted(n) and self._grades.get(n, {}).get(key, Grade.UNKNOWN).rank >= 0
        ]
        supporters = [n for n in seeing if self._grades[n][key].is_warning]
        k = min(self.agree_k.get(key, AGREE_K_DEFAULT), 1 + len(seeing))
        count = len(supporters) + (1 if self._trusted(station) else 0)
        gated = raw.grade.rank >= GATED_FROM.rank
        confirmed = count >= k and self._trusted(station)
        grade = raw.grade if not gated or confirmed else DOWNGRADED_TO
        passed = self._passed.setdefault(station, {})
        shown = (grade.value, raw.grade.value)  # what goes on, and what the sensor said
        if passed.get(key) == shown or (not force and passed.get(key, ("",))[0] == grade.value):
            return []
        passed[key] = shown
        if not gated:
            return [raw if force else replace(raw, ts=max(raw.ts, ts))]
        evidence = {
            **raw.evidence,
            "agreement": {
                "k": k,
                "n": 1 + len(seeing),
                "agreeing": sorted(supporters),
                "blind": sorted(set(near) - set(seeing)),
                "confirmed": confirmed,
                "trusted": self._trusted(station),
            },
        }
        if confirmed:
            return [replace(raw, ts=max(raw.ts, ts), evidence=evidence)]
        evidence["raw_grade"] = raw.grade.value
        why = (
            f"unconfirmed by neighbours ({count} of {k} needed)"
            if self._trusted(station)
            else "unconfirmed: sensor not trusted (drift or quality)"
        )
        return [
            replace(
                raw,
                grade=grade,
                ts=max(raw.ts, ts),
                evidence=evidence,
                message=f"{why}: {raw.message}",
            )
        ]

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "grades": {s: {k: g.value for k, g in r.items()} for s, r in self._grades.items()},
            "raw": {
                s: {k: finding_to_json(f) for k, f in rules.items()}
                for s, rules in self._raw.items()
                if rules
            },
            "passed": {s: {k: list(g) for k, g in p.items()} for s, p in self._passed.items()},
            "untrusted": {s: sorted(r) for s, r in self._untrusted.items() if r},
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._grades = {
            s: {k: Grade(g) for k, g in r.items()} for s, r in state.get("grades", {}).items()
        }
        self._raw = {
            s: {k: finding_from_json(f) for k, f in rules.items()}
            for s, rules in state["raw"].items()
        }
        self._passed = {
            s: {k: (str(g[0]), str(g[1])) for k, g in p.items()} for s, p in state["passed"].items()
        }
        self._untrusted = {s: set(r) for s, r in state["untrusted"].items()}
