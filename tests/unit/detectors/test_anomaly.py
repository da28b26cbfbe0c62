"""The general-purpose anomaly score: calibrated false-alarm rate, detection, warm-up unknown."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors import AnomalyDetector
from detectors.anomaly import RobustScorer
from tests.unit.detectors.helpers import feed, reading, rules, station
from yujing.contracts import Grade, Kind


def scorer(**kw: float) -> RobustScorer:
    params = dict(period_s=0.0, bins=1, history=100, calibration=1000, min_history=30,
                  min_calibration=1000, floor_abs=1e-6, floor_rel=0.0)  # fmt: skip
    params.update(kw)
    return RobustScorer(**params)  # type: ignore[arg-type]


@pytest.mark.parametrize("dist", ["normal", "lognormal", "uniform"])
def test_the_false_alarm_rate_is_at_most_alpha_whatever_the_distribution(dist: str) -> None:
    rng = np.random.default_rng(11)
    draws = {
        "normal": rng.normal(size=21000),
        "lognormal": rng.lognormal(size=21000),
        "uniform": rng.uniform(size=21000),
    }
    s = scorer()
    exceed = scored = 0
    for i, x in enumerate(draws[dist]):
        surprise = s.score(float(i), float(x))
        s.learn(float(i), float(x), surprise)
        if surprise is not None:
            scored += 1
            exceed += surprise >= 2.0  # alpha = 0.01
    assert scored == 21000 - 1030
    assert exceed / scored <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / scored)  # within 3 sigma


def test_a_step_is_seen_and_the_calibration_is_protected() -> None:
    spec = station(Kind.GAS, "G1", interval_s=300.0)
    detector = AnomalyDetector(spec, rules(spec, AnomalyDetector))
    rng = np.random.default_rng(3)
    readings = []
    for i in range(1300):
        p = 400.0 + 15.0 * math.sin(2 * math.pi * i / 288) + rng.normal()
        if i in (1100, 1200):
            p -= 90.0
        readings.append(reading(spec, 300.0 * i, i, pressure_kpa=p))
    out = feed(detector, readings)
    assert out[0].grade is Grade.NONE and out[0].ts == 300.0 * 1024  # unknown for 1024 readings
    onsets = [round(f.ts / 300.0) for f in out if f.grade is Grade.BLUE]
    assert onsets == [1100, 1200]  # the second drop is seen too: drop 1 not in calibration
    assert all(f.hazard.value == "anomaly" for f in out)


def test_a_late_reading_is_neither_scored_nor_learned() -> None:
    spec = station(Kind.GAS, "G1", interval_s=300.0)
    detector = AnomalyDetector(spec, rules(spec, AnomalyDetector))
    feed(detector, [reading(spec, 300.0 * i, i, pressure_kpa=400.0) for i in range(1, 40)])
    detector.advance(300.0 * 40)
    before = detector.snapshot()["extra"]
    assert detector.update(reading(spec, 150.0, 0, pressure_kpa=1.0)) == []
    assert detector.snapshot()["extra"] == before


def robust_z_afresh(window: list[float], x: float, s: RobustScorer) -> float:
    """The nonconformity of ``x`` by sorting the chronological window afresh (the definition)."""
    ordered = sorted(window)
    n, mid = len(ordered), len(ordered) // 2
    median = ordered[mid] if n % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])
    deviations = sorted(abs(v - median) for v in ordered)
    mad = deviations[mid] if n % 2 else 0.5 * (deviations[mid - 1] + deviations[mid])
    return abs(x - median) / max(1.4826 * mad, s.floor_abs, s.floor_rel * abs(median))


def test_windows_kept_sorted_score_as_sorting_them_afresh() -> None:
    """The sorted copies of the recent and seasonal windows follow them as values come and the
    oldest go, across a restore: every score equals the one from the windows sorted afresh."""
    s = RobustScorer(3600.0, 4, 40, 200, 10, 50, 0.01, 0.0, 12)
    rng = np.random.default_rng(5)
    for i in range(600):
        ts, x = 60.0 * i, float(np.round(10.0 + rng.normal(), 1))  # ties among the values
        z = s.nonconformity(ts, x)
        if len(s.recent) >= 10:
            recent = robust_z_afresh(s.recent, x, s)
            season = s.seasonal[s._bin(ts)]
            want = recent if len(season) < 10 else min(recent, robust_z_afresh(season, x, s))
            assert z == want
        s.take(ts, x)
        if i == 300:
            restored = RobustScorer(3600.0, 4, 40, 200, 10, 50, 0.01, 0.0, 12)
            restored.load(s.to_json())
            s = restored
