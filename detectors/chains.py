"""Hazard chains: compound rules joining findings across stations and hazards in a time window
and an area, declared in ``configs/ladders/chains.yaml`` (parsed by :mod:`yujing.config.chains`).

A chain has *legs* and *targets*. A leg matches findings by hazard, rule names and scope: the
finding's area (a station id or an area id) or its station's registry ``area``/``district`` is
in ``areas``, and/or its station lies within ``within_km`` of the target. A leg holds for a
target at event time ``t`` when at least ``min_count`` distinct subjects (the findings' areas)
are at ``min_grade`` or above now, or were within the last ``window_s``. When every leg holds the
chain's finding is raised for the target at the chain's grade (``hazard``/``rule`` of the
chain, ``area`` = target); when a leg stops holding it is cleared (``none``). Targets are named
areas (``then.areas``; villages need no station) or every site of a sensor kind
(``then.sites_of_kind: chem``: one target per registry ``area`` of chem stations, located at
their centroid). The examples shipped: heavy rain upstream + rising level downstream → flash-flood
watch for the villages downstream; rainstorm on a slope area → debris-flow watch; intensity VI
or more near a chemical site → tank-integrity watch for that site.

>>> from yujing.config.stations import Registry, StationSpec
>>> from yujing.contracts import Finding, Grade, Hazard, Kind
>>> chain = ChainSpec("upstream_rain_rising_level", Hazard.FLASH_FLOOD, Grade.YELLOW, 10800.0, (
...     Leg(Hazard.RAINSTORM, (), Grade.BLUE, ("up",)),
...     Leg(Hazard.FLOOD, ("level_rise",), Grade.BLUE, ("river",))), ("villages",), None, "d1",
...     "project default")
>>> gauges = Registry.from_specs([
...     StationSpec("R1", "", Kind.RAIN, "d1", 40.0, 116.0, 60.0, area="up"),
...     StationSpec("W1", "", Kind.WATER_LEVEL, "d1", 40.0, 116.1, 60.0, area="river")])
>>> chains = HazardChains(gauges, [chain])
>>> rain = Finding("R1", "d1", Hazard.RAINSTORM, "short_heavy_rain", Grade.BLUE, 100.0,
...                station="R1")
>>> rise = Finding("W1", "d1", Hazard.FLOOD, "level_rise", Grade.BLUE, 3700.0, station="W1")
>>> [f.area for f in chains.observe(rain)]
['R1']
>>> [(f.area, f.hazard.value, f.grade.value) for f in chains.observe(rise)][1:]
[('villages', 'flash_flood', 'yellow')]
>>> from dataclasses import replace
>>> chains.observe(replace(rain, grade=Grade.NONE, ts=4000.0))[1:]   # rain over: window runs
[]
>>> [(f.area, f.grade.value) for f in chains.advance(100.0 + 10800.0 + 1.0)]  # aged out
[('villages', 'none')]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from yujing.contracts import ConfigError, Finding, Grade, Hazard, Kind

if TYPE_CHECKING:
    from yujing.config.stations import Registry

__all__ = ["ChainSpec", "HazardChains", "Leg"]

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Leg:
    """One condition of a chain (see the module docstring); empty ``rules`` match any rule."""

    hazard: Hazard
    rules: tuple[str, ...]
    min_grade: Grade
    areas: tuple[str, ...] = ()
    within_km: float | None = None
    min_count: int = 1


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """A compound rule: legs, window, what it raises and for which targets, with its source."""

    rule: str
    hazard: Hazard
    grade: Grade
    window_s: float
    legs: tuple[Leg, ...]
    targets: tuple[str, ...]
    sites_of_kind: Kind | None
    district: str | None
    source: str


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(slots=True)
class _Target:
    chain: ChainSpec
    area: str
    district: str
    position: tuple[float, float] | None
    # per leg: subject -> [ok now?, last ts it was ok, its latest grade]
    legs: list[dict[str, list[Any]]] = field(default_factory=list)
    published: Grade = Grade.UNKNOWN


class HazardChains:
    """Every configured chain for every target (see the module docstring)."""

    reads_kinds: frozenset[Kind] = frozenset()  # kinds whose readings update() uses

    def __init__(self, registry: Registry, chains: Sequence[ChainSpec]) -> None:
        self._station_scope: dict[str, tuple[str, ...]] = {}
        self._position: dict[str, tuple[float, float]] = {}
        groups: dict[str, list[tuple[float, float]]] = {}
        group_districts: dict[str, Counter[str]] = {}
        for s in registry:
            self._station_scope[s.id] = tuple(x for x in (s.id, s.area, s.district) if x)
            self._position[s.id] = (s.lat, s.lon)
            for group in {s.area, s.district} - {None}:
                assert group is not None
                groups.setdefault(group, []).append((s.lat, s.lon))
                group_districts.setdefault(group, Counter())[s.district] += 1
        centroid = {
            g: (sum(p[0] for p in ps) / len(ps), sum(p[1] for p in ps) / len(ps))
            for g, ps in groups.items()
        }
        self._targets: list[_Target] = []
        for chain in chains:
            names = list(chain.targets)
            if chain.sites_of_kind is not None:
                names += sorted(
                    {s.area for s in registry if s.kind is chain.sites_of_kind and s.area}
                )
            for name in dict.fromkeys(names):
                district = chain.district or (
                    group_districts[name].most_common(1)[0][0] if name in group_districts else ""
                )
                if not district:
                    raise ConfigError(
                        f"chain {chain.rule!r}: target {name!r} has no station; give then.district"
                    )
                position = centroid.get(name)
                if position is None and any(leg.within_km is not None for leg in chain.legs):
                    raise ConfigError(
                        f"chain {chain.rule!r}: target {name!r} has no station to measure "
                        "within_km from"
                    )
                self._targets.append(
                    _Target(chain, name, district, position, [{} for _ in chain.legs])
                )
        # per hazard, the targets with a leg of it and those legs' positions: a finding only
        # concerns these (most findings, of most hazards, concern no chain at all)
        self._legs_of: dict[Hazard, tuple[tuple[_Target, tuple[tuple[int, Leg], ...]], ...]] = {}
        for hazard in Hazard:
            wanted = (
                (t, tuple((i, leg) for i, leg in enumerate(t.chain.legs) if leg.hazard is hazard))
                for t in self._targets
            )
            self._legs_of[hazard] = tuple((t, legs) for t, legs in wanted if legs)

    # -- AreaDetector --------------------------------------------------------------------------

    def observe(self, finding: Finding) -> list[Finding]:
        out = [finding]
        for target, legs in self._legs_of[finding.hazard]:
            touched = False
            for index, leg in legs:
                if not self._matches(leg, target, finding):
                    continue
                touched = True
                seen = target.legs[index]
                ok = finding.grade.rank >= leg.min_grade.rank
                entry = seen.setdefault(finding.area, [False, None, Grade.UNKNOWN.value])
                entry[0] = ok
                entry[2] = finding.grade.value
                if ok:
                    entry[1] = finding.ts
            if touched:
                out.extend(self._evaluate(target, finding.ts, finding.source_ts))
        return out

    def update(self, reading: Any) -> list[Finding]:
        return []

    def advance(self, now: float) -> list[Finding]:
        out: list[Finding] = []
        for target in self._targets:
            if target.published is not Grade.UNKNOWN:
                out.extend(self._evaluate(target, now, None))
        return out

    # -- logic ---------------------------------------------------------------------------------

    def _matches(self, leg: Leg, target: _Target, finding: Finding) -> bool:
        if finding.hazard is not leg.hazard or (leg.rules and finding.rule not in leg.rules):
            return False
        if leg.areas and finding.area not in leg.areas:
            scope = self._station_scope.get(finding.station or "", ())
            if not any(name in leg.areas for name in scope):
                return False
        if leg.within_km is not None:
            where = self._position.get(finding.station or "")
            if where is None or target.position is None:
                return False
            if _km(where, target.position) > leg.within_km:
                return False
        return True

    @staticmethod
    def _holding(seen: dict[str, list[Any]], at: float, window_s: float) -> list[str]:
        """Subjects at the leg's grade now, or within the last ``window_s``."""
        return sorted(
            subject
            for subject, (ok, last_ok, _) in seen.items()
            if ok or (last_ok is not None and at - last_ok <= window_s)
        )

    def _evaluate(self, target: _Target, at: float, source_ts: float | None) -> list[Finding]:
        chain = target.chain
        holding = [self._holding(seen, at, chain.window_s) for seen in target.legs]
        holds = all(len(h) >= leg.min_count for h, leg in zip(holding, chain.legs, strict=True))
        grade = chain.grade if holds else Grade.NONE
        if grade is target.published or (grade is Grade.NONE and not target.published.is_warning):
            return []
        target.published = grade
        needed = sum(leg.min_count for leg in chain.legs)
        found = sum(len(h) for h in holding)
        evidence = {
            "legs": [
                {
                    "hazard": leg.hazard.value,
                    "rules": list(leg.rules),
                    "min_grade": leg.min_grade.value,
                    "min_count": leg.min_count,
                    "subjects": {s: seen[s][2] for s in h},
                }
                for leg, seen, h in zip(chain.legs, target.legs, holding, strict=True)
            ],
            "window_s": chain.window_s,
            "source": chain.source,
        }
        if holds:
            message = f"{chain.hazard.value.replace('_', ' ')} watch ({chain.rule}): " + "; ".join(
                f"{leg.hazard.value} at {', '.join(h)}"
                for leg, h in zip(chain.legs, holding, strict=True)
            )
        else:
            message = f"{chain.rule}: conditions no longer hold (none)"
        return [
            Finding(
                area=target.area,
                district=target.district,
                hazard=chain.hazard,
                rule=chain.rule,
                grade=grade,
                ts=at,
                value=float(found) if holds else None,
                threshold=float(needed) if holds else None,
                quantity="matching_subjects",
                station=None,
                message=message,
                evidence=evidence,
                source_ts=source_ts,
            )
        ]

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            f"{t.chain.rule}@{t.area}": {
                "legs": [{s: list(v) for s, v in seen.items()} for seen in t.legs],
                "published": t.published.value,
            }
            for t in self._targets
        }

    def restore(self, state: dict[str, Any]) -> None:
        for t in self._targets:
            saved = state.get(f"{t.chain.rule}@{t.area}")
            if saved is None or len(saved["legs"]) != len(t.legs):
                continue
            t.legs = [{s: list(v) for s, v in seen.items()} for seen in saved["legs"]]
            t.published = Grade(saved["published"])
