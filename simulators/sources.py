"""Per-station signal sources: the scenario's models plus background noise, for a range of
report numbers (``seq``) or seismic sample numbers.

Noise is counter-based (:mod:`simulators.noise`), keyed by (seed, station, stream), so a value
depends only on its station and counter, never on which window asked for it. Models that need
integrating (a basin, an underpass, a gas enclosure, a runaway tank) are integrated once over the
whole scenario when the simulator is built and interpolated after.

Background levels (quiet stations; all well below the lowest warning rungs):

=============== ======================= ======== ==========================================
quantity        mean                    sd       note
=============== ======================= ======== ==========================================
rain_mm         0                                tipping bucket, 0.1 mm per tip
level_m         ``normal_level_m``      0.004    float gauge / radar ripple
depth_cm        0.3                     0.2      ultrasonic range noise over a dry road
ch4_pct_lel     0.5                     0.3      catalytic sensor zero noise
nh3_ppm         1.2                     0.4      electrochemical cells
cl2_ppm         0.02                    0.01
h2s_ppm         0.3                     0.1
pressure_kpa    ``pressure_normal_kpa`` 0.3 %    process transmitter
temp_c          ``temp_normal_c``       0.15
seismic         0                       8e-4     m/s², accelerometer + ambient noise
=============== ======================= ======== ==========================================

Readings saturate at the instrument span (:data:`SPAN`), as real sensors do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from simulators.dispersion import Leak
from simulators.geo import distance_km
from simulators.hydrology import Basin, underpass_depth_cm
from simulators.models import Earthquake, Profile, ProfileStation, Reach, RiverRise
from simulators.noise import FloatArray, IntArray, gaussian, stream_key
from simulators.rainfield import GaugeField, RainPart, field_depth_mm, sites_depth_mm
from simulators.scenario import LeakPlan, Scenario
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Kind

__all__ = [
    "DIGITS",
    "SEISMIC_SR_HZ",
    "SPAN",
    "Contribution",
    "RainSource",
    "ScalarSource",
    "SeismicSource",
    "SourceBuilder",
    "TIP_MM",
    "batched_field",
    "quantities_of",
    "rain_values",
]

TIP_MM = 0.1
SEISMIC_SR_HZ = 100
SEISMIC_NOISE_MS2 = 8e-4
DIGITS: Mapping[str, int] = {
    "rain_mm": 1,
    "level_m": 3,
    "depth_cm": 1,
    "ch4_pct_lel": 1,
    "nh3_ppm": 1,
    "cl2_ppm": 2,
    "h2s_ppm": 2,
    "pressure_kpa": 1,
    "temp_c": 1,
}
# instrument span (full scale); inside configs/quantities.yaml's plausibility limits
SPAN: Mapping[str, float] = {
    "depth_cm": 300.0,
    "ch4_pct_lel": 100.0,
    "nh3_ppm": 1000.0,
    "cl2_ppm": 50.0,
    "h2s_ppm": 500.0,
    "pressure_kpa": 10000.0,
    "temp_c": 400.0,
}
# quantity -> (mean, sd); None means "from the station's params" (see _background)
_FIXED: Mapping[str, tuple[float, float]] = {
    "depth_cm": (0.3, 0.2),
    "ch4_pct_lel": (0.5, 0.3),
    "nh3_ppm": (1.2, 0.4),
    "cl2_ppm": (0.02, 0.01),
    "h2s_ppm": (0.3, 0.1),
}
SERIES_STEP_S = {"basin": 60.0, "underpass": 10.0, "enclosure": 2.0, "runaway": 2.0}


def quantities_of(spec: StationSpec) -> tuple[str, ...]:
    """The quantities a (non-seismic) station reports."""
    if spec.kind is Kind.RAIN:
        return ("rain_mm",)
    if spec.kind is Kind.WATER_LEVEL:
        return ("level_m",)
    if spec.kind is Kind.PONDING:
        return ("depth_cm",)
    if spec.kind is Kind.GAS:
        return ("ch4_pct_lel",)
    if spec.kind is Kind.CHEM:
        substance = spec.params.get("substance")
        if isinstance(substance, str):
            return (f"{substance}_ppm",)
        return ("pressure_kpa", "temp_c")
    raise ValueError(f"{spec.id}: {spec.kind.value} has no scalar quantities")


def param(spec: StationSpec, name: str) -> float:
    value = spec.params.get(name)
    if not isinstance(value, int | float):
        raise ValueError(f"{spec.id}: needs numeric param {name!r}")
    return float(value)


def background(spec: StationSpec, quantity: str) -> tuple[float, float]:
    if quantity in _FIXED:
        return _FIXED[quantity]
    if quantity == "level_m":
        return param(spec, "normal_level_m"), 0.004
    if quantity == "pressure_kpa":
        normal = param(spec, "pressure_normal_kpa")
        return normal, 0.003 * normal
    if quantity == "temp_c":
        return param(spec, "temp_normal_c"), 0.15
    raise ValueError(f"{spec.id}: no background model for {quantity!r}")


class Contribution(Protocol):
    """One model's effect on one quantity of one station."""

    @property
    def quantity(self) -> str: ...

    def apply(self, t_s: FloatArray, value: FloatArray) -> FloatArray: ...


@dataclass(frozen=True, slots=True)
class ProfileAdd:
    profile: Profile
    where: ProfileStation

    @property
    def quantity(self) -> str:
        return self.profile.quantity

    def apply(self, t_s: FloatArray, value: FloatArray) -> FloatArray:
        return value + self.profile.added_at(self.where, t_s)


@dataclass(frozen=True, slots=True)
class WaveMax:
    wave: RiverRise
    reach: Reach
    warning_m: float
    normal_m: float
    quantity: str = "level_m"

    def apply(self, t_s: FloatArray, value: FloatArray) -> FloatArray:
        level = self.wave.level_m(self.reach, self.warning_m, self.normal_m, t_s)
        return np.maximum(value, level)


@dataclass(frozen=True, slots=True)
class Series:
    """A precomputed series on a grid, added to the value (``mode="add"``) or taken as a floor
    (``"max"``); flat outside the grid."""

    quantity: str
    grid_s: FloatArray
    values: FloatArray
    mode: str = "add"

    def apply(self, t_s: FloatArray, value: FloatArray) -> FloatArray:
        series = np.interp(t_s, self.grid_s, self.values)
        return np.maximum(value, series) if self.mode == "max" else value + series


@dataclass(frozen=True, slots=True)
class PlumeAdd:
    leak: Leak
    lat: float
    lon: float

    @property
    def quantity(self) -> str:
        return self.leak.quantity

    def apply(self, t_s: FloatArray, value: FloatArray) -> FloatArray:
        return value + self.leak.open_air(self.lat, self.lon, t_s)


class RainSource:
    """Tipping-bucket increments since the previous report, from the rain field's exact depths
    (``catch_factor``: the gauge's exposure and calibration, a sensor property)."""

    def __init__(self, spec: StationSpec, parts: tuple[RainPart, ...], catch_factor: float = 1.0):
        self.spec = spec
        self.parts = parts
        self.catch_factor = catch_factor

    def true_depth_mm(self, t_s: FloatArray) -> FloatArray:
        """Rain that really fell at the gauge (no catch error): the ground truth."""
        return field_depth_mm(self.parts, self.spec.lat, self.spec.lon, t_s)

    def depth_mm(self, t_s: FloatArray) -> FloatArray:
        result: FloatArray = self.catch_factor * self.true_depth_mm(t_s)
        return result

    def values(self, t_s: FloatArray, seq: IntArray) -> dict[str, FloatArray]:
        count = len(t_s)  # one field evaluation for both ends of every interval
        ends = np.concatenate((t_s, t_s - self.spec.interval_s))
        tips = np.floor(self.depth_mm(ends) / TIP_MM + 1e-9)
        return {"rain_mm": np.maximum(tips[:count] - tips[count:], 0.0) * TIP_MM}


def batched_field(parts: Sequence[RainPart]) -> bool:
    """Are gauges in this rain field made faster together (:func:`rain_values`)? Not when it
    is shaped on real gauges: each point weighs every site, site by site."""
    return not any(isinstance(part, GaugeField) for part in parts)


def rain_values(
    sources: Sequence[RainSource], counts: Sequence[int], t_s: FloatArray
) -> dict[str, FloatArray]:
    """:meth:`RainSource.values` of many gauges sharing one rain field at once: gauge ``i`` at
    the next ``counts[i]`` times of ``t_s``. The same numbers, element by element, with the
    numpy calls shared (a city of gauges asked one by one spent its time starting them)."""
    parts = sources[0].parts
    if any(source.parts is not parts for source in sources):
        raise ValueError("rain_values: the gauges must share their rain field")
    sites = [(source.spec.lat, source.spec.lon) for source in sources]
    interval = np.repeat([source.spec.interval_s for source in sources], counts)
    catch = np.repeat([source.catch_factor for source in sources], counts)
    tips = [
        np.floor(catch * sites_depth_mm(parts, sites, counts, ends) / TIP_MM + 1e-9)
        for ends in (t_s, t_s - interval)
    ]
    return {"rain_mm": np.maximum(tips[0] - tips[1], 0.0) * TIP_MM}


@dataclass(frozen=True, slots=True)
class ScalarSource:
    """Background (mean + Gaussian noise, floored at 0 where physical, capped at the span) plus
    the contributions of the scenario's models."""

    spec: StationSpec
    seed: int
    contributions: tuple[Contribution, ...] = ()

    def truth(self, quantity: str, t_s: FloatArray) -> FloatArray:
        """The noise-free value of ``quantity`` at scenario times ``t_s``."""
        mean, _ = background(self.spec, quantity)
        value = np.full(t_s.shape, mean)
        for contribution in self.contributions:
            if contribution.quantity == quantity:
                value = contribution.apply(t_s, value)
        return value

    def values(self, t_s: FloatArray, seq: IntArray) -> dict[str, FloatArray]:
        out = {}
        for quantity in quantities_of(self.spec):
            _, sd = background(self.spec, quantity)
            key = stream_key(self.seed, self.spec.id, quantity)
            value = self.truth(quantity, t_s) + sd * gaussian(key, seq)
            if quantity != "temp_c":
                value = np.maximum(value, 0.0)
            if quantity in SPAN:
                value = np.minimum(value, SPAN[quantity])
            out[quantity] = value
        return out


class SeismicSource:
    """Three channels at ``sr_hz``: noise everywhere, plus precomputed accelerograms for each
    earthquake over its shaking window (so each S train peaks exactly at the model PGA)."""

    def __init__(
        self,
        spec: StationSpec,
        seed: int,
        quakes: tuple[Earthquake, ...],
        first_sample_s: float,
        sr_hz: int,
    ) -> None:
        self.spec = spec
        self.sr_hz = sr_hz
        self.first_sample_s = first_sample_s
        self._keys = [stream_key(seed, spec.id, f"noise-{c}") for c in range(3)]
        self._events: list[tuple[int, FloatArray]] = []
        for quake in quakes:
            distance = quake.hypocentral_km(spec.lat, spec.lon)
            begin_s, end_s = quake.shaking_window_s(distance)
            n_from = math.floor((begin_s - first_sample_s) * sr_hz) - 1
            n_to = math.ceil((end_s - first_sample_s) * sr_hz) + 1
            times = first_sample_s + np.arange(n_from, n_to) / sr_hz
            key = stream_key(seed, spec.id, quake.id)
            self._events.append((n_from, quake.accelerograms(distance, times, key)))

    def clean(self, n_from: int, n_to: int) -> FloatArray:
        """(3, n) noise-free accelerations for sample numbers [n_from, n_to)."""
        out = np.zeros((3, n_to - n_from))
        for start, event in self._events:
            lo, hi = max(n_from, start), min(n_to, start + event.shape[1])
            if lo < hi:
                out[:, lo - n_from : hi - n_from] += event[:, lo - start : hi - start]
        return out

    def samples(self, n_from: int, n_to: int) -> FloatArray:
        """(3, n_to - n_from) accelerations (m/s²) for sample numbers [n_from, n_to)."""
        counters = np.arange(n_from, n_to)
        noise = np.vstack([SEISMIC_NOISE_MS2 * gaussian(key, counters) for key in self._keys])
        result: FloatArray = noise + self.clean(n_from, n_to)
        return result


Source = RainSource | ScalarSource | SeismicSource


class SourceBuilder:
    """Builds every station's source for one (registry, scenario, seed), integrating the
    scenario-wide models once."""

    def __init__(
        self, registry: Registry, scenario: Scenario, seed: int, span_s: tuple[float, float]
    ):
        self.registry = registry
        self.scenario = scenario
        self.seed = seed
        self.first_s, self.last_s = span_s
        parts = scenario.rain_parts
        self.rain_parts = parts
        self._contributions: dict[str, list[Contribution]] = {}
        self.relief_s: dict[str, float | None] = {}
        self._add_profiles_and_waves()
        self._add_basins()
        self._add_underpasses()
        self._add_runaways()
        self._add_leaks()

    def _grid(self, step_s: float, first_s: float | None = None) -> FloatArray:
        first = self.first_s if first_s is None else max(self.first_s, first_s)
        count = math.ceil((self.last_s - first) / step_s) + 1
        grid: FloatArray = first + step_s * np.arange(count, dtype=np.float64)
        return grid

    def _add(self, station: str, contribution: Contribution) -> None:
        self._contributions.setdefault(station, []).append(contribution)

    def _spec(self, station: str) -> StationSpec:
        spec = self.registry.get(station)
        assert spec is not None  # checked by Scenario.check_against
        return spec

    def _add_profiles_and_waves(self) -> None:
        for profile in self.scenario.profiles:
            for where in profile.stations:
                self._add(where.station, ProfileAdd(profile, where))
        for wave in self.scenario.rivers:
            for reach in wave.reaches:
                spec = self._spec(reach.station)
                self._add(
                    spec.id,
                    WaveMax(
                        wave, reach, param(spec, "warning_level_m"), param(spec, "normal_level_m")
                    ),
                )

    def _depth_at(self, lat: float, lon: float, t_s: FloatArray) -> FloatArray:
        return field_depth_mm(self.rain_parts, lat, lon, t_s)

    def _add_basins(self) -> None:
        for basin in self.scenario.basins:
            grid = self._grid(SERIES_STEP_S["basin"])
            flow = basin.discharge_m3s(self._depth_at, grid)
            for gauge in basin.gauges:
                spec = self._spec(gauge.station)
                stage = Basin.stage_m(
                    gauge, flow, param(spec, "normal_level_m"), param(spec, "warning_level_m")
                )
                self._add(spec.id, Series("level_m", grid + gauge.lag_s, stage, "max"))

    def _add_underpasses(self) -> None:
        for underpass in self.scenario.underpasses:
            spec = self._spec(underpass.station)
            grid = self._grid(SERIES_STEP_S["underpass"])
            rain = self._depth_at(spec.lat, spec.lon, grid)
            self._add(spec.id, Series("depth_cm", grid, underpass_depth_cm(underpass, rain, grid)))

    def _add_runaways(self) -> None:
        for runaway in self.scenario.runaways:
            spec = self._spec(runaway.station)
            t_normal, p_normal = param(spec, "temp_normal_c"), param(spec, "pressure_normal_kpa")
            grid = self._grid(SERIES_STEP_S["runaway"], runaway.onset_s - 60.0)
            temp, pressure = runaway.series(grid, t_normal, p_normal)
            self._add(spec.id, Series("temp_c", grid, temp - t_normal))
            self._add(spec.id, Series("pressure_kpa", grid, pressure - p_normal))
            hit = np.flatnonzero(pressure >= runaway.relief_kpa)
            self.relief_s[runaway.id] = float(grid[hit[0]]) if hit.size else None

    def _add_leaks(self) -> None:
        for plan in self.scenario.leaks:
            leak = self._place(plan)
            if leak is None:
                continue  # its runaway never reached relief: no release
            reached = set(plan.sensors)
            if plan.radius_m is not None:
                for spec in self.registry:
                    if (
                        plan.quantity in _reported(spec)
                        and distance_km(leak.lat, leak.lon, spec.lat, spec.lon) * 1000.0
                        <= plan.radius_m
                    ):
                        reached.add(spec.id)
            if leak.enclosure is not None:
                reached.discard(leak.enclosure.station)
                grid = self._grid(SERIES_STEP_S["enclosure"], leak.rate_g_s.start_s - 60.0)
                self._add(leak.enclosure.station, Series(plan.quantity, grid, leak.enclosed(grid)))
            for station in sorted(reached):
                spec = self._spec(station)
                self._add(station, PlumeAdd(leak, spec.lat, spec.lon))

    def _place(self, plan: LeakPlan) -> Leak | None:
        rate = plan.rate_g_s
        if plan.after_relief_of is not None:
            relief = self.relief_s.get(plan.after_relief_of)
            if relief is None:
                return None
            rate = replace(rate, times_s=tuple(t + relief for t in rate.times_s))
        if plan.at_station is not None:
            spec = self._spec(plan.at_station)
            lat, lon = spec.lat, spec.lon
        else:
            assert plan.lat is not None and plan.lon is not None
            lat, lon = plan.lat, plan.lon
        return Leak(
            plan.id,
            plan.quantity,
            lat,
            lon,
            plan.height_m,
            rate,
            plan.wind_m_s,
            plan.wind_from_deg,
            plan.stability,
            plan.sensor_height_m,
            plan.enclosure,
            plan.sensors,
        )

    def build(self, spec: StationSpec, first_sample_s: float, catch: Callable[[], float]) -> Source:
        if spec.kind is Kind.RAIN:
            return RainSource(spec, self.rain_parts, catch_factor=catch())
        if spec.kind is Kind.SEISMIC:
            return SeismicSource(
                spec, self.seed, self.scenario.earthquakes, first_sample_s, SEISMIC_SR_HZ
            )
        return ScalarSource(spec, self.seed, tuple(self._contributions.get(spec.id, ())))


def _reported(spec: StationSpec) -> tuple[str, ...]:
    if spec.kind in (Kind.RAIN, Kind.SEISMIC):
        return ()
    return quantities_of(spec)
