"""Ground truth of a simulated run, for skill scoring: what each event did at each station,
from the noise-free models (physical quantities, not grades: mapping them to grades is the
ladders' job).

Times are scenario seconds (add ``start`` for epoch seconds). Shape::

    {"scenario": "demo", "seed": 7, "start": 1.78e9, "duration_s": 5400,
     "lead_in_s": {"rain": 10800},
     "events": [
       {"id": "storm-1", "hazard": "rainstorm", "kind": "rain", "stations": [
          {"station": "HD-RN-023", "peak_rain_1h_mm": 88.1, "peak_rain_1h_s": 1500, ...}]},
       {"id": "qinghe-flood", "hazard": "flood", "kind": "water_level", "stations": [...]},
       {"id": "gas-leak-p3", "hazard": "gas_leak", "quantity": "ch4_pct_lel", "stations": [
          {"station": "CY-GS-006", "onset_s": 60, "peak": 64.5, "peak_s": 720}]},
       {"id": "quake-1", "hazard": "earthquake", "origin_s": 300, "lat": ..., "stations": [
          {"station": "HD-SM-007", "hypocentral_km": 10.4, "p_arrival_s": 301.7,
           "s_arrival_s": 302.97, "pga_ms2": 2.03}]}]}

Rain gauges are listed when their noise-free peak 1 h total reaches ``WET_1H_MM`` (10 mm, half
the lowest rung); every other station of a kind not named by an event is quiet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from simulators.generator import SensorSimulator
from simulators.noise import FloatArray
from simulators.sources import RainSource, ScalarSource
from yujing.contracts import Hazard, Kind

__all__ = ["WET_1H_MM", "ground_truth", "write_ground_truth"]

WET_1H_MM = 10.0
_STEP_S = 10.0


def _grid(first_s: float, last_s: float) -> FloatArray:
    result: FloatArray = np.arange(first_s, last_s + _STEP_S, _STEP_S, dtype=np.float64)
    return result


def _rain(simulator: SensorSimulator) -> list[dict[str, Any]]:
    scenario = simulator.scenario
    t = _grid(-scenario.lead_in_for(Kind.RAIN), scenario.duration_s)
    events = []
    for storm in scenario.storms:
        rows = []
        for spec in simulator.registry.of_kind(Kind.RAIN):
            source = simulator.source(spec.id)
            assert isinstance(source, RainSource)
            depth = source.catch_factor * storm.depth_mm(spec.lat, spec.lon, t)
            row: dict[str, Any] = {"station": spec.id}
            for hours in (1, 3):
                before = source.catch_factor * storm.depth_mm(spec.lat, spec.lon, t - 3600 * hours)
                window = depth - before
                i = int(np.argmax(window))
                row[f"peak_rain_{hours}h_mm"] = round(float(window[i]), 1)
                row[f"peak_rain_{hours}h_s"] = float(t[i])
            row["total_mm"] = round(float(depth[-1]), 1)
            if row["peak_rain_1h_mm"] >= WET_1H_MM:
                rows.append(row)
        events.append(
            {
                "id": storm.id,
                "hazard": Hazard.RAINSTORM.value,
                "kind": "rain",
                "centres": [
                    {"lat": c.lat, "lon": c.lon, "sigma_km": c.sigma_km} for c in storm.cells
                ],
                "stations": rows,
            }
        )
    return events


def _peak(
    simulator: SensorSimulator, station: str, quantity: str, t: FloatArray
) -> dict[str, float]:
    """Noise-free peak of ``quantity`` at ``station`` over the scenario times ``t``."""
    source = simulator.source(station)
    assert isinstance(source, ScalarSource)
    values = source.truth(quantity, t)
    i = int(np.argmax(values))
    return {"peak": round(float(values[i]), 3), "peak_s": float(t[i])}


def _rivers(simulator: SensorSimulator) -> list[dict[str, Any]]:
    t = _grid(0.0, simulator.scenario.duration_s)
    events = []
    for wave in simulator.scenario.rivers:
        rows = [
            {
                "station": r.station,
                "quantity": "level_m",
                **_peak(simulator, r.station, "level_m", t),
            }
            for r in wave.reaches
        ]
        events.append(
            {"id": wave.id, "hazard": Hazard.FLOOD.value, "kind": "water_level", "stations": rows}
        )
    return events


def _profiles(simulator: SensorSimulator) -> list[dict[str, Any]]:
    t = _grid(0.0, simulator.scenario.duration_s)
    events = []
    for profile in simulator.scenario.profiles:
        rows = []
        for where in profile.stations:
            rows.append(
                {
                    "station": where.station,
                    "onset_s": profile.added.start_s + where.delay_s,
                    "end_s": profile.added.end_s + where.delay_s,
                    **_peak(simulator, where.station, profile.quantity, t),
                }
            )
        events.append(
            {
                "id": profile.id,
                "hazard": profile.hazard.value,
                "quantity": profile.quantity,
                "stations": rows,
            }
        )
    return events


def _earthquakes(simulator: SensorSimulator) -> list[dict[str, Any]]:
    events = []
    for quake in simulator.scenario.earthquakes:
        rows: list[dict[str, Any]] = []
        for spec in sorted(
            simulator.registry.of_kind(Kind.SEISMIC),
            key=lambda s: quake.hypocentral_km(s.lat, s.lon),
        ):
            distance = quake.hypocentral_km(spec.lat, spec.lon)
            rows.append(
                {
                    "station": spec.id,
                    "hypocentral_km": round(distance, 2),
                    "p_arrival_s": round(quake.p_arrival_s(distance), 3),
                    "s_arrival_s": round(quake.s_arrival_s(distance), 3),
                    "pga_ms2": round(quake.pga_ms2(distance), 4),
                }
            )
        events.append(
            {
                "id": quake.id,
                "hazard": Hazard.EARTHQUAKE.value,
                "kind": "seismic",
                "origin_s": quake.origin_s,
                "lat": quake.lat,
                "lon": quake.lon,
                "depth_km": quake.depth_km,
                "magnitude": quake.magnitude,
                "stations": rows,
            }
        )
    return events


def ground_truth(simulator: SensorSimulator, *, with_start: bool = True) -> dict[str, Any]:
    """The run's ground truth as plain JSON (see the module docstring)."""
    scenario = simulator.scenario
    return {
        "scenario": scenario.name,
        "seed": simulator.seed,
        "start": simulator.start if with_start else None,
        "duration_s": scenario.duration_s,
        "lead_in_s": {kind.value: s for kind, s in scenario.lead_in_s.items()},
        "events": _rain(simulator)
        + _rivers(simulator)
        + _profiles(simulator)
        + _earthquakes(simulator),
    }


def write_ground_truth(path: Path, simulator: SensorSimulator, *, with_start: bool = True) -> Path:
    """Write :func:`ground_truth` as indented JSON."""
    path.write_text(
        json.dumps(ground_truth(simulator, with_start=with_start), indent=1) + "\n",
        encoding="utf-8",
    )
    return path
