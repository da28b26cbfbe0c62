"""Station networks and traffic for the benchmarks, built from the simulators' models.

- :func:`city_registry`: the demo district's non-seismic stations (rain, water level, ponding,
  gas, chem) copied into as many districts as it takes to reach ``n`` stations, each copy with
  its own ids and neighbours, all reporting every ``interval_s``. Silence detection is switched
  off (``silence_factor`` 1e6): a drained backlog is hours behind the wall clock, and every
  station would otherwise go silent and back again during a throughput run.
- :func:`probe_registry`: ponding gauges without neighbours that page red on their first
  reading of 60 cm (the ponding ladder has no persistence rule): one notice per probe reading.
- :func:`seismic_registry`: a grid of strong-motion stations at a fixed spacing.
- :func:`city_messages`: the sensor simulator's messages for the city under the demo storm,
  shifted so the newest event time is ``end``.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from simulators import DEMO_SCENARIO, SensorSimulator, demo_registry, load_scenario
from simulators.geo import offset_km
from simulators.scenario import Scenario
from yujing.config import Registry
from yujing.config.stations import StationSpec
from yujing.contracts import Kind

__all__ = [
    "PROBE_DEPTH_CM",
    "city_messages",
    "city_registry",
    "merge",
    "probe_payload",
    "probe_registry",
    "quake_scenario",
    "seismic_registry",
    "station_topic",
    "templates",
]

NO_SILENCE = {"silence_factor": 1e6}
PROBE_DEPTH_CM = 60.0
CITY_KINDS = (Kind.RAIN, Kind.WATER_LEVEL, Kind.PONDING, Kind.GAS, Kind.CHEM)


def station_topic(spec: StationSpec, prefix: str = "yujing/v1") -> str:
    return f"{prefix}/{spec.district}/{spec.kind.value}/{spec.id}"


def city_registry(n: int, interval_s: float = 10.0) -> Registry:
    """``n`` stations: copies of the demo's non-seismic network in districts c000, c001, …"""
    base = [s for s in demo_registry() if s.kind is not Kind.SEISMIC]
    specs: list[StationSpec] = []
    copy = 0
    while len(specs) < n:
        prefix = f"C{copy:03d}-"
        for spec in base[: n - len(specs)]:
            specs.append(
                replace(
                    spec,
                    id=prefix + spec.id,
                    district=f"c{copy:03d}",
                    interval_s=interval_s,
                    params={**spec.params, **NO_SILENCE},
                    area=None if spec.area is None else prefix + spec.area,
                    neighbours=tuple(prefix + x for x in spec.neighbours),
                )
            )
        copy += 1
    return Registry.from_specs(specs)


def probe_registry(count: int, start: int = 0) -> list[StationSpec]:
    """Ponding gauges ``PRB-<i>`` in district ``probe``; each pages red on its first 60 cm."""
    return [
        StationSpec(
            f"PRB-{i:06d}",
            "bench probe",
            Kind.PONDING,
            "probe",
            39.9,
            116.4,
            10.0,
            params=dict(NO_SILENCE),
        )
        for i in range(start, start + count)
    ]


def merge(*parts: Registry | list[StationSpec]) -> Registry:
    specs: list[StationSpec] = []
    for part in parts:
        specs.extend(part)
    return Registry.from_specs(specs)


def probe_payload(station: str, ts_ms: int, seq: int = 0) -> bytes:
    body = {
        "station": station,
        "ts": ts_ms,
        "seq": seq,
        "values": {"depth_cm": PROBE_DEPTH_CM},
        "quality": "ok",
    }
    return json.dumps(body, separators=(",", ":")).encode()


def scenario(name: str, duration_s: float, **events: Any) -> Scenario:
    """A scenario through the documented YAML shape (``configs/scenarios``), so the benchmarks
    depend on the file format, not on the simulators' constructors."""
    body = {"name": name, "duration_s": duration_s, **events}
    path = Path(tempfile.mkdtemp(prefix="yujing-bench-")) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body))
    return load_scenario(path)


def _city_scenario() -> Scenario:
    storms = yaml.safe_load(DEMO_SCENARIO.read_text())["storms"]
    return scenario("bench-city", 5400.0, storms=storms)


def city_messages(registry: Registry, count: int, end: float, seed: int) -> list[tuple[str, bytes]]:
    """About ``count`` messages of the city from scenario time 0 on (in event-time order), with
    the newest event time at about ``end`` (epoch s)."""
    per_s = sum(1.0 / s.interval_s for s in registry)
    span_s = math.ceil(count / per_s)
    simulator = SensorSimulator(registry, _city_scenario(), seed, start=end - span_s)
    return simulator.messages(simulator.start, simulator.start + span_s)[:count]


def templates(registry: Registry, seed: int) -> dict[str, tuple[str, str]]:
    """station → (topic, JSON of a quiet ``values`` object): background readings are built
    from these with fresh ``ts`` and ``seq`` at publish time."""
    quiet = scenario("bench-quiet", 60.0)
    simulator = SensorSimulator(registry, quiet, seed, start=1_800_000_000.0)
    out: dict[str, tuple[str, str]] = {}
    longest = max(s.interval_s for s in registry)
    for message in simulator.stream(simulator.start, simulator.start + longest + 1.0):
        if message.station not in out:
            values = json.loads(message.payload)["values"]
            out[message.station] = (message.topic, json.dumps(values, separators=(",", ":")))
    return out


def seismic_registry(count: int, spacing_km: float = 10.0) -> Registry:
    """``count`` stations on a near-square grid ``spacing_km`` apart (SW corner 39.0 N 116.0 E),
    each with its (up to 8) grid neighbours."""
    cols = math.ceil(math.sqrt(count * 4 / 3))
    cells: dict[tuple[int, int], str] = {}
    specs: list[StationSpec] = []
    for i in range(count):
        row, col = divmod(i, cols)
        lat, lon = offset_km(39.0, 116.0, north_km=row * spacing_km, east_km=col * spacing_km)
        sid = f"SM-{row:02d}-{col:02d}"
        cells[(row, col)] = sid
        specs.append(
            StationSpec(
                sid,
                f"strong motion {i + 1}",
                Kind.SEISMIC,
                "quake",
                round(lat, 5),
                round(lon, 5),
                1.0,
                area=f"grid-{row // 4}-{col // 4}",
            )
        )
    out = []
    for spec in specs:
        row, col = (int(x) for x in spec.id.split("-")[1:])
        near = tuple(
            cells[(row + dr, col + dc)]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            if (dr or dc) and (row + dr, col + dc) in cells
        )
        out.append(replace(spec, neighbours=near))
    return Registry.from_specs(out)


def quake_scenario(
    registry: Registry, origin_s: float, duration_s: float, magnitude: float = 5.8
) -> tuple[Scenario, dict[str, float]]:
    """An earthquake 10 km deep under the middle of the grid cell nearest the network's centre
    (the worst place for a grid: farthest from any station)."""
    lats = sorted(s.lat for s in registry)
    lons = sorted(s.lon for s in registry)
    mid_lat, mid_lon = lats[len(lats) // 2], lons[len(lons) // 2]
    step_lat = min(
        (b - a for a, b in zip(lats, lats[1:], strict=False) if b - a > 1e-6), default=0.0
    )
    step_lon = min(
        (b - a for a, b in zip(lons, lons[1:], strict=False) if b - a > 1e-6), default=0.0
    )
    quake = {
        "origin_s": origin_s,
        "lat": round(mid_lat + step_lat / 2, 5),
        "lon": round(mid_lon + step_lon / 2, 5),
        "depth_km": 10.0,
        "magnitude": magnitude,
    }
    return scenario("bench-quake", duration_s, earthquakes=[{"id": "bench-quake", **quake}]), quake
