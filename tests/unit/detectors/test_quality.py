"""Sensor quality: suspect readings kept out of hazard findings, shown in their evidence, and a
sensor finding for persistent problems; rules of a suspect sensor turn unknown, never clear."""

from __future__ import annotations

from detectors import LadderDetector, QualityDetector, RainDetector
from detectors.quality import QualityGate, QualitySpec, Reason
from tests.unit.detectors.helpers import changes, feed, reading, rules, station
from yujing.contracts import Grade, Kind, Reading

DEPTH = QualitySpec(span_min=0.0, span_max=300.0, spike_window=5, spike_k=6.0, spike_floor=2.0,
                    stuck_s=3600.0, stuck_exempt_below=1.0)  # fmt: skip


def r(seq: int, depth: float, quality: str | None = None) -> Reading:
    return Reading("P1", Kind.PONDING, "d1", 60.0 * seq, seq, {"depth_cm": depth}, quality)


def values(readings: list[Reading]) -> list[float | None]:
    return [x.values.get("depth_cm") for x in readings]


def test_a_single_spike_is_held_then_excluded() -> None:
    gate = QualityGate({"depth_cm": DEPTH})
    for i in range(1, 7):
        assert values(gate.admit(r(i, 3.0), None)) == [3.0]
    assert gate.admit(r(7, 90.0), None) == []  # held: the next report decides
    assert values(gate.admit(r(8, 3.0), None)) == [None, 3.0]
    assert gate.recent_exclusions() == {"depth_cm": {Reason.SPIKE: 1}}


def test_a_real_jump_is_confirmed_by_the_next_report_and_both_apply() -> None:
    gate = QualityGate({"depth_cm": DEPTH})
    for i in range(1, 7):
        gate.admit(r(i, 3.0), None)
    assert gate.admit(r(7, 40.0), None) == []
    assert values(gate.admit(r(8, 55.0), None)) == [40.0, 55.0]  # a flash flood: one report late
    assert values(gate.admit(r(9, 70.0), None)) == [70.0]  # the baseline restarted: no hold


def test_a_held_value_without_a_successor_is_applied_after_hold_s() -> None:
    gate = QualityGate({"depth_cm": DEPTH}, interval_s=60.0)
    for i in range(1, 7):
        gate.admit(r(i, 3.0), None)
    gate.admit(r(7, 90.0), None)
    assert gate.release(7 * 60.0 + 119.0) == []
    assert values(gate.release(7 * 60.0 + 120.0)) == [90.0]  # a gauge dead at the crest


def test_range_sensor_flag_and_clock_ahead_are_excluded() -> None:
    gate = QualityGate({"depth_cm": DEPTH})
    assert values(gate.admit(r(1, 400.0), None)) == [None]
    assert values(gate.admit(r(2, 4.0, quality="bad"), None)) == [None]
    assert values(gate.admit(r(3, 4.0), clock=3 * 60.0 - 3601.0)) == [None]  # 1 h ahead
    assert gate.recent_exclusions() == {
        "depth_cm": {Reason.RANGE: 1, Reason.SENSOR_FLAG: 1, Reason.CLOCK_AHEAD: 1}
    }
    assert gate.persistent() == {"depth_cm": Reason.RANGE}  # 3 of the last 5


def test_stuck_above_the_exempt_level_and_dry_flatness_allowed() -> None:
    gate = QualityGate({"depth_cm": DEPTH})
    for i in range(100):
        gate.admit(r(i, 0.0), None)  # a dry underpass reads 0 for hours: fine
    assert gate.persistent() == {}
    for i in range(100, 170):
        gate.admit(r(i, 12.5), None)  # wet and not moving a millimetre for more than an hour
    assert gate.persistent() == {"depth_cm": Reason.STUCK}


def test_persistent_suspicion_blinds_the_rules_and_raises_one_sensor_finding() -> None:
    spec = station(Kind.PONDING, "P1", interval_s=60.0)
    depth, health = LadderDetector(spec, rules(spec)), QualityDetector(spec, rules(spec))
    readings = [reading(spec, 60.0 * i, i, depth_cm=30.0 + (i % 2) * 0.5) for i in range(5)]
    readings += [reading(spec, 60.0 * i, i, depth_cm=999.0) for i in range(5, 8)]  # out of span
    readings += [reading(spec, 60.0 * i, i, depth_cm=30.0 + (i % 2) * 0.5) for i in range(8, 14)]
    out = feed(depth, readings)
    assert [(f.rule, f.grade.value) for f in out if f.rule == "depth"] == [
        ("depth", "orange"),
        ("depth", "unknown"),  # 3 of 5 out of span: cannot see
        ("depth", "orange"),  # 5 plausible readings again
    ]
    blind = next(f for f in out if f.grade is Grade.UNKNOWN and f.rule == "depth")
    assert blind.message.startswith("suspect sensor: depth_cm (range)")
    assert blind.evidence["excluded"] == {"depth_cm": {"range": 3}}
    sensor = feed(health, readings)
    assert [(f.hazard.value, f.rule, f.grade.value) for f in sensor] == [
        ("sensor", "quality", "blue"),
        ("sensor", "quality", "none"),
    ]


def test_excluded_rain_is_not_counted_and_the_evidence_says_so() -> None:
    spec = station(Kind.RAIN, "R1", interval_s=300.0)
    out = feed(
        RainDetector(spec, rules(spec)),
        [reading(spec, 300.0, 1, rain_mm=0.0), reading(spec, 600.0, 2, rain_mm=250.0),
         reading(spec, 900.0, 3, rain_mm=21.0)],
    )  # fmt: skip
    assert changes(out, "short_heavy_rain")[-1][2:] == ("blue", 21.0, 20.0)  # not 271 mm: orange
    assert out[-1].evidence["excluded"] == {"rain_mm": {"range": 1}}
