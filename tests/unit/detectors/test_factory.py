"""build_detectors: one object per detector class per station, a silence watch, loud misses."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import detectors
from detectors import (
    DETECTOR_CLASSES,
    REGISTRY,
    AnomalyDetector,
    Detector,
    IntensityDetector,
    LadderDetector,
    QualityDetector,
    RainDetector,
    SilenceDetector,
    StaLtaDetector,
    build_detectors,
)
from detectors.station import StationDetector
from tests.unit.detectors.helpers import BOOK, rules, station
from yujing.contracts import ConfigError, Finding, Hazard, Kind, Reading


@pytest.mark.parametrize(
    ("kind", "classes", "graded"),
    [
        (Kind.RAIN, [RainDetector], ["rainstorm", "short_heavy_rain"]),
        (
            Kind.WATER_LEVEL,
            [LadderDetector, AnomalyDetector, QualityDetector],  # anomaly judges no quality
            ["level", "level_rise", "level_ahead"],
        ),
        (Kind.PONDING, [LadderDetector], ["depth", "depth_rise"]),
        (
            Kind.GAS,
            [LadderDetector, AnomalyDetector, QualityDetector],
            ["ch4", "ch4_rise"],
        ),
        (
            Kind.CHEM,
            [LadderDetector],
            ["nh3", "cl2", "h2s", "tank_pressure", "tank_temperature", "runaway"],
        ),
        # seismic: no quality specs, and packets are not held, so a watch of its own
        (Kind.SEISMIC, [IntensityDetector, StaLtaDetector, SilenceDetector], ["intensity"]),
    ],
)
def test_each_kind_gets_its_detectors_and_one_silence_and_quality_report(
    kind: Kind, classes: list[type], graded: list[str]
) -> None:
    spec = station(kind)
    built = build_detectors(spec, rules(spec))
    assert [type(d) for d in built] == classes  # the last hazard detector reports health
    assert all(isinstance(d, Detector) for d in built)
    hazard_detector = built[0]
    assert isinstance(hazard_detector, (RainDetector, LadderDetector, IntensityDetector))
    assert [r.rule for r in hazard_detector.rules] == graded


def _feed(built: list[Detector], readings: list[Reading], ticks: list[float]) -> list[Finding]:
    out: list[Finding] = []
    for reading in readings:
        for tick in [t for t in ticks if t <= reading.ts]:
            ticks.remove(tick)
            for detector in built:
                out.extend(detector.advance(tick))
        for detector in built:
            out.extend(detector.update(reading))
    for tick in ticks:  # the clock goes on after the last reading
        for detector in built:
            out.extend(detector.advance(tick))
    return out


@pytest.mark.parametrize(
    ("kind", "quantity", "separate"),
    [
        (Kind.PONDING, "depth_cm", [LadderDetector]),
        (Kind.GAS, "ch4_pct_lel", [LadderDetector, AnomalyDetector]),
    ],
)
def test_a_hazard_detector_reporting_health_says_what_separate_health_detectors_said(
    kind: Kind, quantity: str, separate: list[type[StationDetector]]
) -> None:
    """A gauge that goes silent, comes back, reads out of its span for a while, recovers and
    goes silent again: the detectors the factory builds give the same findings, in the same
    order, as the hazard detectors followed by their own silence and quality detectors."""
    spec = station(kind)
    values = [2.0, 5.0, 12.0, 30.0, 40.0] + [999.0] * 6 + [35.0, 20.0, 8.0, 3.0, 2.0, 2.0, 2.0]
    times = [60.0 * i for i in range(4)] + [900.0 + 60.0 * i for i in range(len(values) - 4)]
    readings = [
        Reading(spec.id, kind, spec.district, ts, seq, {quantity: value})
        for seq, (ts, value) in enumerate(zip(times, values, strict=True), 1)
    ]
    ticks = [60.0 * k for k in range(1, 60)]
    folded = build_detectors(spec, rules(spec))
    assert SilenceDetector not in {type(d) for d in folded}
    unfolded: list[Detector] = [cls(spec, rules(spec, cls)) for cls in separate]
    unfolded += [SilenceDetector(spec, rules(spec)), QualityDetector(spec, rules(spec))]
    said = _feed(folded, readings, list(ticks))
    assert [(f.rule, f.grade.value) for f in said if f.hazard is Hazard.SENSOR] == [
        ("silence", "blue"),
        ("silence", "none"),
        ("quality", "blue"),
        ("quality", "none"),
        ("silence", "blue"),  # the clock goes on after the last reading
    ]
    for cut in (600.0, 1100.0, 1500.0):  # silent, suspect, after: health state in snapshots
        first = build_detectors(spec, rules(spec))
        before = _feed(first, [r for r in readings if r.ts < cut], [t for t in ticks if t < cut])
        second = build_detectors(spec, rules(spec))
        for detector, saved in zip(second, first, strict=True):
            detector.restore(json.loads(json.dumps(saved.snapshot())))
        rest = [r for r in readings if r.ts >= cut]
        assert before + _feed(second, rest, [t for t in ticks if t >= cut]) == said
    assert said == _feed(unfolded, readings, list(ticks))


def test_every_configured_station_rule_has_a_detector() -> None:
    # rules without a sensor kind belong to the second tier (detectors.tier2)
    assert {(r.hazard, r.rule) for r in BOOK.rules.values() if r.kind is not None} <= set(REGISTRY)


def test_a_rule_no_detector_serves_is_a_config_error() -> None:
    spec = station(Kind.WATER_LEVEL)
    level = next(r for r in rules(spec) if r.rule == "level")
    rise = replace(level, ladder=replace(level.ladder, rule="rise_rate"))
    with pytest.raises(ConfigError, match="no detector serves rule 'rise_rate' of hazard 'flood'"):
        build_detectors(spec, [level, rise])


def test_the_contract_suite_covers_every_class_the_factory_returns() -> None:
    assert set(REGISTRY.values()) | {SilenceDetector, QualityDetector} == set(DETECTOR_CLASSES)


def test_public_names() -> None:
    assert sorted(detectors.__all__) == sorted(
        name for name in detectors.__all__ if hasattr(detectors, name)
    )
    assert "build_detectors" in detectors.__all__ and "Detector" in detectors.__all__
