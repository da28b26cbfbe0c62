"""build_detectors: one object per detector class per station, a silence watch, loud misses."""

from __future__ import annotations

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
from tests.unit.detectors.helpers import BOOK, rules, station
from yujing.contracts import ConfigError, Kind


@pytest.mark.parametrize(
    ("kind", "classes", "graded"),
    [
        (Kind.RAIN, [RainDetector], ["rainstorm", "short_heavy_rain"]),
        (
            Kind.WATER_LEVEL,
            [LadderDetector, AnomalyDetector],
            ["level", "level_rise", "level_ahead"],
        ),
        (Kind.PONDING, [LadderDetector], ["depth", "depth_rise"]),
        (Kind.GAS, [LadderDetector, AnomalyDetector], ["ch4", "ch4_rise"]),
        (
            Kind.CHEM,
            [LadderDetector],
            ["nh3", "cl2", "h2s", "tank_pressure", "tank_temperature", "runaway"],
        ),
        (Kind.SEISMIC, [IntensityDetector, StaLtaDetector], ["intensity"]),
    ],
)
def test_each_kind_gets_its_detectors_and_one_silence_and_quality_watch(
    kind: Kind, classes: list[type], graded: list[str]
) -> None:
    spec = station(kind)
    built = build_detectors(spec, rules(spec))
    health = [SilenceDetector] + ([QualityDetector] if kind is not Kind.SEISMIC else [])
    assert [type(d) for d in built] == [*classes, *health]  # seismic: no quality specs
    assert all(isinstance(d, Detector) for d in built)
    hazard_detector = built[0]
    assert isinstance(hazard_detector, (RainDetector, LadderDetector, IntensityDetector))
    assert [r.rule for r in hazard_detector.rules] == graded


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
