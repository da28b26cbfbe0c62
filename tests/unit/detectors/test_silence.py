"""Silence: hazard rules go unknown (never none), one sensor/silence finding, and back."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from detectors import LadderDetector, RainDetector, SilenceDetector, build_detectors
from detectors.station import SILENCE_FACTOR_DEFAULT, silence_limit_s
from tests.unit.detectors.helpers import changes, feed, play, reading, rules, station
from yujing.contracts import ConfigError, Grade, Hazard, Kind


def test_the_default_limit_is_three_reporting_intervals() -> None:
    spec = station(Kind.GAS, "G1", interval_s=20.0)
    assert SILENCE_FACTOR_DEFAULT == 3.0
    assert silence_limit_s(spec, rules(spec)) == 60.0
    assert (
        silence_limit_s(station(Kind.GAS, "G2", interval_s=20.0, silence_factor=10.0), rules(spec))
        == 200.0
    )
    tuned = [replace(r, params=MappingProxyType({"silence_factor": 5})) for r in rules(spec)]
    assert silence_limit_s(spec, tuned) == 100.0


@pytest.mark.parametrize("bad", [0.0, -1.0, "soon"])
def test_a_bad_silence_factor_is_a_config_error(bad: float | str) -> None:
    spec = station(Kind.GAS, "G1", silence_factor=bad)
    with pytest.raises(ConfigError, match="silence_factor"):
        build_detectors(spec, rules(spec))


def test_silence_turns_graded_rules_unknown_and_data_brings_them_back() -> None:
    spec = station(Kind.PONDING, "P1", interval_s=10.0)
    gas, watch = LadderDetector(spec, rules(spec)), SilenceDetector(spec, rules(spec))
    assert gas.advance(100.0) == watch.advance(100.0) == []  # the runtime starts watching
    first = reading(spec, 100.0, 1, depth_cm=30.0)
    assert changes(gas.update(first)) == [(100.0, "depth", "orange", 30.0, 27.0)]
    assert watch.update(first) == []
    assert gas.advance(130.0) == watch.advance(130.0) == []  # exactly 3 × 10 s: not yet
    lost = gas.advance(131.0)
    assert [(f.rule, f.grade, f.value, f.threshold) for f in lost] == [
        ("depth", Grade.UNKNOWN, None, None)
    ]
    assert lost[0].message == "no data for 31 s (limit 30 s; unknown)"
    sensor = watch.advance(131.0)
    assert [(f.hazard, f.rule, f.grade, f.value, f.threshold) for f in sensor] == [
        (Hazard.SENSOR, "silence", Grade.BLUE, 31.0, 30.0)
    ]
    assert gas.advance(500.0) == watch.advance(500.0) == []  # said once
    back = reading(spec, 495.0, 2, depth_cm=30.0)
    assert changes(gas.update(back)) == [(495.0, "depth", "orange", 30.0, 27.0)]
    returned = watch.update(back)
    assert [(f.rule, f.grade, f.ts, f.source_ts) for f in returned] == [
        ("silence", Grade.NONE, 495.0, 495.0)
    ]
    assert returned[0].message == "data again after 395 s of silence"


def test_old_data_from_a_buffer_does_not_end_the_silence() -> None:
    spec = station(Kind.GAS, "G1", interval_s=10.0)
    watch = SilenceDetector(spec, rules(spec))
    assert watch.advance(100.0) == []
    watch.update(reading(spec, 100.0, 1, ch4_pct_lel=1.0))
    assert [f.grade for f in watch.advance(200.0)] == [Grade.BLUE]
    assert watch.update(reading(spec, 150.0, 2, ch4_pct_lel=1.0)) == []  # 50 s behind the clock
    assert [f.grade for f in watch.update(reading(spec, 175.0, 3, ch4_pct_lel=1.0))] == [Grade.NONE]


def test_history_older_than_the_first_tick_gets_one_limit_of_grace() -> None:
    """A runtime that just started (or a demo uploading hours of history) must not call every
    station silent at once: silence is judged only after one limit of watching."""
    spec = station(Kind.GAS, "G1", interval_s=10.0)
    watch = SilenceDetector(spec, rules(spec))
    watch.update(reading(spec, 100.0, 1, ch4_pct_lel=1.0))  # history, hours before the start
    assert watch.advance(10_000.0) == [] and watch.advance(10_030.0) == []
    assert [f.grade for f in watch.advance(10_031.0)] == [Grade.BLUE]


def test_a_station_that_never_reports_gets_the_sensor_finding_only() -> None:
    spec = station(Kind.PONDING, "P1", interval_s=60.0)
    depth, watch = LadderDetector(spec, rules(spec)), SilenceDetector(spec, rules(spec))
    events = [("t", 1000.0), ("t", 1180.0), ("t", 1181.0), ("t", 5000.0)]
    assert play(depth, events) == []  # warm-up stays unknown: no none, no unknown finding
    assert [f.grade for f in play(watch, events)] == [Grade.BLUE]
    (reporting,) = build_detectors(spec, rules(spec))  # the factory's one detector says it
    assert [(f.rule, f.grade) for f in play(reporting, events)] == [("silence", Grade.BLUE)]


def test_while_silent_advance_takes_no_step_down() -> None:
    spec = station(Kind.RAIN, "R1", interval_s=300.0)
    rain = RainDetector(spec, rules(spec))
    feed(rain, [reading(spec, 300.0, 1, rain_mm=60.0)])
    grades = [(f.rule, f.grade) for t in range(600, 40_000, 300) for f in rain.advance(float(t))]
    assert grades == [("rainstorm", Grade.UNKNOWN), ("short_heavy_rain", Grade.UNKNOWN)]
    assert rain.snapshot()["rules"]["rainstorm/rainstorm"]["grade"] == "orange"  # frozen


def test_a_rule_that_never_had_data_stays_unknown_through_silence() -> None:
    spec = station(Kind.CHEM, "C1", interval_s=10.0)
    plant = LadderDetector(spec, rules(spec))
    assert plant.advance(0.0) == []
    plant.update(reading(spec, 0.0, 1, nh3_ppm=1.0))
    plant.update(reading(spec, 10.0, 2, nh3_ppm=1.0))  # 2 of 3 readings grade NH3
    lost = plant.advance(110.0)
    assert [f.rule for f in lost] == ["nh3"]  # cl2, h2s and the tank rules were never graded
