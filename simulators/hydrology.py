"""Water from rain: a river's stage from its basin's rain, an underpass filling faster than it
drains. Both are integrated once over the scenario on a fixed grid and then interpolated, so any
window of a run sees the same numbers.

River (:class:`Basin`)
    Basin rain ``P(t)`` (mm) is the rain field averaged over seven points of the basin circle
    (centre and six at 0.6 × radius). Losses: the first ``initial_loss_mm`` are held back
    (interception, depression storage), then a fixed ``runoff_coeff`` of the rest runs off.
    Runoff (m³/s = mm/s × area) passes a Nash cascade of ``reservoirs`` equal linear reservoirs
    with storage constant ``k_s`` (Nash 1957: the instantaneous unit hydrograph of n linear
    reservoirs is a gamma curve with mean lag n k). Discharge adds ``base_flow_m3s``. Each gauge
    sees ``share`` × Q delayed by ``lag_s`` and turns it into stage with a power rating
    ``Q = a (h - h0)^b`` whose ``h0`` is the gauge's normal level and ``a`` is set so that
    ``warning_q_m3s`` puts the river exactly at the gauge's warning level.

Underpass (:class:`Underpass`)
    Storage V (m³) of the sag: ``dV/dt = runoff_coeff × i × catchment_m2 − drainage``, with
    drainage at most ``drain_m3s`` and never more than what is stored; depth = V / ``sag_m2``.

>>> grid = np.arange(0.0, 7200.0 + 60.0, 60.0)
>>> rain = np.where(grid < 3600.0, grid / 3600.0 * 50.0, 50.0)        # 50 mm in the first hour
>>> flow = nash_cascade(runoff_m3s(rain, grid, 10.0, 0.5, 5.0), grid, 2, 1800.0)
>>> round(float(np.trapezoid(flow, grid)) / 1e6, 3)                   # Mm³ routed so far
0.174
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulators.noise import FloatArray

__all__ = ["Basin", "BasinGauge", "Underpass", "nash_cascade", "runoff_m3s", "underpass_depth_cm"]

DepthAt = Callable[[float, float, FloatArray], FloatArray]  # (lat, lon, t) → depth mm


def runoff_m3s(
    rain_mm: FloatArray, grid_s: FloatArray, area_km2: float, runoff_coeff: float, loss_mm: float
) -> FloatArray:
    """Runoff rate (m³/s) on ``grid_s`` from cumulative rain ``rain_mm`` on the same grid."""
    excess = runoff_coeff * np.maximum(rain_mm - rain_mm[0] - loss_mm, 0.0)  # mm
    rate_mm_s = np.gradient(excess, grid_s)
    result: FloatArray = np.maximum(rate_mm_s, 0.0) / 1000.0 * area_km2 * 1e6
    return result


def nash_cascade(inflow: FloatArray, grid_s: FloatArray, reservoirs: int, k_s: float) -> FloatArray:
    """Outflow of ``reservoirs`` equal linear reservoirs (S = k Q) fed by ``inflow``.

    Each step uses the exact solution for an inflow held constant over the step, so the result
    does not depend on the grid being fine compared with ``k_s``.
    """
    flow = inflow
    for _ in range(reservoirs):
        out = np.zeros_like(flow)
        for i in range(1, len(grid_s)):
            decay = math.exp(-(grid_s[i] - grid_s[i - 1]) / k_s)
            held = 0.5 * (flow[i] + flow[i - 1])
            out[i] = out[i - 1] * decay + held * (1.0 - decay)
        flow = out
    return flow


@dataclass(frozen=True, slots=True)
class BasinGauge:
    """A water-level station on the basin's river (see the module docstring)."""

    station: str
    lag_s: float = 0.0
    share: float = 1.0
    warning_q_m3s: float = 100.0
    exponent: float = 1.6


@dataclass(frozen=True, slots=True)
class Basin:
    id: str
    lat: float
    lon: float
    radius_km: float
    area_km2: float
    runoff_coeff: float
    initial_loss_mm: float
    reservoirs: int
    k_s: float
    base_flow_m3s: float
    gauges: tuple[BasinGauge, ...]

    def sample_points(self) -> list[tuple[float, float]]:
        points = [(self.lat, self.lon)]
        for i in range(6):
            angle = math.radians(60.0 * i)
            north, east = (
                0.6 * self.radius_km * math.cos(angle),
                0.6 * self.radius_km * math.sin(angle),
            )
            points.append(
                (
                    self.lat + north / 111.32,
                    self.lon + east / (111.32 * math.cos(math.radians(self.lat))),
                )
            )
        return points

    def discharge_m3s(self, depth_at: DepthAt, grid_s: FloatArray) -> FloatArray:
        """Outlet discharge on ``grid_s`` (which must start before any rain falls)."""
        rain = np.mean([depth_at(lat, lon, grid_s) for lat, lon in self.sample_points()], axis=0)
        inflow = runoff_m3s(rain, grid_s, self.area_km2, self.runoff_coeff, self.initial_loss_mm)
        result: FloatArray = self.base_flow_m3s + nash_cascade(
            inflow, grid_s, self.reservoirs, self.k_s
        )
        return result

    @staticmethod
    def stage_m(
        gauge: BasinGauge, discharge_m3s: FloatArray, normal_m: float, warning_m: float
    ) -> FloatArray:
        """Stage from the power rating through (normal level, 0) and (warning, warning Q)."""
        rise_at_warning = max(warning_m - normal_m, 1e-3)
        a = gauge.warning_q_m3s / rise_at_warning**gauge.exponent
        flow = np.maximum(gauge.share * discharge_m3s, 0.0)
        result: FloatArray = normal_m + (flow / a) ** (1.0 / gauge.exponent)
        return result


@dataclass(frozen=True, slots=True)
class Underpass:
    station: str
    catchment_m2: float
    runoff_coeff: float
    drain_m3s: float
    sag_m2: float


def underpass_depth_cm(
    underpass: Underpass, rain_mm: FloatArray, grid_s: FloatArray, max_cm: float = 300.0
) -> FloatArray:
    """Water depth (cm) in the sag on ``grid_s`` from cumulative rain at the underpass."""
    inflow_m3 = underpass.runoff_coeff * np.diff(rain_mm, prepend=rain_mm[0]) / 1000.0
    inflow_m3 = inflow_m3 * underpass.catchment_m2
    dt = np.diff(grid_s, prepend=grid_s[0])
    volume = 0.0
    out = np.zeros_like(grid_s)
    for i in range(len(grid_s)):
        volume = max(0.0, volume + inflow_m3[i] - underpass.drain_m3s * dt[i])
        out[i] = min(max_cm, volume / underpass.sag_m2 * 100.0)
    return out
