"""Flat-earth geometry for a city-sized network (tens of km): good to a few metres here.

>>> round(distance_km(39.9, 116.4, 39.9, 116.5), 2)
8.54
>>> lat, lon = offset_km(39.9, 116.4, north_km=1.0, east_km=0.0)
>>> round(distance_km(39.9, 116.4, lat, lon), 3)
1.0
"""

from __future__ import annotations

import math

__all__ = ["KM_PER_DEG_LAT", "distance_km", "offset_km"]

KM_PER_DEG_LAT = 111.32


def _km_per_deg_lon(lat: float) -> float:
    return KM_PER_DEG_LAT * math.cos(math.radians(lat))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance between two points, in km."""
    mid = (lat1 + lat2) / 2.0
    north = (lat2 - lat1) * KM_PER_DEG_LAT
    east = (lon2 - lon1) * _km_per_deg_lon(mid)
    return math.hypot(north, east)


def offset_km(lat: float, lon: float, *, north_km: float, east_km: float) -> tuple[float, float]:
    """The point ``north_km`` north and ``east_km`` east of (lat, lon)."""
    new_lat = lat + north_km / KM_PER_DEG_LAT
    return new_lat, lon + east_km / _km_per_deg_lon((lat + new_lat) / 2.0)
