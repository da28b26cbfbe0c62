"""Scenarios: hazard events in scenario seconds after the start, loaded from
``configs/scenarios/*.yaml`` (through ``yujing.config``'s YAML reader, so errors name file, line
and key path) and checked against a station registry.

File shape (see ``configs/scenarios/demo.yaml``)::

    name: demo
    duration_s: 5400
    lead_in_s: {rain: 10800}      # these kinds also report this long before the start
    storms:
      - id: storm-1
        cells:
          - {lat: 39.97, lon: 116.30, sigma_km: 4.5, intensity_mm_h: [[-3600, 0], [300, 110]]}
    rivers:
      - id: river-1
        stage_above_warning_m: [[0, -0.4], [600, 0.0]]
        reaches: [{station: HD-WL-001, lag_s: 0, drop_m: 0}]
    profiles:
      - id: leak-1
        hazard: gas_leak
        quantity: ch4_pct_lel
        added: [[60, 0], [480, 52]]
        stations: [{station: CY-GS-006}, {station: CY-GS-005, factor: 0.35, delay_s: 30}]
    earthquakes:
      - {id: quake-1, origin_s: 300, lat: 39.93, lon: 116.29, depth_km: 10, magnitude: 5.8}

Keyframes are ``[[t_s, value], ...]`` pairs (linear in between, flat outside).

Lead-in (pre-storm history): a rainstorm ladder grades 3/6/12 h totals, which no storm can fill
in the 15 minutes a demo has to show an orange. So the stations of the kinds in ``lead_in_s``
already report from ``-lead_in_s``: the demo's rain gauges have 3 h of history (steady rain, then
the convective core building up) and a live publisher sends that history as one burst at
start-up, in event-time order, before pacing the rest by the clock. Every other kind starts at
scenario time 0. Ingest accepts the burst because its watermark is per station (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulators.models import (
    Earthquake,
    Keyframes,
    Profile,
    ProfileStation,
    RainCell,
    Reach,
    RiverRise,
)
from simulators.noise import FloatArray
from yujing.config.stations import Registry, StationSpec
from yujing.config.yamlfile import load_model
from yujing.contracts import ConfigError, Hazard, Kind

__all__ = ["DEMO_SCENARIO", "PROFILE_KINDS", "Scenario", "Storm", "demo_scenario", "load_scenario"]

DEMO_SCENARIO = Path(__file__).resolve().parent.parent / "configs" / "scenarios" / "demo.yaml"

# quantity a profile may drive -> the kinds of station that report it
PROFILE_KINDS: Mapping[str, tuple[Kind, ...]] = MappingProxyType(
    {
        "depth_cm": (Kind.PONDING,),
        "ch4_pct_lel": (Kind.GAS,),
        "nh3_ppm": (Kind.CHEM,),
        "cl2_ppm": (Kind.CHEM,),
        "h2s_ppm": (Kind.CHEM,),
        "pressure_kpa": (Kind.CHEM,),
        "temp_c": (Kind.CHEM,),
    }
)
_Pairs = list[tuple[float, float]]


def _keyframes(pairs: _Pairs) -> Keyframes:
    return Keyframes(tuple(t for t, _ in pairs), tuple(v for _, v in pairs))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _KeyframeOwner(_Strict):
    @field_validator("*", mode="after")
    @classmethod
    def _times_increase(cls, value: object) -> object:
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            times = [pair[0] for pair in value]
            if any(b <= a for a, b in zip(times, times[1:], strict=False)):
                raise ValueError(f"keyframe times must increase, got {times}")
        return value


class _CellModel(_KeyframeOwner):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    sigma_km: float = Field(gt=0)
    intensity_mm_h: _Pairs = Field(min_length=1)


class _StormModel(_Strict):
    id: str
    cells: list[_CellModel] = Field(min_length=1)


class _ReachModel(_Strict):
    station: str
    lag_s: float = Field(default=0.0, ge=0)
    drop_m: float = 0.0


class _RiverModel(_KeyframeOwner):
    id: str
    stage_above_warning_m: _Pairs = Field(min_length=1)
    reaches: list[_ReachModel] = Field(min_length=1)


class _ProfileStationModel(_Strict):
    station: str
    factor: float = 1.0
    delay_s: float = Field(default=0.0, ge=0)


class _ProfileModel(_KeyframeOwner):
    id: str
    hazard: Hazard
    quantity: str
    added: _Pairs = Field(min_length=1)
    stations: list[_ProfileStationModel] = Field(min_length=1)


class _QuakeModel(_Strict):
    id: str
    origin_s: float
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    depth_km: float = Field(gt=0)
    magnitude: float = Field(ge=0, le=9.5)
    vp_km_s: float = Field(default=6.0, gt=0)
    vs_km_s: float = Field(default=3.5, gt=0)


class _ScenarioModel(_Strict):
    name: str
    description: str = ""
    duration_s: float = Field(gt=0)
    lead_in_s: dict[Kind, float] = Field(default_factory=dict)
    storms: list[_StormModel] = Field(default_factory=list)
    rivers: list[_RiverModel] = Field(default_factory=list)
    profiles: list[_ProfileModel] = Field(default_factory=list)
    earthquakes: list[_QuakeModel] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Storm:
    """Rain cells that together make one storm (e.g. stratiform shield + convective core)."""

    id: str
    cells: tuple[RainCell, ...]

    def depth_mm(self, lat: float, lon: float, t_s: npt.ArrayLike) -> FloatArray:
        """Rain depth (mm) fallen at (lat, lon) up to each scenario time."""
        total = np.zeros(np.shape(t_s))
        for cell in self.cells:
            total = total + cell.depth_mm(lat, lon, t_s)
        return total


@dataclass(frozen=True, slots=True)
class Scenario:
    """Hazard events on a scenario clock (seconds after start), plus how far before the start
    each kind's stations already report (``lead_in_s``: pre-storm history)."""

    name: str
    description: str
    duration_s: float
    lead_in_s: Mapping[Kind, float]
    storms: tuple[Storm, ...] = ()
    rivers: tuple[RiverRise, ...] = ()
    profiles: tuple[Profile, ...] = ()
    earthquakes: tuple[Earthquake, ...] = ()
    source: Path | None = None

    def lead_in_for(self, kind: Kind) -> float:
        return self.lead_in_s.get(kind, 0.0)

    def check_against(self, registry: Registry) -> None:
        """Raise :class:`ConfigError` unless every named station exists, has the right kind
        and carries the params its model needs."""
        where = str(self.source or f"scenario {self.name}")
        for river in self.rivers:
            for reach in river.reaches:
                spec = _station(registry, reach.station, (Kind.WATER_LEVEL,), where, river.id)
                for param in ("normal_level_m", "warning_level_m"):
                    if not isinstance(spec.params.get(param), int | float):
                        raise ConfigError(
                            f"{where}: rivers {river.id}: station {spec.id} lacks param {param}"
                        )
        for profile in self.profiles:
            kinds = PROFILE_KINDS.get(profile.quantity)
            if kinds is None:
                raise ConfigError(
                    f"{where}: profiles {profile.id}: quantity {profile.quantity!r} is not one "
                    f"of {sorted(PROFILE_KINDS)}"
                )
            for target in profile.stations:
                _station(registry, target.station, kinds, where, profile.id)


def _station(
    registry: Registry, station: str, kinds: tuple[Kind, ...], where: str, event: str
) -> StationSpec:
    spec = registry.get(station)
    if spec is None:
        raise ConfigError(f"{where}: {event}: unknown station {station!r}")
    if spec.kind not in kinds:
        raise ConfigError(
            f"{where}: {event}: station {station} is {spec.kind.value}, expected "
            + " or ".join(k.value for k in kinds)
        )
    return spec


def load_scenario(path: Path) -> Scenario:
    """Load a scenario YAML into frozen objects (errors name file, line and key path)."""
    model, _ = load_model(_ScenarioModel, path)
    return Scenario(
        name=model.name,
        description=model.description,
        duration_s=model.duration_s,
        lead_in_s=MappingProxyType(dict(model.lead_in_s)),
        storms=tuple(
            Storm(
                s.id,
                tuple(
                    RainCell(c.lat, c.lon, c.sigma_km, _keyframes(c.intensity_mm_h))
                    for c in s.cells
                ),
            )
            for s in model.storms
        ),
        rivers=tuple(
            RiverRise(
                r.id,
                _keyframes(r.stage_above_warning_m),
                tuple(Reach(x.station, x.lag_s, x.drop_m) for x in r.reaches),
            )
            for r in model.rivers
        ),
        profiles=tuple(
            Profile(
                p.id,
                p.hazard,
                p.quantity,
                _keyframes(p.added),
                tuple(ProfileStation(x.station, x.factor, x.delay_s) for x in p.stations),
            )
            for p in model.profiles
        ),
        earthquakes=tuple(
            Earthquake(
                q.id, q.origin_s, q.lat, q.lon, q.depth_km, q.magnitude, q.vp_km_s, q.vs_km_s
            )
            for q in model.earthquakes
        ),
        source=path,
    )


def demo_scenario() -> Scenario:
    """The shipped demo scenario (``configs/scenarios/demo.yaml``)."""
    return load_scenario(DEMO_SCENARIO)
