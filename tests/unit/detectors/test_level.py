"""Instantaneous ladders: water level, ponding, gas, toxic gas and tanks on the real configs."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from types import MappingProxyType

from detectors import LadderDetector
from tests.unit.detectors.helpers import changes, feed, reading, rules, station
from yujing.config.ladders import RuleSpec
from yujing.config.stations import StationSpec
from yujing.contracts import Grade, Kind, Reading

# characteristic levels: warning 10.0 m, guaranteed 11.5 m, record 12.3 m (helpers.RIVER_PARAMS)
RIVER = station(Kind.WATER_LEVEL, "H1", interval_s=300.0)


BASE_RULES = ("level", "depth", "ch4", "nh3", "cl2", "h2s", "tank_pressure", "tank_temperature")


def detector(spec: StationSpec) -> LadderDetector:
    """The instantaneous-value rules of the station, without trends and without persistence
    (tested in test_trend.py), so these tests read the ladder semantics alone."""
    return LadderDetector(spec, instantaneous(spec))


def instantaneous(spec: StationSpec) -> list[RuleSpec]:
    out = []
    for r in rules(spec):
        if r.rule in BASE_RULES:
            params = {k: v for k, v in r.params.items() if not k.startswith("persist_")}
            out.append(replace(r, params=MappingProxyType(params)))
    return out


def series(spec: StationSpec, quantity: str, points: list[tuple[float, float]]) -> list[Reading]:
    return [reading(spec, ts, i, **{quantity: v}) for i, (ts, v) in enumerate(points, start=1)]


def test_river_level_climbs_station_relative_rungs_and_steps_down_after_dwell() -> None:
    points = [
        (0.0, 9.0),  # none
        (300.0, 9.75),  # blue: warning - 0.3 = 9.7
        (600.0, 10.2),  # yellow: warning level 10.0
        (900.0, 11.6),  # orange: guaranteed level 11.5
        (1200.0, 12.4),  # red: record level 12.3
        (1500.0, 12.27),  # inside the 0.05 m band: red holds
        (1800.0, 12.2),  # below 12.25: the 1800 s dwell starts
        (3300.0, 12.2),  # 1500 s: still red
        (3600.0, 12.2),  # 1800 s: down to the rung the level still reaches (orange)
        (3900.0, 9.0),  # below 11.45: dwell starts
        (5700.0, 9.0),  # 1800 s later: none
    ]
    findings = feed(detector(RIVER), series(RIVER, "level_m", points))
    assert changes(findings) == [
        (0.0, "level", "none", 9.0, None),
        (300.0, "level", "blue", 9.75, 9.7),
        (600.0, "level", "yellow", 10.2, 10.0),
        (900.0, "level", "orange", 11.6, 11.5),
        (1200.0, "level", "red", 12.4, 12.3),
        (3600.0, "level", "orange", 12.2, 11.5),
        (5700.0, "level", "none", 9.0, None),
    ]
    assert [f.message for f in findings[-3:]] == [
        "water level 12.40 m ≥ 12.3 m (red)",
        "water level 12.20 m ≥ 11.5 m (orange, down from red)",
        "water level 9.00 m < 11.45 m for 1800 s (none, was orange)",
    ]
    assert {f.hazard.value for f in findings} == {"flood"}
    assert all(f.source_ts == f.ts for f in findings)


def test_station_threshold_override_replaces_a_rung() -> None:
    spec = station(Kind.PONDING, "P1", thresholds={"depth": {Grade.ORANGE: 20.0}})
    points = [(0.0, 4.0), (60.0, 21.0), (120.0, 26.0)]
    assert changes(feed(detector(spec), series(spec, "depth_cm", points))) == [
        (0.0, "depth", "none", 4.0, None),
        (60.0, "depth", "orange", 21.0, 20.0),  # closure depth of this underpass: 20 cm
    ]


def test_methane_hysteresis_dwell_and_resolution() -> None:
    spec = station(Kind.GAS, "G1", interval_s=10.0)
    points = [
        (0.0, 0.0),
        (10.0, 12.0),
        (20.0, 30.0),
        (30.0, 55.0),  # none, blue, orange, red
        (40.0, 46.0),  # red's band: 50 - 5
        (50.0, 44.0),  # below: dwell starts (300 s)
        (200.0, 47.0),  # back inside the band: dwell cancelled
        (210.0, 44.0),  # dwell starts again
        (500.0, 44.0),  # 290 s: red holds
        (510.0, 44.0),  # 300 s: down to orange (44 ≥ 25)
        (520.0, 1.0),
        (820.0, 1.0),  # below 22 for 300 s: none
    ]
    assert changes(feed(detector(spec), series(spec, "ch4_pct_lel", points))) == [
        (0.0, "ch4", "none", 0.0, None),
        (10.0, "ch4", "blue", 12.0, 10.0),
        (20.0, "ch4", "orange", 30.0, 25.0),
        (30.0, "ch4", "red", 55.0, 50.0),
        (510.0, "ch4", "orange", 44.0, 25.0),
        (820.0, "ch4", "none", 1.0, None),
    ]


def test_chem_station_grades_only_the_quantities_it_measures() -> None:
    spec = station(Kind.CHEM, "C1", interval_s=30.0)
    plant = detector(spec)
    assert [r.rule for r in plant.rules] == [
        "nh3",
        "cl2",
        "h2s",
        "tank_pressure",
        "tank_temperature",
    ]
    out = feed(
        plant,
        [
            reading(spec, 0.0, 1, nh3_ppm=5.0),
            reading(spec, 30.0, 2, nh3_ppm=45.0),
            reading(spec, 60.0, 3, nh3_ppm=44.0, pressure_kpa=310.0),
            reading(spec, 90.0, 4, nh3_ppm=44.0, pressure_kpa=360.0, temp_c=20.0),
        ],
    )
    assert changes(out) == [
        (0.0, "nh3", "none", 5.0, None),
        (30.0, "nh3", "yellow", 45.0, 42.0),  # 100 % OEL
        (60.0, "tank_pressure", "orange", 310.0, 300.0),  # the tank's high set point
        (90.0, "tank_pressure", "red", 360.0, 350.0),
        (90.0, "tank_temperature", "none", 20.0, None),
    ]
    assert {f.hazard.value for f in out} == {"toxic_gas", "tank"}
    snap = plant.snapshot()["rules"]
    assert snap["toxic_gas/cl2"]["grade"] == snap["toxic_gas/h2s"]["grade"] == "unknown"


def test_a_late_reading_may_raise_but_never_lowers_or_starts_a_dwell() -> None:
    spec = station(Kind.GAS, "G2", interval_s=10.0)
    gas = detector(spec)
    feed(gas, [reading(spec, 0.0, 1, ch4_pct_lel=30.0), reading(spec, 10.0, 2, ch4_pct_lel=30.0)])
    gas.advance(11.0)  # nothing held; the next out-of-order one is late
    low = gas.update(reading(spec, 5.0, 3, ch4_pct_lel=0.0))
    assert low == []
    assert gas.snapshot()["rules"]["gas_leak/ch4"]["below_since"] is None
    high = gas.update(reading(spec, 6.0, 4, ch4_pct_lel=60.0))
    assert changes(high) == [(10.0, "ch4", "red", 60.0, 50.0)]  # at the current time
    assert high[0].source_ts == 6.0 and high[0].evidence == {"late": True}


def test_shuffled_within_a_tick_equals_in_order() -> None:
    spec = station(Kind.GAS, "G3", interval_s=10.0)
    rng = random.Random(11)
    values = [  # a slow swell (period 1500 s) with sensor noise
        max(0.0, 28 + 27 * math.sin(2 * math.pi * i / 150) + rng.gauss(0, 3)) for i in range(300)
    ]
    readings = [reading(spec, 10.0 * i, i, ch4_pct_lel=v) for i, v in enumerate(values)]
    expected = feed(detector(spec), readings)
    assert len(expected) > 4
    shuffled = readings[1:]
    rng.shuffle(shuffled)
    assert feed(detector(spec), [readings[0], *shuffled]) == expected


def test_a_late_value_above_the_edge_cancels_a_running_dwell() -> None:
    spec = station(Kind.GAS, "G4", interval_s=10.0)
    gas = detector(spec)
    feed(gas, [reading(spec, 0.0, 1, ch4_pct_lel=30.0), reading(spec, 20.0, 2, ch4_pct_lel=5.0)])
    assert gas.snapshot()["rules"]["gas_leak/ch4"]["below_since"] == 20.0  # orange, dwelling
    gas.advance(21.0)
    assert gas.update(reading(spec, 10.0, 3, ch4_pct_lel=24.0)) == []  # late, above 22
    assert gas.snapshot()["rules"]["gas_leak/ch4"]["below_since"] is None
    # the dwell restarts with the next live reading below the edge
    assert gas.update(reading(spec, 30.0, 4, ch4_pct_lel=5.0)) == []
    assert changes(gas.update(reading(spec, 330.0, 5, ch4_pct_lel=5.0))) == [
        (330.0, "ch4", "none", 5.0, None)
    ]
