"""Rain over a network: design storms, moving cells and fields shaped on real gauges.

Every part answers one question, :meth:`depth_mm` (rain fallen at a point from its start up to
each scenario time), so a gauge's tips, a basin's rain and an underpass's inflow all come from
the same numbers.

- :class:`IdfCurve` — an intensity–duration–frequency curve of the form used by Chinese storm
  intensity formulas (GB 50014): ``i(t, P) = A (1 + C lg P) / (t + b)^n`` in mm/min, ``t`` in
  minutes, ``P`` the return period in years.
- :func:`chicago_hyetograph` — Keifer & Chu (1957) "Chicago" design storm from an IDF curve: the
  average intensity over any duration centred on the peak equals the IDF intensity of that
  duration. With ``a = A (1 + C lg P)`` and peak ratio ``r``, the depth fallen in the ``τ``
  minutes before the peak is ``a τ / (τ/r + b)^n`` and after it ``a τ / (τ/(1-r) + b)^n``; the
  curve is sampled at 1 min into :class:`~simulators.models.Keyframes` of intensity.
- :class:`MovingCell` — a Gaussian cell whose centre moves at a constant velocity; its depth is
  integrated numerically (trapezoid on a 30 s grid) per point, once, then interpolated.
- :class:`GaugeField` — hourly totals of real gauges spread over the network by inverse-distance
  weighting (the 2016-07-20 Beijing storm scenario): exact, since each hour's rain is uniform.

>>> idf = IdfCurve(a_mm_min=12.0, c=0.811, b_min=8.0, n=0.711)
>>> round(idf.intensity_mm_min(60.0, 100.0) * 60, 1)      # mean intensity of the 1 h storm
94.0
>>> k = chicago_hyetograph(idf, 100.0, duration_min=120, peak_ratio=0.4, start_s=0.0)
>>> round(float(k.integral([7200.0])[0]) / 3600, 1)        # ≈ the 2 h IDF depth
119.9
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from simulators.geo import KM_PER_DEG_LAT, distance_km
from simulators.models import Keyframes, RainCell
from simulators.noise import FloatArray

__all__ = [
    "GaugeField",
    "GaugeSite",
    "IdfCurve",
    "MovingCell",
    "RainPart",
    "chicago_hyetograph",
    "field_depth_mm",
]

MOVING_STEP_S = 30.0


@dataclass(frozen=True, slots=True)
class IdfCurve:
    """``i = a_mm_min (1 + c lg P) / (t_min + b_min)^n`` (mm/min); see the module docstring."""

    a_mm_min: float
    c: float
    b_min: float
    n: float

    def scale(self, return_period_years: float) -> float:
        """``a`` of the Chicago formulas: A (1 + C lg P), mm/min·min^n."""
        return self.a_mm_min * (1.0 + self.c * math.log10(return_period_years))

    def intensity_mm_min(self, duration_min: float, return_period_years: float) -> float:
        """Mean intensity of the storm of ``duration_min`` minutes and the given return period."""
        return float(self.scale(return_period_years) / (duration_min + self.b_min) ** self.n)


def chicago_hyetograph(
    idf: IdfCurve,
    return_period_years: float,
    *,
    duration_min: float,
    peak_ratio: float,
    start_s: float,
    step_min: float = 1.0,
) -> Keyframes:
    """Intensity keyframes (mm/h) of a Chicago design storm starting at ``start_s``.

    Each keyframe segment holds the exact mean intensity of its minute (from the closed-form
    cumulative depth), placed as a step, so the hyetograph's depths match the IDF curve.
    """
    if not 0.0 < peak_ratio < 1.0:
        raise ValueError(f"peak_ratio {peak_ratio} must be inside (0, 1)")
    a = idf.scale(return_period_years)
    b, n = idf.b_min, idf.n
    peak = peak_ratio * duration_min

    def cumulative(t_min: float) -> float:
        """Depth (mm) from the storm's start to ``t_min`` minutes after it."""
        before = a * peak / (peak / peak_ratio + b) ** n  # whole pre-peak limb
        if t_min <= peak:
            tau = peak - t_min
            return float(before - a * tau / (tau / peak_ratio + b) ** n)
        tau = t_min - peak
        return float(before + a * tau / (tau / (1.0 - peak_ratio) + b) ** n)

    edges = np.arange(0.0, duration_min + step_min / 2, step_min)
    depths = np.array([cumulative(float(t)) for t in edges])
    mean_mm_h = np.diff(depths) / step_min * 60.0
    times: list[float] = []
    values: list[float] = []
    for i, value in enumerate(mean_mm_h):
        t0 = start_s + edges[i] * 60.0
        t1 = start_s + edges[i + 1] * 60.0
        # a step: value on [t0, t1); 1 ms ramps keep Keyframes strictly increasing
        times.extend((t0 + (1e-3 if i else 0.0), t1))
        values.extend((float(value), float(value)))
    times = [start_s - 1e-3, *times, times[-1] + 1e-3]
    values = [0.0, *values, 0.0]
    return Keyframes(tuple(times), tuple(values))


@dataclass(frozen=True, slots=True)
class MovingCell:
    """A Gaussian cell centred at (lat, lon) when its intensity starts (first keyframe), then
    moving at ``east_kmh``/``north_kmh``. Intensity (mm/h at the centre) is zero outside its
    keyframes' span."""

    lat: float
    lon: float
    sigma_km: float
    intensity_mm_h: Keyframes
    east_kmh: float
    north_kmh: float
    _cache: dict[tuple[float, float], tuple[FloatArray, FloatArray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def centre(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        hours = (t_s - self.intensity_mm_h.start_s) / 3600.0
        lat = self.lat + self.north_kmh * hours / KM_PER_DEG_LAT
        lon = self.lon + self.east_kmh * hours / (KM_PER_DEG_LAT * math.cos(math.radians(self.lat)))
        return lat, lon

    def _cumulative(self, lat: float, lon: float) -> tuple[FloatArray, FloatArray]:
        key = (lat, lon)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        first, last = self.intensity_mm_h.start_s, self.intensity_mm_h.end_s
        steps = max(1, math.ceil((last - first) / MOVING_STEP_S))
        grid: FloatArray = np.linspace(first, last, steps + 1)
        c_lat, c_lon = self.centre(grid)
        north = (lat - c_lat) * KM_PER_DEG_LAT
        east = (lon - c_lon) * KM_PER_DEG_LAT * math.cos(math.radians(lat))
        weight = np.exp(-(north**2 + east**2) / (2.0 * self.sigma_km**2))
        rate = self.intensity_mm_h.at(grid) * weight / 3600.0  # mm/s
        depth = np.concatenate(([0.0], np.cumsum((rate[1:] + rate[:-1]) / 2 * np.diff(grid))))
        self._cache[key] = (grid, depth)
        return grid, depth

    def depth_mm(self, lat: float, lon: float, t_s: npt.ArrayLike) -> FloatArray:
        grid, depth = self._cumulative(lat, lon)
        result: FloatArray = np.interp(np.asarray(t_s, dtype=np.float64), grid, depth)
        return result


@dataclass(frozen=True, slots=True)
class GaugeSite:
    """A real gauge: name, position and cumulative depth keyframes (mm) on scenario time."""

    name: str
    lat: float
    lon: float
    cumulative_mm: Keyframes


@dataclass(frozen=True, slots=True)
class GaugeField:
    """Rain at any point = Σ w_i × depth of site i, w ∝ 1/d^power (normalised; a point within
    50 m of a site takes that site's rain), times ``scale``."""

    id: str
    sites: tuple[GaugeSite, ...]
    power: float = 2.0
    scale: float = 1.0

    @staticmethod
    def from_totals(
        id: str,
        sites: Sequence[tuple[str, float, float, Sequence[float]]],
        *,
        start_s: float,
        step_s: float,
        power: float = 2.0,
        scale: float = 1.0,
    ) -> GaugeField:
        """Sites as (name, lat, lon, totals); total k falls evenly over
        ``[start_s + k step_s, start_s + (k+1) step_s)``."""
        built = []
        for name, lat, lon, totals in sites:
            times = tuple(start_s + k * step_s for k in range(len(totals) + 1))
            cumulative = tuple(float(x) for x in np.concatenate(([0.0], np.cumsum(totals))))
            built.append(GaugeSite(name, lat, lon, Keyframes(times, cumulative)))
        return GaugeField(id, tuple(built), power, scale)

    def weights(self, lat: float, lon: float) -> FloatArray:
        distances = np.array([distance_km(s.lat, s.lon, lat, lon) for s in self.sites])
        close = distances < 0.05
        if close.any():
            result: FloatArray = close / close.sum()
            return result
        raw = 1.0 / distances**self.power
        normalised: FloatArray = raw / raw.sum()
        return normalised

    def depth_mm(self, lat: float, lon: float, t_s: npt.ArrayLike) -> FloatArray:
        t = np.asarray(t_s, dtype=np.float64)
        total = np.zeros(t.shape)
        for weight, site in zip(self.weights(lat, lon), self.sites, strict=True):
            if weight > 0:
                total = total + weight * site.cumulative_mm.at(t)
        result: FloatArray = self.scale * total
        return result


RainPart = RainCell | MovingCell | GaugeField


def field_depth_mm(
    parts: Sequence[RainPart], lat: float, lon: float, t_s: FloatArray
) -> FloatArray:
    """Depth (mm) fallen at (lat, lon) up to each time, from every part."""
    total = np.zeros(t_s.shape)
    for part in parts:
        total = total + part.depth_mm(lat, lon, t_s)
    return total


def sites_depth_mm(
    parts: Sequence[RainPart],
    sites: Sequence[tuple[float, float]],
    counts: Sequence[int],
    t_s: FloatArray,
) -> FloatArray:
    """:func:`field_depth_mm` of many sites at once: site ``i`` (lat, lon) at the next
    ``counts[i]`` times of ``t_s``. The same numbers, element by element (every operation is
    elementwise), in far fewer numpy calls: a stationary cell's depths are one product over all
    sites; the other parts are still asked site by site."""
    total = np.zeros(t_s.shape)
    ends = np.cumsum(counts)
    for part in parts:
        if isinstance(part, RainCell):
            weights = np.repeat([part.weight(lat, lon) for lat, lon in sites], counts)
            depth = weights * part.intensity_mm_h.integral(t_s) / 3600.0
        else:
            depth = np.concatenate([
                part.depth_mm(lat, lon, t_s[end - count : end])
                for (lat, lon), count, end in zip(sites, counts, ends.tolist(), strict=True)
            ])  # fmt: skip
        total = total + depth
    return total
