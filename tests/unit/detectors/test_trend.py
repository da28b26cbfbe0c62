"""Trends: rate of rise (m/h, cm/h, %LEL/min), projected time to the warning level, persistence
(n of m) and thermal runaway, on the shipped ladders."""

from __future__ import annotations

import pytest

from detectors import LadderDetector
from detectors.factory import build_detectors
from detectors.trend import RateWindow, derivation, nth_largest
from simulators import DEMO_REGISTRY, DEMO_SCENARIO, SensorSimulator, load_scenario
from tests.unit.detectors.helpers import BOOK, feed, reading, rules, station
from yujing.config import load_registry
from yujing.contracts import Finding, Grade, Kind

# warning 10.0 m, guaranteed 11.5 m, record 12.3 m (helpers.RIVER_PARAMS)
RIVER = station(Kind.WATER_LEVEL, "H1", interval_s=300.0)


def by_rule(findings: list[Finding], rule: str) -> list[tuple[float, str, float | None]]:
    return [(f.ts, f.grade.value, f.value) for f in findings if f.rule == rule]


def test_the_slope_is_least_squares_over_the_window() -> None:
    w = RateWindow(1800.0)
    for k in range(7):
        w.add(300.0 * k, 5.0 + 0.25 * k)  # 0.25 m per 5 min = 3 m/h
    assert (w.slope_per_s(1800.0, 3) or 0.0) * 3600.0 == pytest.approx(3.0)
    assert w.slope_per_s(300.0, 3) is None  # too few points yet
    assert derivation("depth_rise_cm_per_h").raw == ("depth_cm",)  # type: ignore[union-attr]
    assert nth_largest([5.0, 1.0], 3) is None and nth_largest([5.0, 1.0, 4.0], 2) == 4.0


def test_the_slope_follows_the_points_and_matches_the_textbook_formula() -> None:
    """Points added, replaced and pruned between two questions at the same time change the
    answer (the window remembers its last slope only until its points change)."""
    w = RateWindow(1800.0)
    points = [(0.0, 5.0), (300.0, 5.4), (600.0, 5.3), (900.0, 6.1), (1200.0, 6.0)]
    for t, v in points:
        w.add(t, v)

    def textbook(rows: list[tuple[float, float]]) -> float:
        n = len(rows)
        mean_t, mean_v = sum(t for t, _ in rows) / n, sum(v for _, v in rows) / n
        sxy = sum((t - mean_t) * (v - mean_v) for t, v in rows)
        return sxy / sum((t - mean_t) ** 2 for t, _ in rows)

    assert w.slope_per_s(1200.0, 3) == pytest.approx(textbook(points), rel=1e-12)
    w.add(1200.0, 9.0)  # the same time again: replaces the value
    assert w.slope_per_s(1200.0, 3) == pytest.approx(textbook([*points[:4], (1200.0, 9.0)]))
    w.add(2100.0, 9.5)
    w.prune(2100.0)  # the point at 0 s leaves the window
    rows = [*points[1:4], (1200.0, 9.0), (2100.0, 9.5)]
    assert w.slope_per_s(2100.0, 3) == pytest.approx(textbook(rows))
    assert w.slope_per_s(2100.0, 6) is None  # fewer points than asked for


def test_a_river_rising_0_7_m_per_h_gets_the_rise_and_the_projection() -> None:
    levels = [8.0 + 0.7 * (k * 300.0 / 3600.0) for k in range(30)]  # 8 m, rising 0.7 m/h
    out = feed(
        LadderDetector(RIVER, rules(RIVER)),
        [reading(RIVER, 300.0 * k, k, level_m=v) for k, v in enumerate(levels)],
    )
    rise = by_rule(out, "level_rise")
    assert rise[0][:2] == (900.0, "yellow")  # the first slope: 3 readings over 15 min
    assert rise[0][2] == pytest.approx(0.7)
    ahead = [f for f in out if f.rule == "level_ahead"]
    # blue once level + 0.7 m/h * 1 h reaches the 10 m warning level: from 9.3 m on (k = 23)
    blue = next(f for f in ahead if f.grade is Grade.BLUE)
    assert blue.ts == 23 * 300.0 and blue.value == pytest.approx(levels[23] + 0.7)
    assert blue.evidence["eta_s"] == pytest.approx((10.0 - levels[23]) / 0.7 * 3600.0)
    assert "warning_level_m 10.0 reached in 56 min at this rate" in blue.message
    yellow_rise = next(f for f in out if f.rule == "level_rise" and f.grade is Grade.YELLOW)
    assert yellow_rise.evidence["eta_s"] == pytest.approx((10.0 - 8.175) / 0.7 * 3600.0)


def test_a_falling_river_is_projected_flat() -> None:
    out = feed(
        LadderDetector(RIVER, rules(RIVER)),
        [reading(RIVER, 300.0 * k, k, level_m=9.9 - 0.5 * k / 12) for k in range(12)],
    )
    assert {g for _, g, _ in by_rule(out, "level_ahead")} == {"none"}
    assert {g for _, g, _ in by_rule(out, "level_rise")} == {"none"}


def test_one_methane_spike_does_not_page_two_of_three_do() -> None:
    gas = station(Kind.GAS, "G1", interval_s=10.0)
    values = [2.0, 2.0, 2.0, 60.0, 2.0, 2.0, 2.0, 60.0, 61.0, 2.0]
    out = feed(
        LadderDetector(gas, rules(gas)),
        [reading(gas, 10.0 * k, k, ch4_pct_lel=v) for k, v in enumerate(values)],
    )
    ch4 = by_rule(out, "ch4")
    assert ch4 == [(10.0, "none", 2.0), (80.0, "red", 60.0)]  # 2 of the last 3 ≥ 50 %LEL


def test_methane_rising_fast_gets_the_rate_rule_before_the_level_rung() -> None:
    gas = station(Kind.GAS, "G1", interval_s=10.0)
    values = [1.0 + 6.0 * k / 6.0 for k in range(20)]  # +6 %LEL per minute from 1 %LEL
    out = feed(
        LadderDetector(gas, rules(gas)),
        [reading(gas, 10.0 * k, k, ch4_pct_lel=v) for k, v in enumerate(values)],
    )
    rate = next(f for f in out if f.rule == "ch4_rise" and f.grade.is_warning)
    level = next(f for f in out if f.rule == "ch4" and f.grade.is_warning)
    assert rate.grade is Grade.YELLOW and rate.value == pytest.approx(6.0)
    assert rate.ts < level.ts


def test_runaway_needs_the_pressure_to_follow() -> None:
    tank = station(Kind.CHEM, "T1", interval_s=30.0)

    def run(pressure_per_min: float) -> list[tuple[float, str, float | None]]:
        readings = [
            reading(
                tank,
                30.0 * k,
                k,
                temp_c=20.0 + 1.5 * k / 2,
                pressure_kpa=200.0 + pressure_per_min * k / 2,
            )  # fmt: skip
            for k in range(20)
        ]
        return by_rule(feed(LadderDetector(tank, rules(tank)), readings), "runaway")

    assert [g for _, g, _ in run(pressure_per_min=4.0)][:2] == ["orange"]  # 1.5 °C/min, follows
    assert {g for _, g, _ in run(pressure_per_min=0.0)} == {"none"}  # a heater, not a reaction


def test_the_demo_tanks_runaway_fires_before_the_high_pressure_set_point() -> None:
    registry = load_registry(DEMO_REGISTRY)
    tank = registry.get("CY-CH-004")  # the overheating ammonia receiver of configs/scenarios/demo
    assert tank is not None and tank.rules is not None and "runaway" in tank.rules
    start = 1_784_613_600.0
    simulator = SensorSimulator(registry, load_scenario(DEMO_SCENARIO), 7, start)
    detectors = build_detectors(tank, BOOK.for_station(tank))
    found: list[Finding] = []
    for r in simulator.readings(start - 600.0, start + 900.0, stations=["CY-CH-004"]):
        for detector in detectors:
            found += detector.update(r)
    first = {
        rule: min((f.ts for f in found if f.rule == rule and f.grade is Grade.ORANGE), default=None)
        for rule in ("runaway", "tank_pressure", "tank_temperature")
    }
    assert first["runaway"] is not None and first["tank_pressure"] is not None
    assert first["runaway"] - start < 300.0  # heating at ~1.5 °C/min with the pressure following
    assert first["runaway"] < first["tank_pressure"] - 300.0  # minutes before the set point
