"""A seeded demo network of 224 stations in two Beijing districts, and its registry YAML.

The layout imitates a city monitoring network (39.80-40.10 N, 116.20-116.60 E; the districts
split at 116.40 E, roughly the Tiananmen meridian):

========== ===== ==============================================================================
kind       count layout
========== ===== ==============================================================================
rain          90 jittered 10 x 9 grid (~3.4 x 3.7 km spacing)
water_level   26 14 points along a Qinghe-like river (north), 12 along a Liangshui-like river
                 (south); params ``normal_level_m``, ``warning_level_m``,
                 ``guaranteed_level_m``, ``record_level_m`` (metres above datum)
ponding       22 underpasses on the 2nd, 3rd and 4th ring roads (rectangles round Tiananmen)
gas           48 four pipelines of 12 points, ~700 m apart
chem          18 three chemical sites of 3 toxic-gas detectors (one substance each: NH3, Cl2,
                 H2S; ``rules: [nh3]`` ...) and 3 tanks (params ``pressure_*_kpa`` and
                 ``temp_*_c`` set points; ``rules: [tank_pressure, tank_temperature,
                 runaway]``)
seismic       20 jittered 5 x 4 grid over a wider box, ~9-10 km spacing, 100 Hz, 3 channels
========== ===== ==============================================================================

Same seed, same network, byte for byte. Regenerate the shipped registry with::

    .venv/bin/python -m simulators.cli registry configs/demo/stations.yaml --seed 7
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulators.geo import distance_km, offset_km
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Kind

__all__ = [
    "DEMO_REGISTRY",
    "DEMO_SEED",
    "INTERVAL_S",
    "build_network",
    "demo_registry",
    "write_registry",
    "write_specs",
]

DEMO_SEED = 7
DEMO_REGISTRY = Path(__file__).resolve().parent.parent / "configs" / "demo" / "stations.yaml"
BOX = (39.80, 40.10, 116.20, 116.60)  # south, north, west, east
SEISMIC_BOX = (39.76, 40.14, 116.14, 116.66)
SPLIT_LON = 116.40
TIANANMEN = (39.9042, 116.3976)
INTERVAL_S: dict[Kind, float] = {
    Kind.RAIN: 60.0,
    Kind.WATER_LEVEL: 60.0,  # hydrological practice is 300 s; 60 s keeps the demo lively
    Kind.PONDING: 60.0,
    Kind.GAS: 10.0,
    Kind.CHEM: 10.0,
    Kind.SEISMIC: 1.0,
}
_CODE = {
    Kind.RAIN: "RN",
    Kind.WATER_LEVEL: "WL",
    Kind.PONDING: "PD",
    Kind.GAS: "GS",
    Kind.CHEM: "CH",
    Kind.SEISMIC: "SM",
}
# river name, polyline (lat, lon), normal level upstream and downstream (m), gauges
_RIVERS = (
    (
        "qinghe",
        ((40.035, 116.215), (40.032, 116.36), (40.012, 116.50), (39.985, 116.59)),
        (47.0, 33.0),
        14,
    ),
    (
        "liangshui",
        ((39.845, 116.21), (39.862, 116.38), (39.842, 116.52), (39.822, 116.595)),
        (44.0, 28.0),
        12,
    ),
)
# ring road, half-width east-west and north-south (km), underpasses on it
_RINGS = (("2nd-ring", 2.8, 2.5, 6), ("3rd-ring", 5.3, 5.0, 8), ("4th-ring", 7.8, 7.5, 8))
# site, substance, area box (south, north, west, east), tank set points:
# (normal, high, high-high) pressure kPa and temperature degC
_SITES = (
    ("coldstore", "nh3", (39.86, 39.90, 116.48, 116.56), (1000, 1350, 1550), (25, 40, 50)),
    ("waterworks", "cl2", (39.96, 40.02, 116.24, 116.32), (650, 850, 1000), (25, 40, 50)),
    ("wastewater", "h2s", (39.93, 39.98, 116.52, 116.58), (150, 200, 250), (30, 60, 80)),
)


class _Builder:
    """Collects stations, numbering them per (district, kind)."""

    def __init__(self) -> None:
        self.specs: list[StationSpec] = []
        self._numbers: dict[tuple[str, Kind], int] = {}

    def add(
        self,
        kind: Kind,
        lat: float,
        lon: float,
        name: str,
        *,
        params: dict[str, float | str] | None = None,
        area: str | None = None,
        rules: tuple[str, ...] | None = None,
    ) -> StationSpec:
        district = "haidian" if lon < SPLIT_LON else "chaoyang"
        number = self._numbers.get((district, kind), 0) + 1
        self._numbers[(district, kind)] = number
        spec = StationSpec(
            id=f"{'HD' if district == 'haidian' else 'CY'}-{_CODE[kind]}-{number:03d}",
            name=name,
            kind=kind,
            district=district,
            lat=round(float(lat), 5),
            lon=round(float(lon), 5),
            interval_s=INTERVAL_S[kind],
            params=params or {},
            area=area,
            rules=rules,
        )
        self.specs.append(spec)
        return spec


def _grid(
    rng: np.random.Generator,
    box: tuple[float, float, float, float],
    cols: int,
    rows: int,
    jitter: float,
) -> list[tuple[float, float]]:
    south, north, west, east = box
    dlat, dlon = (north - south) / rows, (east - west) / cols
    points = []
    for row in range(rows):
        for col in range(cols):
            jlat, jlon = rng.uniform(-jitter, jitter, 2)
            points.append((south + (row + 0.5 + jlat) * dlat, west + (col + 0.5 + jlon) * dlon))
    return points


def _along(
    polyline: Sequence[tuple[float, float]], fractions: Sequence[float]
) -> list[tuple[float, float, float]]:
    """Points at the given fractions of a polyline's length: (lat, lon, chainage km)."""
    legs = [distance_km(*a, *b) for a, b in zip(polyline, polyline[1:], strict=False)]
    total = sum(legs)
    out = []
    for fraction in fractions:
        remaining = fraction * total
        for (a, b), leg in zip(zip(polyline, polyline[1:], strict=False), legs, strict=True):
            if remaining <= leg or b == polyline[-1]:
                share = min(remaining / leg, 1.0)
                out.append(
                    (a[0] + share * (b[0] - a[0]), a[1] + share * (b[1] - a[1]), fraction * total)
                )
                break
            remaining -= leg
    return out


def _round(value: float, digits: int = 2) -> float:
    return round(float(value), digits)


def _rain(builder: _Builder, rng: np.random.Generator) -> None:
    for n, (lat, lon) in enumerate(_grid(rng, BOX, 10, 9, 0.3)):
        row, col = divmod(n, 10)
        builder.add(
            Kind.RAIN, lat, lon, f"rain gauge {n + 1}", area=f"zone-{row // 3}-{col * 3 // 10}"
        )


def _rivers(builder: _Builder, rng: np.random.Generator) -> None:
    for river, line, (upstream, downstream), count in _RIVERS:
        fractions = np.linspace(0.03, 0.97, count)
        for (lat, lon, km), fraction in zip(_along(line, list(fractions)), fractions, strict=True):
            normal = upstream + fraction * (downstream - upstream) + rng.uniform(-0.3, 0.3)
            warning = normal + rng.uniform(1.6, 2.2)
            guaranteed = warning + rng.uniform(0.5, 0.8)
            record = guaranteed + rng.uniform(0.3, 0.5)
            params: dict[str, float | str] = {
                "river": river,
                "chainage_km": _round(km),
                "normal_level_m": _round(normal),
                "warning_level_m": _round(warning),
                "guaranteed_level_m": _round(guaranteed),
                "record_level_m": _round(record),
            }
            builder.add(
                Kind.WATER_LEVEL,
                lat,
                lon,
                f"{river} km {km:.1f}",
                params=params,
                area=f"river-{river}",
            )


def _underpasses(builder: _Builder, rng: np.random.Generator) -> None:
    for ring, half_ew, half_ns, count in _RINGS:
        perimeter = 4 * (half_ew + half_ns)
        start = rng.uniform(0, perimeter)
        for n in range(count):
            s = (start + n * perimeter / count + rng.uniform(-0.3, 0.3)) % perimeter
            east, north = _on_rectangle(s, half_ew, half_ns)
            lat, lon = offset_km(*TIANANMEN, north_km=north, east_km=east)
            builder.add(Kind.PONDING, lat, lon, f"{ring} underpass {n + 1}", area=ring)


def _on_rectangle(s: float, half_ew: float, half_ns: float) -> tuple[float, float]:
    """(east, north) km at arc length ``s`` round a rectangle, from its north-west corner."""
    for length, start, step in (
        (2 * half_ew, (-half_ew, half_ns), (1.0, 0.0)),
        (2 * half_ns, (half_ew, half_ns), (0.0, -1.0)),
        (2 * half_ew, (half_ew, -half_ns), (-1.0, 0.0)),
        (2 * half_ns, (-half_ew, -half_ns), (0.0, 1.0)),
    ):
        if s <= length:
            return start[0] + s * step[0], start[1] + s * step[1]
        s -= length
    return -half_ew, half_ns


def _pipelines(builder: _Builder, rng: np.random.Generator) -> None:
    # (name, start lat, start lon, bearing deg): two per district
    for name, lat0, lon0, bearing in (
        ("P1", 39.955, 116.225, 90.0),
        ("P2", 40.07, 116.31, 180.0),
        ("P3", 39.925, 116.43, 80.0),
        ("P4", 40.06, 116.52, 190.0),
    ):
        for n in range(12):
            along = n * 0.7 + rng.uniform(-0.1, 0.1)
            lat, lon = offset_km(
                lat0,
                lon0,
                north_km=along * math.cos(math.radians(bearing)),
                east_km=along * math.sin(math.radians(bearing)),
            )
            builder.add(
                Kind.GAS,
                lat,
                lon,
                f"pipeline {name} point {n + 1}",
                params={"pipeline": name},
                area=f"pipeline-{name}",
            )


def _chemical_sites(builder: _Builder, rng: np.random.Generator) -> None:
    for site, substance, (south, north, west, east), pressure, temp in _SITES:
        lat0, lon0 = rng.uniform(south, north), rng.uniform(west, east)
        for n in range(3):
            lat, lon = offset_km(
                lat0, lon0, north_km=rng.uniform(-0.08, 0.08), east_km=rng.uniform(-0.08, 0.08)
            )
            builder.add(
                Kind.CHEM,
                lat,
                lon,
                f"{site} {substance} detector {n + 1}",
                params={"site": site, "substance": substance},
                area=site,
                rules=(substance,),
            )
        for n in range(3):
            lat, lon = offset_km(
                lat0, lon0, north_km=rng.uniform(-0.06, 0.06), east_km=rng.uniform(-0.06, 0.06)
            )
            params: dict[str, float | str] = {
                "site": site,
                "contents": substance,
                "pressure_normal_kpa": float(pressure[0]),
                "pressure_high_kpa": float(pressure[1]),
                "pressure_highhigh_kpa": float(pressure[2]),
                "temp_normal_c": float(temp[0]),
                "temp_high_c": float(temp[1]),
                "temp_highhigh_c": float(temp[2]),
            }
            builder.add(
                Kind.CHEM,
                lat,
                lon,
                f"{site} tank {n + 1}",
                params=params,
                area=site,
                rules=("tank_pressure", "tank_temperature", "runaway"),
            )


def _seismic(builder: _Builder, rng: np.random.Generator) -> None:
    for n, (lat, lon) in enumerate(_grid(rng, SEISMIC_BOX, 5, 4, 0.2), start=1):
        builder.add(
            Kind.SEISMIC,
            lat,
            lon,
            f"strong-motion {n}",
            params={"sr_hz": 100.0, "channels": "HNZ,HNN,HNE"},
            area="network",
        )


def _with_neighbours(specs: list[StationSpec]) -> list[StationSpec]:
    """Same-kind neighbours: nearest rain gauges and seismic stations, adjacent river gauges and
    pipeline points, the other detectors of the same substance at a chemical site."""
    out = []
    for spec in specs:
        peers = [s for s in specs if s.kind is spec.kind and s.id != spec.id]
        if spec.kind in (Kind.WATER_LEVEL, Kind.GAS):
            group = "river" if spec.kind is Kind.WATER_LEVEL else "pipeline"
            peers = [s for s in peers if s.params[group] == spec.params[group]]
            count = 2
        elif spec.kind is Kind.CHEM:
            peers = [
                s
                for s in peers
                if "substance" in spec.params
                and s.params.get("substance") == spec.params["substance"]
            ]
            count = 2
        elif spec.kind in (Kind.RAIN, Kind.SEISMIC):
            count = 4 if spec.kind is Kind.RAIN else 3
        else:
            peers, count = [], 0
        peers.sort(key=lambda s: distance_km(spec.lat, spec.lon, s.lat, s.lon))
        out.append(replace(spec, neighbours=tuple(s.id for s in peers[:count])))
    return out


def build_network(seed: int = DEMO_SEED) -> list[StationSpec]:
    """Every station of the demo network, in a fixed order (kind, then layout order)."""
    rng = np.random.default_rng(seed)
    builder = _Builder()
    for part in (_rain, _rivers, _underpasses, _pipelines, _chemical_sites, _seismic):
        part(builder, rng)
    return _with_neighbours(builder.specs)


def demo_registry(seed: int = DEMO_SEED) -> Registry:
    """The network as a :class:`Registry`, without going through YAML."""
    return Registry.from_specs(build_network(seed))


def _document(specs: list[StationSpec]) -> dict[str, Any]:
    stations = []
    for spec in specs:
        entry: dict[str, Any] = {
            "id": spec.id,
            "name": spec.name,
            "kind": spec.kind.value,
            "district": spec.district,
            "lat": spec.lat,
            "lon": spec.lon,
            "interval_s": spec.interval_s,
        }
        if spec.area:
            entry["area"] = spec.area
        if spec.thresholds:
            entry["thresholds"] = {
                rule: {grade.value: value for grade, value in rungs.items()}
                for rule, rungs in spec.thresholds.items()
            }
        if spec.params:
            entry["params"] = dict(spec.params)
        if spec.neighbours:
            entry["neighbours"] = list(spec.neighbours)
        if spec.rules is not None:
            entry["rules"] = list(spec.rules)
        stations.append(entry)
    return {"stations": stations}


def write_specs(path: Path, specs: list[StationSpec], header: str) -> Path:
    """Write stations as a registry YAML that :func:`yujing.config.load_registry` reads;
    ``header`` is a comment block (each line starting with ``#``)."""
    body = yaml.safe_dump(
        _document(specs),
        sort_keys=False,
        default_flow_style=None,
        width=100,
        allow_unicode=True,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + body, encoding="utf-8")
    return path


def write_registry(path: Path, seed: int = DEMO_SEED) -> Path:
    """Write the demo network as a registry YAML."""
    header = (
        f"# Demo station registry, generated by simulators.district with seed {seed}.\n"
        "# Do not edit by hand; regenerate with:\n"
        f"#   .venv/bin/python -m simulators.cli registry configs/demo/stations.yaml"
        f" --seed {seed}\n"
    )
    return write_specs(path, build_network(seed), header)
