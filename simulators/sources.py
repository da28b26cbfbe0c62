"""Per-station signal sources: the scenario's models plus background noise, for a range of
report numbers (``seq``) or seismic sample numbers.

Noise is counter-based (:mod:`simulators.noise`), keyed by (seed, station, stream), so a value
depends only on its station and counter, never on which window asked for it.

Background levels (quiet stations; all well below the lowest warning rungs):

=============== ======================= ======== ==========================================
quantity        mean                    sd       note
=============== ======================= ======== ==========================================
rain_mm         0                                tipping bucket, 0.1 mm per tip
level_m         ``normal_level_m``      0.004    float gauge / radar ripple
depth_cm        0.3                     0.2      ultrasonic range noise over a dry road
ch4_pct_lel     0.5                     0.3      catalytic sensor zero noise
nh3_ppm         1.2                     0.4      electrochemical cells
cl2_ppm         0.02                    0.01
h2s_ppm         0.3                     0.1
pressure_kpa    ``pressure_normal_kpa`` 0.3 %    process transmitter
temp_c          ``temp_normal_c``       0.15
seismic         0                       8e-4     m/s², accelerometer + ambient noise
=============== ======================= ======== ==========================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from simulators.models import Earthquake, Profile, ProfileStation, Reach, RiverRise
from simulators.noise import FloatArray, IntArray, gaussian, stream_key
from simulators.scenario import Storm
from yujing.config.stations import StationSpec
from yujing.contracts import Kind

__all__ = ["DIGITS", "RainSource", "ScalarSource", "SeismicSource", "TIP_MM"]

TIP_MM = 0.1
SEISMIC_NOISE_MS2 = 8e-4
DIGITS: Mapping[str, int] = {
    "rain_mm": 1,
    "level_m": 3,
    "depth_cm": 1,
    "ch4_pct_lel": 1,
    "nh3_ppm": 1,
    "cl2_ppm": 2,
    "h2s_ppm": 2,
    "pressure_kpa": 1,
    "temp_c": 1,
}
# quantity -> (mean, sd); None means "from the station's params" (see _background)
_FIXED: Mapping[str, tuple[float, float]] = {
    "depth_cm": (0.3, 0.2),
    "ch4_pct_lel": (0.5, 0.3),
    "nh3_ppm": (1.2, 0.4),
    "cl2_ppm": (0.02, 0.01),
    "h2s_ppm": (0.3, 0.1),
}


def quantities_of(spec: StationSpec) -> tuple[str, ...]:
    """The quantities a (non-seismic) station reports."""
    if spec.kind is Kind.RAIN:
        return ("rain_mm",)
    if spec.kind is Kind.WATER_LEVEL:
        return ("level_m",)
    if spec.kind is Kind.PONDING:
        return ("depth_cm",)
    if spec.kind is Kind.GAS:
        return ("ch4_pct_lel",)
    if spec.kind is Kind.CHEM:
        substance = spec.params.get("substance")
        if isinstance(substance, str):
            return (f"{substance}_ppm",)
        return ("pressure_kpa", "temp_c")
    raise ValueError(f"{spec.id}: {spec.kind.value} has no scalar quantities")


def _param(spec: StationSpec, name: str) -> float:
    value = spec.params.get(name)
    if not isinstance(value, int | float):
        raise ValueError(f"{spec.id}: needs numeric param {name!r}")
    return float(value)


def _background(spec: StationSpec, quantity: str) -> tuple[float, float]:
    if quantity in _FIXED:
        return _FIXED[quantity]
    if quantity == "level_m":
        return _param(spec, "normal_level_m"), 0.004
    if quantity == "pressure_kpa":
        normal = _param(spec, "pressure_normal_kpa")
        return normal, 0.003 * normal
    if quantity == "temp_c":
        return _param(spec, "temp_normal_c"), 0.15
    raise ValueError(f"{spec.id}: no background model for {quantity!r}")


@dataclass(frozen=True, slots=True)
class RainSource:
    """Tipping-bucket increments since the previous report, from the storms' exact depths."""

    spec: StationSpec
    storms: tuple[Storm, ...]
    catch_factor: float = 1.0  # gauge-to-gauge spread (exposure, calibration)

    def depth_mm(self, t_s: FloatArray) -> FloatArray:
        total = np.zeros(t_s.shape)
        for storm in self.storms:
            total = total + storm.depth_mm(self.spec.lat, self.spec.lon, t_s)
        return self.catch_factor * total

    def values(self, t_s: FloatArray, seq: IntArray) -> dict[str, FloatArray]:
        tips_now = np.floor(self.depth_mm(t_s) / TIP_MM + 1e-9)
        tips_before = np.floor(self.depth_mm(t_s - self.spec.interval_s) / TIP_MM + 1e-9)
        return {"rain_mm": np.maximum(tips_now - tips_before, 0.0) * TIP_MM}


@dataclass(frozen=True, slots=True)
class ScalarSource:
    """Background (mean + Gaussian noise, floored at 0 where physical) plus event increments;
    water level follows the flood waves that reach the gauge."""

    spec: StationSpec
    seed: int
    profiles: tuple[tuple[Profile, ProfileStation], ...] = ()
    waves: tuple[tuple[RiverRise, Reach], ...] = ()

    def truth(self, quantity: str, t_s: FloatArray) -> FloatArray:
        """The noise-free value of ``quantity`` at scenario times ``t_s``."""
        mean, _ = _background(self.spec, quantity)
        value = np.full(t_s.shape, mean)
        if quantity == "level_m":
            warning = _param(self.spec, "warning_level_m")
            for wave, reach in self.waves:
                value = np.maximum(value, wave.level_m(reach, warning, mean, t_s))
        for profile, where in self.profiles:
            if profile.quantity == quantity:
                value = value + profile.added_at(where, t_s)
        return value

    def values(self, t_s: FloatArray, seq: IntArray) -> dict[str, FloatArray]:
        out = {}
        for quantity in quantities_of(self.spec):
            _, sd = _background(self.spec, quantity)
            key = stream_key(self.seed, self.spec.id, quantity)
            value = self.truth(quantity, t_s) + sd * gaussian(key, seq)
            if quantity != "temp_c":
                value = np.maximum(value, 0.0)
            out[quantity] = value
        return out


class SeismicSource:
    """Three channels at ``sr_hz``: noise everywhere, plus precomputed accelerograms for each
    earthquake over its shaking window (so each S train peaks exactly at the model PGA)."""

    def __init__(
        self,
        spec: StationSpec,
        seed: int,
        quakes: tuple[Earthquake, ...],
        first_sample_s: float,
        sr_hz: int,
    ) -> None:
        self.spec = spec
        self.sr_hz = sr_hz
        self._keys = [stream_key(seed, spec.id, f"noise-{c}") for c in range(3)]
        self._events: list[tuple[int, FloatArray]] = []
        for quake in quakes:
            distance = quake.hypocentral_km(spec.lat, spec.lon)
            begin_s, end_s = quake.shaking_window_s(distance)
            n_from = math.floor((begin_s - first_sample_s) * sr_hz) - 1
            n_to = math.ceil((end_s - first_sample_s) * sr_hz) + 1
            times = first_sample_s + np.arange(n_from, n_to) / sr_hz
            key = stream_key(seed, spec.id, quake.id)
            self._events.append((n_from, quake.accelerograms(distance, times, key)))

    def samples(self, n_from: int, n_to: int) -> FloatArray:
        """(3, n_to - n_from) accelerations (m/s²) for sample numbers [n_from, n_to)."""
        counters = np.arange(n_from, n_to)
        out = np.vstack([SEISMIC_NOISE_MS2 * gaussian(key, counters) for key in self._keys])
        for start, event in self._events:
            lo, hi = max(n_from, start), min(n_to, start + event.shape[1])
            if lo < hi:
                out[:, lo - n_from : hi - n_from] += event[:, lo - start : hi - start]
        return out
