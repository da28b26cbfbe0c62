"""A chemical tank running away: cooling fails, the contents heat themselves, temperature and
pressure rise together until the relief valve lifts.

Model (per tank, integrated on a 1 s grid from the scenario start; T in kelvin):

- before ``onset_s`` the tank sits at its normal temperature ``T_n`` and pressure ``P_n``
  (station params ``temp_normal_c``, ``pressure_normal_kpa``);
- after it, self-heating follows Arrhenius, ``r(T) = heat_rate_k_min/60 ·
  exp(activation_k (1/T_n − 1/T))`` K/s (``activation_k`` = E/R), against the cooling that is
  left, ``cooling_per_s · (T − T_n)``;
- pressure is the contents' vapour pressure by Clausius–Clapeyron,
  ``P = P_n exp(vapour_k (1/T_n − 1/T))`` (``vapour_k`` = ΔH_vap/R);
- at ``relief_kpa`` the relief valve lifts: pressure holds there and venting (latent heat)
  holds the temperature (a *tempered* system), which is what :attr:`Runaway.relief_s` reports.

Defaults are round numbers for a liquefied-ammonia receiver (ΔH_vap/R ≈ 2800 K); they make a
plausible 10–20 minute runaway, not a calibrated reactor model.

>>> r = Runaway("r", "T1", onset_s=0.0, heat_rate_k_min=1.0, activation_k=6000.0,
...             cooling_per_s=0.0, vapour_k=2800.0, relief_kpa=1550.0)
>>> temp, pressure = r.series(np.arange(0.0, 1801.0), 25.0, 1000.0)
>>> round(float(temp[600]), 1), round(float(pressure[600]))
(39.6, 1550)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulators.noise import FloatArray

__all__ = ["Runaway"]

KELVIN = 273.15
MAX_RISE_K = 400.0


@dataclass(frozen=True, slots=True)
class Runaway:
    id: str
    station: str
    onset_s: float
    heat_rate_k_min: float
    activation_k: float
    cooling_per_s: float
    vapour_k: float
    relief_kpa: float

    def series(
        self, grid_s: FloatArray, temp_normal_c: float, pressure_normal_kpa: float
    ) -> tuple[FloatArray, FloatArray]:
        """(temperature °C, pressure kPa) on ``grid_s`` (ascending)."""
        t_normal = temp_normal_c + KELVIN
        temp = np.full(grid_s.shape, t_normal)
        pressure = np.full(grid_s.shape, pressure_normal_kpa)
        current = t_normal
        relieved = False
        for i in range(1, len(grid_s)):
            dt = grid_s[i] - grid_s[i - 1]
            if grid_s[i] > self.onset_s and not relieved:
                heating = (
                    self.heat_rate_k_min
                    / 60.0
                    * math.exp(self.activation_k * (1.0 / t_normal - 1.0 / current))
                )
                cooling = self.cooling_per_s * (current - t_normal)
                current = min(current + dt * (heating - cooling), t_normal + MAX_RISE_K)
                current = max(current, t_normal)
            p = pressure_normal_kpa * math.exp(self.vapour_k * (1.0 / t_normal - 1.0 / current))
            if p >= self.relief_kpa:
                relieved = True
            temp[i] = current
            pressure[i] = min(p, self.relief_kpa)
        return temp - KELVIN, pressure

    def relief_s(
        self, grid_s: FloatArray, temp_normal_c: float, pressure_normal_kpa: float
    ) -> float | None:
        """Scenario time the relief valve lifts, or None."""
        _, pressure = self.series(grid_s, temp_normal_c, pressure_normal_kpa)
        hit = np.flatnonzero(pressure >= self.relief_kpa)
        return float(grid_s[hit[0]]) if hit.size else None
