"""Graded ground truth: when the *true* hazard at each station crossed each grade of its ladder.

The true hazard is the scenario's noise-free model at the station (for rain: what really fell,
before the gauge's catch error and tipping-bucket steps; for shaking: the noise-free horizontal
acceleration), graded with the same ladders the pipeline uses (``LadderBook.for_station``, so
per-station levels and overrides apply). The true grade at time t is the highest rung whose
``enter`` the true quantities reach at t: no hysteresis, no dwell, no persistence (those are
the warning system's devices, and the truth is what they are judged against).

A :class:`TruthEpisode` is one interval in which the true grade stays at or above ``grade``:
``start`` is the crossing (interpolated linearly between grid points), ``end`` when it falls
below again (or the end of the scenario), ``peak`` the highest value of the rung's quantity.
Runs less than the rung's ``min_dwell_s`` apart are one episode
(shaking oscillates; no alert could step down in between). Stations and rules without any
episode are still *scored* (their warnings are false alarms): :func:`graded_truth` returns the
scored keys too.

Quantities: raw ones (``level_m``, ``depth_cm``, ``ch4_pct_lel``, ``*_ppm``, ``pressure_kpa``,
``temp_c``), rain windows (``rain_1h_mm`` … ``rain_24h_mm``), instrumental intensity (from the
PGA with the rule's ``intensity_slope``/``intensity_intercept``) and the derived rates the
detectors name (:func:`detectors.trend.derivation`: rise over the rule's ``rise_window_s``,
projection ``ahead_s``, runaway). Rules on anything else (a STA/LTA trigger, sensor health)
are not scored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detectors.trend import derivation
from simulators.generator import SensorSimulator
from simulators.noise import FloatArray
from simulators.sources import RainSource, ScalarSource, SeismicSource, quantities_of
from yujing.config import LadderBook
from yujing.config.ladders import RuleSpec
from yujing.config.stations import StationSpec
from yujing.contracts import WARNING_GRADES, AlertKey, Grade, Kind

__all__ = ["GradedTruth", "TrueSeries", "TruthEpisode", "graded_truth"]

RAIN_WINDOWS_S = {
    "rain_1h_mm": 3600.0,
    "rain_3h_mm": 10800.0,
    "rain_6h_mm": 21600.0,
    "rain_12h_mm": 43200.0,
    "rain_24h_mm": 86400.0,
}
RAIN_STEP_S = 60.0
SCALAR_STEP_S = 10.0


@dataclass(frozen=True, slots=True)
class TruthEpisode:
    key: AlertKey
    district: str
    grade: Grade
    start: float  # epoch s: the true crossing
    end: float
    peak: float
    peak_ts: float
    quantity: str
    threshold: float

    def to_json(self) -> dict[str, Any]:
        return {
            "key": str(self.key),
            "district": self.district,
            "grade": self.grade.value,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "peak": round(self.peak, 4),
            "peak_ts": round(self.peak_ts, 3),
            "quantity": self.quantity,
            "threshold": self.threshold,
        }


@dataclass(frozen=True, slots=True)
class GradedTruth:
    """Every scored key (station, hazard, rule) with its district and the grades its ladder
    has rungs for, and the episodes."""

    keys: Mapping[AlertKey, str]
    episodes: tuple[TruthEpisode, ...]
    start: float
    end: float
    grades: Mapping[AlertKey, tuple[Grade, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "keys": sorted(str(k) for k in self.keys),
            "episodes": [e.to_json() for e in self.episodes],
        }


class TrueSeries:
    """True quantities of one station on a time grid (epoch s), computed on demand."""

    def __init__(self, simulator: SensorSimulator, spec: StationSpec, grid: FloatArray):
        self.simulator = simulator
        self.spec = spec
        self.grid = grid
        self.scenario_t = grid - simulator.start
        self._cache: dict[str, FloatArray] = {}

    def raw(self, quantity: str, shift_s: float = 0.0) -> FloatArray | None:
        source = self.simulator.source(self.spec.id)
        t = self.scenario_t - shift_s
        if isinstance(source, RainSource):
            if quantity not in RAIN_WINDOWS_S:
                return None
            depth = source.true_depth_mm(t)
            result: FloatArray = depth - source.true_depth_mm(t - RAIN_WINDOWS_S[quantity])
            return result
        if isinstance(source, ScalarSource):
            return source.truth(quantity, t) if quantity in quantities_of(self.spec) else None
        return None

    def value(self, quantity: str, spec: RuleSpec) -> FloatArray | None:
        if quantity in self._cache:
            return self._cache[quantity]
        found = self.raw(quantity)
        if found is None:
            found = self._derived(quantity, spec)
        if found is not None:
            self._cache[quantity] = found
        return found

    def _derived(self, quantity: str, spec: RuleSpec) -> FloatArray | None:
        how = derivation(quantity)
        if how is None:
            return None
        params = spec.params
        if how.kind == "ahead":
            current = self.raw(how.raw[0])
            window = float(params.get("rise_window_s", 900.0))
            before = self.raw(how.raw[0], window)
            if current is None or before is None:
                return None
            ahead = float(params.get("ahead_s", 0.0))
            result: FloatArray = current + np.maximum((current - before) / window, 0.0) * ahead
            return result
        window = float(params.get("rise_window_s", 300.0))
        rates = []
        for raw in how.raw:
            now, before = self.raw(raw), self.raw(raw, window)
            if now is None or before is None:
                return None
            rates.append((now - before) / window * how.scale_s)
        if how.kind == "runaway":
            follow = float(params.get("pressure_follow_kpa_per_min", 1.0))
            runaway: FloatArray = np.where(rates[1] >= follow, rates[0], 0.0)
            return runaway
        return rates[0]


def _true_grades(spec: RuleSpec, values: Mapping[str, FloatArray], size: int) -> np.ndarray:
    """Rank of the highest rung reached at each grid point."""
    ranks = np.zeros(size, dtype=np.int64)
    ladder = spec.ladder
    for rung in ladder.rungs:
        series = values.get(ladder.quantity_of(rung))
        if series is None or math.isnan(rung.enter):
            continue
        ranks = np.where(series >= rung.enter, np.maximum(ranks, rung.grade.rank), ranks)
    return ranks


def _crossing(grid: FloatArray, series: FloatArray | None, i: int, enter: float) -> float:
    if series is None or i == 0 or not series[i - 1] < enter <= series[i]:
        return float(grid[i])
    share = (enter - series[i - 1]) / (series[i] - series[i - 1])
    return float(grid[i - 1] + share * (grid[i] - grid[i - 1]))


def _merged(grid: FloatArray, edges: np.ndarray, gap_s: float) -> list[tuple[int, int]]:
    """[first, stop) index runs, joining runs less than ``gap_s`` apart (the rung's dwell: no
    alert could have stepped down in between, so it is one episode)."""
    runs: list[tuple[int, int]] = []
    for first, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if runs and grid[min(first, grid.size - 1)] - grid[min(runs[-1][1], grid.size - 1)] < gap_s:
            runs[-1] = (runs[-1][0], stop)
        else:
            runs.append((first, stop))
    return runs


def _episodes(
    key: AlertKey, district: str, spec: RuleSpec, values: Mapping[str, FloatArray], grid: FloatArray
) -> list[TruthEpisode]:
    ranks = _true_grades(spec, values, grid.size)
    out = []
    for grade in WARNING_GRADES:
        rung = spec.ladder.rung_for(grade)
        if rung is None:
            continue
        above = ranks >= grade.rank
        if not above.any():
            continue
        quantity = spec.ladder.quantity_of(rung)
        series = values.get(quantity)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], above.astype(np.int8), [0]))))
        for first, stop in _merged(grid, edges, rung.min_dwell_s):
            peak_i = first + int(np.argmax(series[first:stop])) if series is not None else first
            out.append(
                TruthEpisode(
                    key,
                    district,
                    grade,
                    _crossing(grid, series, int(first), rung.enter),
                    float(grid[min(stop, grid.size - 1)]),
                    float(series[peak_i]) if series is not None else math.nan,
                    float(grid[peak_i]),
                    quantity,
                    rung.enter,
                )
            )
    return out


def _seismic(
    simulator: SensorSimulator, station: StationSpec, spec: RuleSpec, source: SeismicSource
) -> dict[str, FloatArray] | None:
    """Intensity of the noise-free horizontal shaking, sample by sample, over the quakes."""
    if spec.ladder.quantity != "intensity":
        return None
    slope = float(spec.params.get("intensity_slope", 3.17))
    intercept = float(spec.params.get("intensity_intercept", 6.59))
    quakes = simulator.scenario.earthquakes
    if not quakes:
        return {
            "intensity": np.array([1.0, 1.0]),
            "_grid": np.array([simulator.start, simulator.end]),
        }
    spans = [q.shaking_window_s(q.hypocentral_km(station.lat, station.lon)) for q in quakes]
    first_s, last_s = min(s[0] for s in spans) - 1.0, max(s[1] for s in spans) + 1.0
    sr = source.sr_hz
    n_from = math.floor((first_s - source.first_sample_s) * sr)
    n_to = math.ceil((last_s - source.first_sample_s) * sr)
    clean = source.clean(n_from, n_to)
    pga = np.maximum(np.abs(clean[1]), np.abs(clean[2]))
    level = np.clip(slope * np.log10(np.maximum(pga, 1e-9)) + intercept, 1.0, 12.0)
    grid = simulator.start + source.first_sample_s + np.arange(n_from, n_to) / sr
    return {"intensity": level, "_grid": grid}


def graded_truth(
    simulator: SensorSimulator, ladders: LadderBook, stations: Iterable[str] | None = None
) -> GradedTruth:
    """Episodes for every scored (station, hazard, rule) of the simulator's registry."""
    scenario = simulator.scenario
    wanted = None if stations is None else set(stations)
    keys: dict[AlertKey, str] = {}
    grades: dict[AlertKey, tuple[Grade, ...]] = {}
    episodes: list[TruthEpisode] = []
    for station in simulator.registry:
        if wanted is not None and station.id not in wanted:
            continue
        source = simulator.source(station.id)
        first = simulator.start - scenario.lead_in_for(station.kind)
        step = RAIN_STEP_S if station.kind is Kind.RAIN else min(SCALAR_STEP_S, station.interval_s)
        grid: FloatArray = first + step * np.arange(
            math.floor((simulator.end - first) / step) + 1, dtype=np.float64
        )
        series = TrueSeries(simulator, station, grid)
        for spec in ladders.for_station(station):
            key = AlertKey(station.id, spec.hazard, spec.rule)
            if isinstance(source, SeismicSource):
                seismic = _seismic(simulator, station, spec, source)
                if seismic is None:
                    continue
                values, rule_grid = {"intensity": seismic["intensity"]}, seismic["_grid"]
            else:
                rule_grid = grid
                values = {}
                for quantity in {spec.ladder.quantity_of(r) for r in spec.ladder.rungs}:
                    found = series.value(quantity, spec)
                    if found is not None:
                        values[quantity] = found
                if not values:
                    continue
            keys[key] = station.district
            grades[key] = tuple(r.grade for r in spec.ladder.rungs)
            episodes.extend(_episodes(key, station.district, spec, values, rule_grid))
    episodes.sort(key=lambda e: (e.start, str(e.key), e.grade.rank))
    return GradedTruth(keys, tuple(episodes), simulator.start, simulator.end, grades)
