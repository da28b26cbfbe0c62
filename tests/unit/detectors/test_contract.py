"""The Detector contract (detectors/base.py), checked for every class build_detectors returns."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable

import numpy as np
import pytest

from detectors import (
    DETECTOR_CLASSES,
    AnomalyDetector,
    Detector,
    IntensityDetector,
    LadderDetector,
    QualityDetector,
    RainDetector,
    SilenceDetector,
    StaLtaDetector,
)
from detectors.station import StationDetector
from tests.unit.detectors.docs import class_doc, module_doc
from tests.unit.detectors.helpers import Event, packet, play, reading, rules, station
from yujing.contracts import Finding, Grade, Kind, Reading

Example = tuple[Callable[[], Detector], list[Event]]


def _rain() -> Example:
    spec = station(Kind.RAIN, "R1", interval_s=300.0)
    storm = [0.4] * 20 + [3.0] * 30 + [0.0] * 60
    events: list[Event] = []
    for i, mm in enumerate(storm, start=1):
        events.append(("r", reading(spec, 300.0 * i, i, rain_mm=mm)))
        if i % 7 == 0:
            events.append(("t", 300.0 * i + 120.0))
    return (lambda: RainDetector(spec, rules(spec))), events


def _ladder() -> Example:
    spec = station(Kind.CHEM, "C1", interval_s=30.0)
    events: list[Event] = []
    for i in range(120):
        nh3 = 60.0 * max(0.0, math.sin(i / 12.0))
        temp = 20.0 + 0.8 * min(max(i - 60, 0), 30)  # a runaway: 1.6 °C/min from i = 60
        values = {"nh3_ppm": nh3, "pressure_kpa": 280.0 + i, "temp_c": temp}
        events.append(("r", Reading(spec.id, spec.kind, spec.district, 30.0 * i, i, values)))
        if i % 10 == 9:
            events.append(("t", 30.0 * i + 5.0))
    return (lambda: LadderDetector(spec, rules(spec))), events


def _intensity() -> Example:
    spec = station(Kind.SEISMIC, "Q1", interval_s=1.0)
    rng = np.random.default_rng(4)
    events: list[Event] = []
    for second in range(100):
        for channel in ("HNN", "HNE"):
            amplitude = 0.004 + 1.5 * math.exp(-abs(second - 20) / 8.0)
            samples = amplitude * rng.uniform(-1, 1, 100)
            events.append(("r", packet(spec, channel, 1000.0 + second, samples, second)))
        events.append(("t", 1000.0 + second + 1.2))
    return (lambda: IntensityDetector(spec, rules(spec, IntensityDetector))), events


def _silence() -> Example:
    spec = station(Kind.GAS, "G1", interval_s=10.0)
    events: list[Event] = [("t", 0.0)]
    seq = 0
    for start, stop in ((100, 300), (500, 700), (1000, 1100)):
        for ts in range(start, stop, 10):
            seq += 1
            events.append(("r", reading(spec, float(ts), seq, ch4_pct_lel=1.0)))
            events.append(("t", ts + 5.0))
        for ts in range(stop, stop + 150, 10):
            events.append(("t", float(ts)))
    return (lambda: SilenceDetector(spec, rules(spec))), events


def _trigger() -> Example:
    spec = station(Kind.SEISMIC, "Q2", interval_s=1.0)
    rng = np.random.default_rng(8)
    events: list[Event] = []
    for second in range(70):
        samples = rng.normal(size=100)
        if second in (30, 31, 50):
            samples *= 30.0  # two onsets
        if second == 60:
            samples[:] = 0.0  # a dead second: the channel warms up again
        events.append(("r", packet(spec, "HHZ", 500.0 + second, samples, second)))
        events.append(("t", 500.0 + second + 1.2))
    return (lambda: StaLtaDetector(spec, rules(spec, StaLtaDetector))), events


def _quality() -> Example:
    spec = station(Kind.GAS, "G9", interval_s=600.0)
    events: list[Event] = []
    for i in range(70):
        value = 7.0 if i < 40 else 7.0 + 0.1 * (i % 3)  # stuck for > 6 h, then alive
        if 50 <= i < 60:
            value = 120.0 if i % 2 else 7.1  # out of span every other reading: persistent
        events.append(("t", 600.0 * i + 30.0))
        events.append(("r", reading(spec, 600.0 * i, i, ch4_pct_lel=value)))
    return (lambda: QualityDetector(spec, rules(spec))), events


def _anomaly() -> Example:
    spec = station(Kind.GAS, "G8", interval_s=300.0)
    rng = np.random.default_rng(12)
    events: list[Event] = []
    for i in range(1300):
        daily = 400.0 + 20.0 * math.sin(2 * math.pi * i / 288)  # 5-min steps, a daily cycle
        pressure = daily + rng.normal(0.0, 1.0)
        if i in (1150, 1151, 1152, 1250):
            pressure -= 80.0  # a drop: a rupture, or a valve
        events.append(("r", reading(spec, 300.0 * i, i, pressure_kpa=pressure)))
        if i % 48 == 47:
            events.append(("t", 300.0 * i + 10.0))
    return (lambda: AnomalyDetector(spec, rules(spec, AnomalyDetector))), events


EXAMPLES: dict[type, Callable[[], Example]] = {
    AnomalyDetector: _anomaly,
    RainDetector: _rain,
    LadderDetector: _ladder,
    IntensityDetector: _intensity,
    StaLtaDetector: _trigger,
    SilenceDetector: _silence,
    QualityDetector: _quality,
}


def test_every_detector_class_has_an_example() -> None:
    assert set(EXAMPLES) == set(DETECTOR_CLASSES)


@pytest.fixture(params=DETECTOR_CLASSES, ids=lambda cls: cls.__name__)
def example(request: pytest.FixtureRequest) -> Example:
    return EXAMPLES[request.param]()


def _readings(events: list[Event]) -> list[Reading]:
    return [item for what, item in events if what == "r"]


def test_the_example_is_not_trivial(example: Example) -> None:
    make, events = example
    findings = play(make(), events)
    assert len(findings) >= 3
    assert len({f.grade for f in findings}) >= 2


def test_input_is_not_mutated(example: Example) -> None:
    make, events = example
    readings = _readings(events)
    values = [dict(r.values) for r in readings]
    samples = [None if r.waveform is None else r.waveform.samples.copy() for r in readings]
    detector = make()
    assert isinstance(detector, StationDetector)
    station_before = copy.deepcopy(detector.station)
    play(detector, events)
    assert [dict(r.values) for r in readings] == values
    for r, before in zip(readings, samples, strict=True):
        if before is not None:
            assert r.waveform is not None and np.array_equal(r.waveform.samples, before)
    assert detector.station == station_before


@pytest.mark.parametrize("cut", [0.1, 0.35, 0.5, 0.8])
def test_snapshot_restore_mid_stream_changes_nothing(example: Example, cut: float) -> None:
    make, events = example
    whole = make()
    expected = play(whole, events)
    first = make()
    split = int(len(events) * cut)
    before = play(first, events[:split])
    text = json.dumps(first.snapshot(), allow_nan=False)  # plain JSON, no NaN/inf
    second = make()
    second.restore(json.loads(text))
    after = play(second, events[split:])
    assert before + after == expected
    assert second.snapshot() == whole.snapshot()


def test_snapshot_is_plain_json(example: Example) -> None:
    make, events = example
    detector = make()
    play(detector, events[: len(events) // 2])
    snap = detector.snapshot()
    assert json.loads(json.dumps(snap, allow_nan=False)) == snap


def test_duplicate_seq_is_ignored(example: Example) -> None:
    make, events = example
    expected = play(make(), events)
    doubled: list[Event] = []
    recent: list[Event] = []
    for event in events:
        doubled.append(event)
        if event[0] == "r":
            doubled.append(event)  # MQTT redelivery: at once
            recent = [*recent[-4:], event]
            if len(recent) == 5 and event[1].seq % 9 == 0:
                doubled.extend(recent)  # a replay of the last few after a restart
    assert play(make(), doubled) == expected


def test_no_none_before_the_first_reading(example: Example) -> None:
    make, events = example
    detector = make()
    first_ts = _readings(events)[0].ts
    early = [detector.advance(first_ts - 10_000.0 + k * 500.0) for k in range(10)]
    assert all(f.grade is not Grade.NONE for out in early for f in out)
    snap = detector.snapshot()
    assert {r["grade"] for r in snap["rules"].values()} <= {"unknown"}


def test_findings_are_state_changes_only(example: Example) -> None:
    make, events = example
    last: dict[tuple[str, str], Grade] = {}
    for f in play(make(), events):
        key = (f.hazard.value, f.rule)
        assert last.get(key) is not f.grade, f"repeated {f.grade} for {key}"
        last[key] = f.grade
        _check_finding(f)


def _check_finding(f: Finding) -> None:
    json.dumps(dict(f.evidence), allow_nan=False)
    assert f.message
    assert f.area == f.station
    if f.grade.is_warning and f.hazard.value != "sensor":
        assert f.value is not None and f.threshold is not None and f.value >= f.threshold
    if f.grade in (Grade.NONE, Grade.UNKNOWN):
        assert f.threshold is None


@pytest.mark.parametrize("cls", DETECTOR_CLASSES, ids=lambda cls: cls.__name__)
def test_module_documents_itself_with_a_doctest(cls: type) -> None:
    doc = module_doc(cls.__module__)
    assert doc is not None and ">>>" in doc
    assert class_doc(cls)
