"""Generated station networks for scenarios that need more than the demo district: a dense rain
gauge network over a box (the 24 h storm benchmark uses 1,600 gauges), named by the nearest
district seat, merged with a hand-written registry (river gauges, underpasses, a chemical park).

Gauges sit on a jittered grid (seeded), report every ``interval_s`` and list their four nearest
gauges as neighbours. Ids are ``RN-0001``, ``RN-0002``, … in grid order (south to north, west to
east); ``area`` is the district's rain area (``<district>-rain``).

>>> specs = rain_network(RainGrid(count=12, south=39.8, north=40.0, west=116.2, east=116.5),
...                      BEIJING_SEATS, seed=3)
>>> len(specs), specs[0].id, specs[0].kind.value, len(specs[0].neighbours)
(12, 'RN-0001', 'rain', 4)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial import cKDTree

from simulators.geo import KM_PER_DEG_LAT
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import ConfigError, Kind

__all__ = ["BEIJING_SEATS", "DistrictSeat", "RainGrid", "merge_registries", "rain_network"]


@dataclass(frozen=True, slots=True)
class DistrictSeat:
    name: str
    lat: float
    lon: float


# Approximate seats of Beijing's 16 districts (government offices, ±1 km), for naming gauges.
BEIJING_SEATS: tuple[DistrictSeat, ...] = (
    DistrictSeat("dongcheng", 39.928, 116.416),
    DistrictSeat("xicheng", 39.912, 116.366),
    DistrictSeat("chaoyang", 39.921, 116.443),
    DistrictSeat("haidian", 39.960, 116.298),
    DistrictSeat("fengtai", 39.858, 116.287),
    DistrictSeat("shijingshan", 39.906, 116.223),
    DistrictSeat("mentougou", 39.940, 116.102),
    DistrictSeat("fangshan", 39.748, 116.143),
    DistrictSeat("tongzhou", 39.910, 116.657),
    DistrictSeat("shunyi", 40.130, 116.654),
    DistrictSeat("changping", 40.221, 116.231),
    DistrictSeat("daxing", 39.727, 116.341),
    DistrictSeat("huairou", 40.316, 116.632),
    DistrictSeat("pinggu", 40.141, 117.121),
    DistrictSeat("miyun", 40.377, 116.843),
    DistrictSeat("yanqing", 40.457, 115.975),
)


@dataclass(frozen=True, slots=True)
class RainGrid:
    count: int
    south: float
    north: float
    west: float
    east: float
    interval_s: float = 60.0
    jitter: float = 0.35  # share of a cell the gauge may sit off its centre


def _km_xy(lat: np.ndarray, lon: np.ndarray, lat0: float) -> np.ndarray:
    return np.column_stack(
        (lat * KM_PER_DEG_LAT, lon * KM_PER_DEG_LAT * math.cos(math.radians(lat0)))
    )


def rain_network(grid: RainGrid, seats: Sequence[DistrictSeat], seed: int) -> list[StationSpec]:
    """``grid.count`` rain gauges over the box (see the module docstring)."""
    if grid.count < 1:
        raise ConfigError(f"network.generate.rain.count: {grid.count} must be at least 1")
    if not seats:
        raise ConfigError("network.generate.districts: give at least one district seat")
    rng = np.random.default_rng(seed)
    aspect = (
        (grid.east - grid.west)
        * math.cos(math.radians((grid.south + grid.north) / 2))
        / (grid.north - grid.south)
    )
    cols = max(1, round(math.sqrt(grid.count * aspect)))
    rows = math.ceil(grid.count / cols)
    dlat, dlon = (grid.north - grid.south) / rows, (grid.east - grid.west) / cols
    points = []
    for n in range(grid.count):
        row, col = divmod(n, cols)
        jlat, jlon = rng.uniform(-grid.jitter, grid.jitter, 2)
        points.append(
            (grid.south + (row + 0.5 + jlat) * dlat, grid.west + (col + 0.5 + jlon) * dlon)
        )
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    lat0 = float(lat.mean())
    xy = _km_xy(lat, lon, lat0)
    seat_xy = _km_xy(np.array([s.lat for s in seats]), np.array([s.lon for s in seats]), lat0)
    _, nearest_seat = cKDTree(seat_xy).query(xy)
    count = min(5, grid.count)
    _, near = cKDTree(xy).query(xy, k=count)
    near = np.asarray(near).reshape(grid.count, count)
    specs = []
    for n in range(grid.count):
        district = seats[int(nearest_seat[n])].name
        specs.append(
            StationSpec(
                id=f"RN-{n + 1:04d}",
                name=f"rain gauge {n + 1}",
                kind=Kind.RAIN,
                district=district,
                lat=round(float(lat[n]), 5),
                lon=round(float(lon[n]), 5),
                interval_s=grid.interval_s,
                area=f"{district}-rain",
                neighbours=tuple(f"RN-{int(m) + 1:04d}" for m in near[n] if int(m) != n)[:4],
            )
        )
    return specs


def merge_registries(*parts: Sequence[StationSpec], source: str = "scenario") -> Registry:
    """One registry from several station lists; a repeated id is a ConfigError."""
    seen: dict[str, StationSpec] = {}
    for part in parts:
        for spec in part:
            if spec.id in seen:
                raise ConfigError(f"{source}: station id {spec.id!r} is given twice")
            seen[spec.id] = spec
    known = set(seen)
    cleaned = [
        replace(s, neighbours=tuple(n for n in s.neighbours if n in known)) for s in seen.values()
    ]
    return Registry.from_specs(cleaned)
