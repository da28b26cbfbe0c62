"""Scenarios: a station network, hazard events on a scenario clock (seconds after the start) and
sensor faults, loaded from ``configs/scenarios/*.yaml`` and checked against the network.

The YAML's shape is :mod:`simulators.scenario_schema`; every key is documented, with the physics
of each model, in ``docs/simulators.md``. A minimal file::

    name: demo
    duration_s: 5400
    lead_in_s: {rain: 10800}      # these kinds also report this long before the start
    storms:
      - id: storm-1
        cells:
          - {lat: 39.97, lon: 116.30, sigma_km: 4.5, intensity_mm_h: [[-3600, 0], [300, 110]]}
    earthquakes:
      - {id: quake-1, origin_s: 300, lat: 39.93, lon: 116.29, depth_km: 10, magnitude: 5.8}

Keyframes are ``[[t_s, value], ...]`` pairs (linear in between, flat outside). Without a
``network`` the scenario runs on the demo district (``configs/demo/stations.yaml``).

Lead-in (pre-storm history): a rainstorm ladder grades 3/6/12 h totals, which no storm can fill
in the 15 minutes a demo has to show an orange. So the stations of the kinds in ``lead_in_s``
already report from ``-lead_in_s``, and a live publisher sends that history as one burst at
start-up, in event-time order, before pacing the rest by the clock. Every other kind starts at
scenario time 0. Ingest accepts the burst because its watermark is per station (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from simulators import scenario_schema as schema
from simulators.dispersion import Enclosure
from simulators.faults import SCALAR_ONLY, Fault
from simulators.hydrology import Basin, BasinGauge, Underpass
from simulators.models import (
    Earthquake,
    Keyframes,
    Profile,
    ProfileStation,
    RainCell,
    Reach,
    RiverRise,
)
from simulators.network import BEIJING_SEATS, DistrictSeat, RainGrid, merge_registries, rain_network
from simulators.noise import FloatArray
from simulators.rainfield import GaugeField, IdfCurve, MovingCell, RainPart, chicago_hyetograph
from simulators.tank import Runaway
from yujing.config.stations import Registry, StationSpec, load_registry
from yujing.config.yamlfile import load_model
from yujing.contracts import ConfigError, Hazard, Kind

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_START",
    "DEMO_SCENARIO",
    "PROFILE_KINDS",
    "LeakPlan",
    "NetworkPlan",
    "Scenario",
    "Storm",
    "demo_scenario",
    "load_scenario",
    "scenario_registry",
]

DEMO_SCENARIO = Path(__file__).resolve().parent.parent / "configs" / "scenarios" / "demo.yaml"
_DEMO_REGISTRY = DEMO_SCENARIO.parent.parent / "demo" / "stations.yaml"

# quantity a profile or a leak may drive -> the kinds of station that report it
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
DEFAULT_SEED = 7
DEFAULT_START = 1_784_613_600.0  # 2026-07-21T06:00:00Z, the demo's scenario time 0


def _keyframes(pairs: Sequence[tuple[float, float]]) -> Keyframes:
    return Keyframes(tuple(t for t, _ in pairs), tuple(v for _, v in pairs))


@dataclass(frozen=True, slots=True)
class Storm:
    """Rain cells that together make one storm (e.g. stratiform shield + convective core)."""

    id: str
    cells: tuple[RainCell | MovingCell, ...]

    def depth_mm(self, lat: float, lon: float, t_s: npt.ArrayLike) -> FloatArray:
        """Rain depth (mm) fallen at (lat, lon) up to each scenario time."""
        total = np.zeros(np.shape(t_s))
        for cell in self.cells:
            total = total + cell.depth_mm(lat, lon, t_s)
        return total


@dataclass(frozen=True, slots=True)
class LeakPlan:
    """A leak as configured; :class:`simulators.sources.SourceBuilder` places it on the network
    (``at_station``), reaches its sensors (``sensors`` and everything within ``radius_m``) and
    starts it when a runaway's relief valve lifts (``after_relief_of``)."""

    id: str
    hazard: Hazard
    quantity: str
    at_station: str | None
    lat: float | None
    lon: float | None
    height_m: float
    rate_g_s: Keyframes
    after_relief_of: str | None
    wind_m_s: float
    wind_from_deg: float
    stability: str
    sensor_height_m: float
    enclosure: Enclosure | None
    sensors: tuple[str, ...]
    radius_m: float | None


@dataclass(frozen=True, slots=True)
class NetworkPlan:
    """Where the stations come from: a registry YAML, a generated rain grid, or both."""

    registry: Path | None
    rain: RainGrid | None
    seats: tuple[DistrictSeat, ...]
    seed: int


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
    seed: int | None = None
    start: float | None = None
    network: NetworkPlan | None = None
    gauge_fields: tuple[GaugeField, ...] = ()
    basins: tuple[Basin, ...] = ()
    underpasses: tuple[Underpass, ...] = ()
    leaks: tuple[LeakPlan, ...] = ()
    runaways: tuple[Runaway, ...] = ()
    faults: tuple[Fault, ...] = ()
    tolerance_s: Mapping[Hazard, float] = field(default_factory=lambda: MappingProxyType({}))

    def lead_in_for(self, kind: Kind) -> float:
        return self.lead_in_s.get(kind, 0.0)

    @property
    def run_seed(self) -> int:
        """The file's seed, else :data:`DEFAULT_SEED`."""
        return self.seed if self.seed is not None else DEFAULT_SEED

    @property
    def run_start(self) -> float:
        """The file's start (epoch s), else :data:`DEFAULT_START` (replays, recordings)."""
        return self.start if self.start is not None else DEFAULT_START

    @property
    def rain_parts(self) -> tuple[RainPart, ...]:
        """Every cell and gauge field: the scenario's rain field."""
        cells: list[RainPart] = [cell for storm in self.storms for cell in storm.cells]
        return (*cells, *self.gauge_fields)

    def check_against(self, registry: Registry) -> None:
        """Raise :class:`ConfigError` unless every named station exists, has the right kind
        and carries the params its model needs."""
        where = str(self.source or f"scenario {self.name}")
        for river in self.rivers:
            for reach in river.reaches:
                spec = _station(registry, reach.station, (Kind.WATER_LEVEL,), where, river.id)
                _params(spec, ("normal_level_m", "warning_level_m"), where, f"rivers {river.id}")
        for basin in self.basins:
            for gauge in basin.gauges:
                spec = _station(registry, gauge.station, (Kind.WATER_LEVEL,), where, basin.id)
                _params(spec, ("normal_level_m", "warning_level_m"), where, f"basins {basin.id}")
        for underpass in self.underpasses:
            _station(registry, underpass.station, (Kind.PONDING,), where, "underpasses")
        for profile in self.profiles:
            kinds = PROFILE_KINDS.get(profile.quantity)
            if kinds is None:
                raise ConfigError(
                    f"{where}: profiles {profile.id}: quantity {profile.quantity!r} is not one "
                    f"of {sorted(PROFILE_KINDS)}"
                )
            for target in profile.stations:
                _station(registry, target.station, kinds, where, profile.id)
        runaways = {r.id for r in self.runaways}
        for runaway in self.runaways:
            spec = _station(registry, runaway.station, (Kind.CHEM,), where, runaway.id)
            _params(spec, ("temp_normal_c", "pressure_normal_kpa"), where, f"runaways {runaway.id}")
        for leak in self.leaks:
            kinds = PROFILE_KINDS[leak.quantity]
            if leak.at_station is not None and registry.get(leak.at_station) is None:
                raise ConfigError(f"{where}: leaks {leak.id}: unknown station {leak.at_station!r}")
            for sensor in leak.sensors:
                _station(registry, sensor, kinds, where, leak.id)
            if leak.enclosure is not None:
                _station(registry, leak.enclosure.station, kinds, where, leak.id)
            if leak.after_relief_of is not None and leak.after_relief_of not in runaways:
                raise ConfigError(
                    f"{where}: leaks {leak.id}: after_relief_of {leak.after_relief_of!r} is not "
                    f"a runaway of this scenario (known: {sorted(runaways)})"
                )
        for fault in self.faults:
            spec = _station(registry, fault.station, tuple(Kind), where, f"faults {fault.kind}")
            if fault.kind in SCALAR_ONLY and spec.kind is Kind.SEISMIC:
                raise ConfigError(
                    f"{where}: faults {fault.kind.value}: station {spec.id} is seismic; "
                    f"{fault.kind.value} needs scalar values"
                )


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


def _params(spec: StationSpec, names: tuple[str, ...], where: str, event: str) -> None:
    for param in names:
        if not isinstance(spec.params.get(param), int | float):
            raise ConfigError(f"{where}: {event}: station {spec.id} lacks param {param}")


def scenario_registry(scenario: Scenario) -> Registry:
    """The scenario's stations: its registry file and/or generated rain grid (the demo district
    when it names none), checked against the scenario's events."""
    plan = scenario.network
    where = str(scenario.source or scenario.name)
    if plan is None:
        registry = load_registry(_DEMO_REGISTRY)
    else:
        parts: list[list[StationSpec]] = []
        if plan.registry is not None:
            parts.append(list(load_registry(plan.registry)))
        if plan.rain is not None:
            parts.append(rain_network(plan.rain, plan.seats, plan.seed))
        registry = merge_registries(*parts, source=where)
    scenario.check_against(registry)
    return registry


def _cell(model: schema.CellModel) -> RainCell | MovingCell:
    if model.design is not None:
        design = model.design
        d = design.idf
        intensity = chicago_hyetograph(
            IdfCurve(d.a_mm_min, d.c, d.b_min, d.n),
            design.return_period_years,
            duration_min=design.duration_min,
            peak_ratio=design.peak_ratio,
            start_s=design.start_s,
        )
    else:
        assert model.intensity_mm_h is not None
        intensity = _keyframes(model.intensity_mm_h)
    velocity = model.velocity_kmh
    if velocity is None or (velocity.east == 0 and velocity.north == 0):
        return RainCell(model.lat, model.lon, model.sigma_km, intensity)
    return MovingCell(
        model.lat, model.lon, model.sigma_km, intensity, velocity.east, velocity.north
    )


def _network(model: schema.NetworkModel | None, folder: Path) -> NetworkPlan | None:
    if model is None:
        return None
    registry = None if model.registry is None else (folder / model.registry).resolve()
    rain = seats = None
    seed = DEFAULT_SEED
    if model.generate is not None:
        g = model.generate
        r = g.rain
        rain = RainGrid(r.count, r.south, r.north, r.west, r.east, r.interval_s)
        seed = g.seed
        if g.districts == "beijing":
            seats = BEIJING_SEATS
        else:
            seats = tuple(DistrictSeat(s.name, s.lat, s.lon) for s in g.districts)
    return NetworkPlan(registry, rain, seats or (), seed)


def _leak(m: schema.LeakModel) -> LeakPlan:
    enclosure = None
    if m.enclosure is not None:
        e = m.enclosure
        enclosure = Enclosure(e.station, e.volume_m3, e.air_changes_h)
    return LeakPlan(
        m.id,
        m.hazard,
        m.quantity,
        m.at_station,
        m.lat,
        m.lon,
        m.height_m,
        _keyframes(m.rate_g_s),
        m.after_relief_of,
        m.wind.speed_m_s,
        m.wind.from_deg,
        m.stability,
        m.sensor_height_m,
        enclosure,
        tuple(m.sensors),
        m.radius_m,
    )


def _faults(models: list[schema.FaultModel]) -> tuple[Fault, ...]:
    out = []
    for m in models:
        for station in [m.station] if m.station is not None else m.stations:
            out.append(Fault(m.type, station, m.from_s, m.to_s, m.value, tuple(m.at_s), m.quantity))
    return tuple(out)


def load_scenario(path: Path) -> Scenario:
    """Load a scenario YAML into frozen objects (errors name file, line and key path)."""
    model, _ = load_model(schema.ScenarioModel, path)
    folder = path.resolve().parent
    return Scenario(
        name=model.name,
        description=model.description,
        duration_s=model.duration_s,
        lead_in_s=MappingProxyType(dict(model.lead_in_s)),
        storms=tuple(Storm(s.id, tuple(_cell(c) for c in s.cells)) for s in model.storms),
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
        seed=model.seed,
        start=None if model.start is None else model.start.timestamp(),
        network=_network(model.network, folder),
        gauge_fields=tuple(
            GaugeField.from_totals(
                g.id,
                [(s.name, s.lat, s.lon, s.mm) for s in g.sites],
                start_s=g.start_s,
                step_s=g.step_s,
                power=g.power,
                scale=g.scale,
            )
            for g in model.gauge_fields
        ),
        basins=tuple(
            Basin(
                b.id,
                b.lat,
                b.lon,
                b.radius_km,
                b.area_km2,
                b.runoff_coeff,
                b.initial_loss_mm,
                b.reservoirs,
                b.k_s,
                b.base_flow_m3s,
                tuple(
                    BasinGauge(g.station, g.lag_s, g.share, g.warning_q_m3s, g.exponent)
                    for g in b.gauges
                ),
            )
            for b in model.basins
        ),
        underpasses=tuple(
            Underpass(u.station, u.catchment_m2, u.runoff_coeff, u.drain_m3s, u.sag_m2)
            for u in model.underpasses
        ),
        leaks=tuple(_leak(m) for m in model.leaks),
        runaways=tuple(
            Runaway(
                r.id,
                r.station,
                r.onset_s,
                r.heat_rate_k_min,
                r.activation_k,
                r.cooling_per_s,
                r.vapour_k,
                r.relief_kpa,
            )
            for r in model.runaways
        ),
        faults=_faults(model.faults),
        tolerance_s=MappingProxyType(dict(model.truth.tolerance_s)),
    )


def demo_scenario() -> Scenario:
    """The shipped demo scenario (``configs/scenarios/demo.yaml``)."""
    return load_scenario(DEMO_SCENARIO)
