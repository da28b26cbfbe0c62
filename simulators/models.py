"""Hazard models: what each sensor would read without noise, as functions of scenario time.

Scenario time ``t_s`` is seconds after the scenario start (negative before it). Every model is a
pure function of time and station geometry, so any window can be computed on its own.

- :class:`Keyframes`: a piecewise-linear curve, with its exact integral (for rain depth).
- :class:`RainCell`: a stationary Gaussian rain cell; depth at a gauge = weight × ∫intensity.
- :class:`RiverRise`: a flood wave whose stage is given relative to each gauge's warning level,
  delayed and lowered downstream.
- :class:`Profile`: an increment added to one quantity at a few stations (a leak, a release,
  an underpass filling, a tank upset), scaled and delayed per station.
- :class:`Earthquake`: P and S arrivals from hypocentral distance (vp 6.0, vs 3.5 km/s) and
  synthetic three-component accelerograms whose horizontal peak follows :meth:`Earthquake.pga_ms2`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from simulators.geo import distance_km
from simulators.noise import FloatArray, uniform
from yujing.contracts import Hazard

__all__ = [
    "Earthquake",
    "Keyframes",
    "Profile",
    "ProfileStation",
    "RainCell",
    "Reach",
    "RiverRise",
]


@dataclass(frozen=True, slots=True)
class Keyframes:
    """A piecewise-linear curve through (``times_s[i]``, ``values[i]``), flat outside.

    >>> k = Keyframes((0.0, 3600.0), (0.0, 60.0))
    >>> k.at(np.array([1800.0])).tolist()
    [30.0]
    >>> k.integral(np.array([3600.0])).tolist()  # value-seconds from the first keyframe
    [108000.0]
    """

    times_s: tuple[float, ...]
    values: tuple[float, ...]
    # (times, values, integral at each knot, slope after each knot), made once: a design storm
    # has hundreds of keyframes and every gauge integrates it for every window
    _knots: tuple[FloatArray, FloatArray, FloatArray, FloatArray] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if len(self.times_s) != len(self.values) or not self.times_s:
            raise ValueError("keyframes need as many values as times, at least one")
        if any(b <= a for a, b in zip(self.times_s, self.times_s[1:], strict=False)):
            raise ValueError(f"keyframe times must increase: {self.times_s}")
        times = np.asarray(self.times_s, dtype=np.float64)
        values = np.asarray(self.values, dtype=np.float64)
        widths = np.diff(times)
        at_knots = np.concatenate(([0.0], np.cumsum(widths * (values[:-1] + values[1:]) / 2)))
        slopes = np.concatenate((np.diff(values) / widths, [0.0]))
        object.__setattr__(self, "_knots", (times, values, at_knots, slopes))

    def at(self, t_s: npt.ArrayLike) -> FloatArray:
        """The curve at the given times."""
        return np.interp(np.asarray(t_s, dtype=np.float64), self.times_s, self.values)

    def integral(self, t_s: npt.ArrayLike) -> FloatArray:
        """∫ curve dt from the first keyframe to each time (negative before it)."""
        times, values, at_knots, slopes = self._knots
        t = np.asarray(t_s, dtype=np.float64)
        index = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
        dt = t - times[index]
        inside = at_knots[index] + values[index] * dt + 0.5 * slopes[index] * dt**2
        result: FloatArray = np.where(t < times[0], values[0] * (t - times[0]), inside)
        return result

    @property
    def start_s(self) -> float:
        return self.times_s[0]

    @property
    def end_s(self) -> float:
        return self.times_s[-1]


@dataclass(frozen=True, slots=True)
class RainCell:
    """A stationary rain cell: intensity (mm/h) at the centre × exp(-d²/2σ²) at distance d."""

    lat: float
    lon: float
    sigma_km: float
    intensity_mm_h: Keyframes

    def weight(self, lat: float, lon: float) -> float:
        """Share of the centre intensity that falls at (lat, lon)."""
        d = distance_km(self.lat, self.lon, lat, lon)
        return math.exp(-(d * d) / (2.0 * self.sigma_km**2))

    def depth_mm(self, lat: float, lon: float, t_s: npt.ArrayLike) -> FloatArray:
        """Rain depth (mm) fallen at (lat, lon) from the cell's first keyframe to ``t_s``."""
        return self.weight(lat, lon) * self.intensity_mm_h.integral(t_s) / 3600.0


@dataclass(frozen=True, slots=True)
class Reach:
    """How a flood wave shows at one gauge: ``lag_s`` later, ``drop_m`` lower."""

    station: str
    lag_s: float
    drop_m: float


@dataclass(frozen=True, slots=True)
class RiverRise:
    """Flood wave: stage relative to each gauge's warning level (m), never below normal level."""

    id: str
    stage_above_warning_m: Keyframes
    reaches: tuple[Reach, ...]

    def level_m(
        self, reach: Reach, warning_m: float, normal_m: float, t_s: npt.ArrayLike
    ) -> FloatArray:
        stage = self.stage_above_warning_m.at(np.asarray(t_s, dtype=np.float64) - reach.lag_s)
        return np.maximum(normal_m, warning_m + stage - reach.drop_m)


@dataclass(frozen=True, slots=True)
class ProfileStation:
    """One station a :class:`Profile` reaches: the increment × ``factor``, ``delay_s`` later."""

    station: str
    factor: float = 1.0
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Profile:
    """An increment to ``quantity`` on top of the background, at a few stations."""

    id: str
    hazard: Hazard
    quantity: str
    added: Keyframes
    stations: tuple[ProfileStation, ...]

    def added_at(self, where: ProfileStation, t_s: npt.ArrayLike) -> FloatArray:
        shifted = np.asarray(t_s, dtype=np.float64) - where.delay_s
        return where.factor * self.added.at(shifted)


@dataclass(frozen=True, slots=True)
class Earthquake:
    """A point source at ``origin_s`` (scenario s), ``depth_km`` below (lat, lon).

    Peak horizontal ground acceleration (m/s²) at hypocentral distance R (km) follows a project
    model shaped like common ground-motion equations (magnitude scaling, geometric spreading,
    near-source saturation)::

        lg PGA = -0.25 + 0.5 M - 1.8 lg(R + 10)

    calibrated so that an M5.8 at 10 km depth gives ~2 m/s² at the epicentre (intensity VII+ by
    GB/T 17742), ~1 m/s² at 20 km and ~0.4 m/s² at 40 km. It is not a published GMPE.

    >>> q = Earthquake("q", 0.0, 39.9, 116.3, 10.0, 5.8)
    >>> [round(q.pga_ms2(r), 2) for r in (10.0, 20.0, 40.0)]
    [2.03, 0.98, 0.39]
    """

    id: str
    origin_s: float
    lat: float
    lon: float
    depth_km: float
    magnitude: float
    vp_km_s: float = 6.0
    vs_km_s: float = 3.5

    def hypocentral_km(self, lat: float, lon: float) -> float:
        return math.hypot(distance_km(self.lat, self.lon, lat, lon), self.depth_km)

    def p_arrival_s(self, hypocentral_km: float) -> float:
        return self.origin_s + hypocentral_km / self.vp_km_s

    def s_arrival_s(self, hypocentral_km: float) -> float:
        return self.origin_s + hypocentral_km / self.vs_km_s

    def pga_ms2(self, hypocentral_km: float) -> float:
        lg_pga = -0.25 + 0.5 * self.magnitude - 1.8 * math.log10(hypocentral_km + 10.0)
        return float(10.0**lg_pga)

    def shaking_window_s(self, hypocentral_km: float) -> tuple[float, float]:
        """Scenario times outside which the accelerograms are zero."""
        return self.p_arrival_s(hypocentral_km), self.s_arrival_s(hypocentral_km) + 12.0 * (
            _s_rise_s(hypocentral_km)
        ) + 6.0

    def accelerograms(self, hypocentral_km: float, t_s: FloatArray, key: int) -> FloatArray:
        """(3, n) accelerations in m/s² (HNZ, HNN, HNE) at scenario times ``t_s``, noise-free.

        P train: 6-12 Hz, mostly vertical (0.3 × PGA on HNZ). S train: 1.5-6 Hz, HNN peaks at
        exactly PGA, HNE at 0.75-0.95 × PGA, HNZ at 0.5 × PGA. Envelopes rise and decay
        as (x/τ)^1.5 e^{1.5(1 - x/τ)}; the S rise time grows with distance.
        """
        pga = self.pga_ms2(hypocentral_km)
        x_p = t_s - self.p_arrival_s(hypocentral_km)
        x_s = t_s - self.s_arrival_s(hypocentral_km)
        rise_s = _s_rise_s(hypocentral_km)
        out = np.zeros((3, t_s.size))
        east_share = 0.75 + 0.2 * float(uniform(key, [999])[0])
        for channel, (p_peak, s_peak) in enumerate(((0.3, 0.5), (0.1, 1.0), (0.08, east_share))):
            p_train = _train(x_p, 0.35, (6.0, 12.0), key, 100 * channel)
            s_train = _train(x_s, rise_s, (1.5, 6.0), key, 100 * channel + 50)
            out[channel] = pga * (p_peak * p_train + s_peak * s_train)
        return out


def _s_rise_s(hypocentral_km: float) -> float:
    return 0.8 + 0.03 * hypocentral_km


def _train(
    x_s: FloatArray, rise_s: float, band_hz: tuple[float, float], key: int, salt: int
) -> FloatArray:
    """A wave train starting at x=0 whose largest sample on this grid is exactly 1."""
    draws = uniform(key, np.arange(salt, salt + 16))
    freqs = band_hz[0] + (band_hz[1] - band_hz[0]) * draws[:8]
    phases = 2.0 * np.pi * draws[8:]
    x = np.maximum(x_s, 0.0)
    envelope = np.where(x_s > 0, (x / rise_s) ** 1.5 * np.exp(1.5 * (1.0 - x / rise_s)), 0.0)
    carrier = np.sin(2.0 * np.pi * freqs[:, None] * x[None, :] + phases[:, None]).sum(axis=0)
    train = envelope * carrier
    peak = float(np.max(np.abs(train))) if train.size else 0.0
    result: FloatArray = train / peak if peak > 0 else train
    return result
