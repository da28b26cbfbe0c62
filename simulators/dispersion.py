"""Gas from a leak to the sensors around it.

A :class:`Leak` releases ``rate_g_s`` (keyframes: onset, growth, end) at (lat, lon), height
``height_m``. Two paths reach sensors:

Open air — Gaussian plume
    Steady plume for the wind at each instant (speed ``u`` m/s, blowing *from* ``from_deg``),
    with ground reflection, receptor at ``sensor_height_m``::

        C = Q / (2π u σy σz) · exp(-y²/2σy²) · [exp(-(z-H)²/2σz²) + exp(-(z+H)²/2σz²)]

    σy, σz from the Briggs (1973) urban curves for the Pasquill class given (``A``..``F``), as
    tabulated by Hanna, Briggs & Hosker, *Handbook on Atmospheric Diffusion* (1982). A sensor
    sees the release rate of ``x / u`` seconds earlier (transport delay). Upwind sensors (x ≤ 1 m)
    see nothing.

Enclosure — well-mixed box
    The sensor in the chamber where the gas escapes (a valve pit, a compressor house) sees
    ``dc/dt = Q/V − (ach/3600) c``: rising with the leak, decaying with ventilation.

Units: concentration in mg/m³ → ppm = mg/m³ × 24.45 / M (25 °C, 101.3 kPa); methane %LEL =
ppm / 500 (LEL 5 % vol). The quantity the sensors report decides which (``ch4_pct_lel`` or
``*_ppm``).

>>> round(float(plume_mg_m3(10.0, 2.0, 100.0, 0.0, 0.5, 1.5, "D")), 2)  # 10 g/s, 2 m/s, 100 m
7.31
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from simulators.geo import KM_PER_DEG_LAT
from simulators.models import Keyframes
from simulators.noise import FloatArray

__all__ = ["MOLAR_MASS", "Enclosure", "Leak", "briggs_urban", "plume_mg_m3", "to_quantity"]

MOLAR_MASS: Mapping[str, float] = MappingProxyType(
    {"ch4_pct_lel": 16.04, "nh3_ppm": 17.03, "cl2_ppm": 70.90, "h2s_ppm": 34.08}
)
_MOLAR_VOLUME_L = 24.45
_PPM_PER_PCT_LEL_CH4 = 500.0
# Briggs urban: σy = a x (1 + b x)^-1/2 ; σz by class (x in m)
_URBAN_Y = {"A": 0.32, "B": 0.32, "C": 0.22, "D": 0.16, "E": 0.11, "F": 0.11}


def briggs_urban(x_m: npt.ArrayLike, stability: str) -> tuple[FloatArray, FloatArray]:
    """(σy, σz) in m at downwind distance ``x_m`` for Pasquill class ``stability``."""
    x = np.maximum(np.asarray(x_m, dtype=np.float64), 1.0)
    sigma_y = _URBAN_Y[stability] * x / np.sqrt(1.0 + 0.0004 * x)
    if stability in ("A", "B"):
        sigma_z = 0.24 * x * np.sqrt(1.0 + 0.001 * x)
    elif stability == "C":
        sigma_z = 0.20 * x
    elif stability == "D":
        sigma_z = 0.14 * x / np.sqrt(1.0 + 0.0003 * x)
    else:
        sigma_z = 0.08 * x / np.sqrt(1.0 + 0.0015 * x)
    return sigma_y, sigma_z


def plume_mg_m3(
    rate_g_s: npt.ArrayLike,
    wind_m_s: float,
    x_m: float,
    y_m: float,
    z_m: float,
    height_m: float,
    stability: str,
) -> FloatArray:
    """Ground-reflected Gaussian plume concentration (mg/m³); zero upwind."""
    rate = np.asarray(rate_g_s, dtype=np.float64)
    if x_m <= 1.0:
        return np.zeros(rate.shape)
    sigma_y, sigma_z = briggs_urban(x_m, stability)
    u = max(wind_m_s, 0.5)
    lateral = math.exp(-(y_m**2) / (2 * float(sigma_y) ** 2))
    vertical = math.exp(-((z_m - height_m) ** 2) / (2 * float(sigma_z) ** 2)) + math.exp(
        -((z_m + height_m) ** 2) / (2 * float(sigma_z) ** 2)
    )
    factor = lateral * vertical / (2 * math.pi * u * float(sigma_y) * float(sigma_z))
    result: FloatArray = rate * 1000.0 * factor
    return result


def to_quantity(mg_m3: FloatArray, quantity: str) -> FloatArray:
    """mg/m³ → the sensor's quantity (ppm, or %LEL for methane)."""
    ppm = mg_m3 * _MOLAR_VOLUME_L / MOLAR_MASS[quantity]
    if quantity == "ch4_pct_lel":
        result: FloatArray = ppm / _PPM_PER_PCT_LEL_CH4
        return result
    return ppm


@dataclass(frozen=True, slots=True)
class Enclosure:
    station: str
    volume_m3: float
    air_changes_h: float


@dataclass(frozen=True, slots=True)
class Leak:
    id: str
    quantity: str
    lat: float
    lon: float
    height_m: float
    rate_g_s: Keyframes
    wind_m_s: float
    wind_from_deg: float
    stability: str
    sensor_height_m: float
    enclosure: Enclosure | None
    stations: tuple[str, ...]  # stations reached through the open air

    def offsets_m(self, lat: float, lon: float) -> tuple[float, float]:
        """(downwind x, crosswind y) of a point, in m."""
        north = (lat - self.lat) * KM_PER_DEG_LAT * 1000.0
        east = (lon - self.lon) * KM_PER_DEG_LAT * math.cos(math.radians(self.lat)) * 1000.0
        towards = math.radians((self.wind_from_deg + 180.0) % 360.0)  # direction the wind blows
        ux, uy = math.sin(towards), math.cos(towards)  # east, north components
        return east * ux + north * uy, -east * uy + north * ux

    def open_air(self, lat: float, lon: float, t_s: FloatArray) -> FloatArray:
        """The sensor's quantity at (lat, lon) from the plume (transport delay included)."""
        x, y = self.offsets_m(lat, lon)
        delay = max(x, 0.0) / max(self.wind_m_s, 0.5)
        rate = np.maximum(self.rate_g_s.at(t_s - delay), 0.0)
        mg = plume_mg_m3(
            rate, self.wind_m_s, x, y, self.sensor_height_m, self.height_m, self.stability
        )
        return to_quantity(mg, self.quantity)

    def enclosed(self, grid_s: FloatArray) -> FloatArray:
        """The enclosure sensor's quantity on ``grid_s`` (exact per step for a held rate)."""
        assert self.enclosure is not None
        box = self.enclosure
        rate = np.maximum(self.rate_g_s.at(grid_s), 0.0) * 1000.0  # mg/s
        k = box.air_changes_h / 3600.0
        out = np.zeros_like(grid_s)
        for i in range(1, len(grid_s)):
            decay = math.exp(-k * (grid_s[i] - grid_s[i - 1]))
            steady = 0.5 * (rate[i] + rate[i - 1]) / (k * box.volume_m3)
            out[i] = out[i - 1] * decay + steady * (1.0 - decay)
        return to_quantity(out, self.quantity)
