"""Hazard models: exact integrals, seismic arrivals and peak acceleration."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.models import Earthquake, Keyframes


def test_keyframe_integral_matches_numeric_integration() -> None:
    curve = Keyframes((-100.0, 0.0, 250.0, 400.0), (0.0, 30.0, 120.0, 10.0))
    t = np.linspace(-300.0, 700.0, 100_001)
    numeric = np.concatenate(
        ([0.0], np.cumsum(np.diff(t) * (curve.at(t)[1:] + curve.at(t)[:-1]) / 2))
    )
    exact = curve.integral(t) - curve.integral(t[:1])
    assert np.allclose(exact, numeric, atol=1e-6 * numeric.max())


def test_keyframes_must_increase() -> None:
    with pytest.raises(ValueError, match="increase"):
        Keyframes((0.0, 0.0), (1.0, 2.0))


def test_arrivals_and_peak_acceleration() -> None:
    quake = Earthquake("q", 100.0, 39.9, 116.3, 10.0, 5.8)
    near = quake.hypocentral_km(39.9, 116.3)
    assert near == pytest.approx(10.0)
    assert quake.p_arrival_s(near) == pytest.approx(100.0 + 10.0 / 6.0)
    assert quake.s_arrival_s(near) == pytest.approx(100.0 + 10.0 / 3.5)
    assert quake.pga_ms2(10.0) > 1.4 > quake.pga_ms2(30.0) > quake.pga_ms2(60.0)


def test_accelerograms_peak_at_the_model_pga_and_start_at_the_p_wave() -> None:
    quake = Earthquake("q", 0.0, 39.9, 116.3, 10.0, 5.8)
    distance = 15.0
    begin, end = quake.shaking_window_s(distance)
    t = np.arange(begin - 1.0, end, 0.01)
    waves = quake.accelerograms(distance, t, key=42)
    assert waves.shape == (3, t.size)
    assert np.all(waves[:, t <= quake.p_arrival_s(distance)] == 0.0)
    pga = quake.pga_ms2(distance)
    assert np.max(np.abs(waves[1])) == pytest.approx(pga, rel=0.05)  # HNN: S peak + P coda
    assert 0.7 * pga <= np.max(np.abs(waves[2])) <= 1.0 * pga * 1.05
    assert np.max(np.abs(waves[0])) < pga
    assert np.argmax(np.abs(waves[1])) > np.searchsorted(t, quake.s_arrival_s(distance))
