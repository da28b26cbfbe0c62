"""The demo scenario crosses the intended thresholds, read from the generated values and the
project's ladders (``configs/ladders``), within the first 900 scenario s (90 wall s at ×10),
and the stations no event touches stay below their lowest rungs."""

from __future__ import annotations

import math

import pytest

from simulators import Scenario, SensorSimulator, ground_truth
from tests.unit.simulators.helpers import first_reaching, window_totals
from yujing.config import LadderBook, Registry
from yujing.config.ladders import RuleSpec, resolve_for_station
from yujing.contracts import Grade, Hazard, Kind

Series = dict[tuple[str, str], list[tuple[float, float]]]

# (station, hazard, rule, grade, reached by scenario s): the demo's designed timeline
EXPECTED = [
    ("HD-RN-023", Hazard.RAINSTORM, "short_heavy_rain", Grade.BLUE, 300),
    ("HD-RN-023", Hazard.RAINSTORM, "rainstorm", Grade.ORANGE, 700),
    ("HD-RN-028", Hazard.RAINSTORM, "rainstorm", Grade.ORANGE, 700),
    ("HD-WL-001", Hazard.FLOOD, "level", Grade.BLUE, 250),
    ("HD-WL-001", Hazard.FLOOD, "level", Grade.YELLOW, 650),
    ("HD-PD-011", Hazard.PONDING, "depth", Grade.ORANGE, 600),
    ("HD-PD-011", Hazard.PONDING, "depth", Grade.RED, 800),
    ("HD-PD-006", Hazard.PONDING, "depth", Grade.ORANGE, 850),
    ("CY-GS-006", Hazard.GAS_LEAK, "ch4", Grade.ORANGE, 320),
    ("CY-GS-006", Hazard.GAS_LEAK, "ch4", Grade.RED, 500),
    ("CY-GS-005", Hazard.GAS_LEAK, "ch4", Grade.BLUE, 400),
    ("CY-CH-001", Hazard.TOXIC_GAS, "nh3", Grade.ORANGE, 420),
    ("CY-CH-001", Hazard.TOXIC_GAS, "nh3", Grade.RED, 620),
    ("CY-CH-002", Hazard.TOXIC_GAS, "nh3", Grade.ORANGE, 600),
    ("CY-CH-004", Hazard.TANK, "tank_pressure", Grade.ORANGE, 560),
    ("CY-CH-004", Hazard.TANK, "tank_pressure", Grade.RED, 740),
    ("CY-CH-004", Hazard.TANK, "tank_temperature", Grade.ORANGE, 620),
]
RAIN_WINDOWS_S = {
    "rain_1h_mm": 3600,
    "rain_3h_mm": 10800,
    "rain_6h_mm": 21600,
    "rain_12h_mm": 43200,
}


def values_for(series: Series, station: str, quantity: str) -> list[tuple[float, float]]:
    if quantity in RAIN_WINDOWS_S:
        return window_totals(series[(station, "rain_mm")], RAIN_WINDOWS_S[quantity])
    return series.get((station, quantity), [])


def rule_for(
    ladders: LadderBook, registry: Registry, hazard: Hazard, rule: str, station: str
) -> RuleSpec:
    spec = registry.get(station)
    assert spec is not None
    return resolve_for_station(ladders.get(hazard, rule), spec)


@pytest.mark.parametrize(("station", "hazard", "rule", "grade", "by_s"), EXPECTED)
def test_designed_grades_are_reached_in_time(
    demo_series: Series,
    ladders: LadderBook,
    registry: Registry,
    station: str,
    hazard: Hazard,
    rule: str,
    grade: Grade,
    by_s: float,
) -> None:
    ladder = rule_for(ladders, registry, hazard, rule, station).ladder
    rung = ladder.rung_for(grade)
    assert rung is not None
    reached = first_reaching(values_for(demo_series, station, ladder.quantity_of(rung)), rung.enter)
    assert reached is not None and 0.0 <= reached <= by_s, (station, grade, reached)


def test_every_family_warns_within_90_wall_seconds_and_some_go_red() -> None:
    families = {
        registry_kind
        for registry_kind in (Kind.RAIN, Kind.WATER_LEVEL, Kind.PONDING, Kind.GAS, Kind.CHEM)
    }
    prefixes = {
        "RN": Kind.RAIN,
        "WL": Kind.WATER_LEVEL,
        "PD": Kind.PONDING,
        "GS": Kind.GAS,
        "CH": Kind.CHEM,
    }
    covered = {prefixes[station.split("-")[1]] for station, *_ in EXPECTED}
    assert covered == families
    assert max(by for *_, by in EXPECTED) <= 900
    assert {station for station, _, _, grade, _ in EXPECTED if grade is Grade.RED} == {
        "HD-PD-011",
        "CY-GS-006",
        "CY-CH-001",
        "CY-CH-004",
    }


def intensity(pga_ms2: float, spec: RuleSpec) -> float:
    slope, intercept = spec.params["intensity_slope"], spec.params["intensity_intercept"]
    assert isinstance(slope, float) and isinstance(intercept, float)
    return slope * math.log10(pga_ms2) + intercept


def test_earthquake_shakes_near_stations_to_vii_and_far_ones_less(
    demo_series: Series, ladders: LadderBook, registry: Registry, scenario: Scenario
) -> None:
    spec = ladders.get(Hazard.EARTHQUAKE, "intensity")
    red = spec.ladder.rung_for(Grade.RED)
    blue = spec.ladder.rung_for(Grade.BLUE)
    assert red is not None and blue is not None
    quake = scenario.earthquakes[0]
    stations = sorted(
        registry.of_kind(Kind.SEISMIC), key=lambda s: quake.hypocentral_km(s.lat, s.lon)
    )
    peaks = {}
    for station in stations:
        horizontal = demo_series[(station.id, "HNN")] + demo_series[(station.id, "HNE")]
        arrival = quake.p_arrival_s(quake.hypocentral_km(station.lat, station.lon))
        before = max(peak for t, peak in horizontal if t + 1.0 <= arrival)
        assert intensity(before, spec) < blue.enter - 3  # quiet until the P wave arrives
        peaks[station.id] = max(peak for _, peak in horizontal)
    near, far = stations[0].id, stations[-1].id
    assert peaks[near] >= 1.4 and intensity(peaks[near], spec) >= red.enter
    assert intensity(peaks[far], spec) < red.enter - 1.0
    assert peaks[far] < peaks[near] / 3


def test_untouched_stations_stay_below_their_lowest_rungs(
    demo_series: Series, ladders: LadderBook, registry: Registry, simulator: SensorSimulator
) -> None:
    named = {
        row["station"] for event in ground_truth(simulator)["events"] for row in event["stations"]
    }
    checked = 0
    for spec in registry:
        if spec.id in named or spec.kind is Kind.SEISMIC:
            continue
        for rule in ladders.for_station(spec):
            ladder = rule.ladder
            for rung in ladder.rungs:
                values = values_for(demo_series, spec.id, ladder.quantity_of(rung))
                if not values:
                    continue  # a derived quantity (a rate of rise) is not on the wire
                assert max(v for _, v in values) < rung.enter, (spec.id, rung)
                checked += 1
    assert checked > 300


def test_far_rain_gauges_stay_dry_for_the_whole_storm(
    registry: Registry, scenario: Scenario, simulator: SensorSimulator
) -> None:
    import numpy as np

    from simulators.geo import distance_km
    from simulators.sources import RainSource

    core = scenario.storms[0].cells[-1]
    t = np.arange(-scenario.lead_in_for(Kind.RAIN), scenario.duration_s, 60.0)
    far = [
        s
        for s in registry.of_kind(Kind.RAIN)
        if distance_km(core.lat, core.lon, s.lat, s.lon) > 15.0
    ]
    assert len(far) > 40
    for spec in far:
        source = simulator.source(spec.id)
        assert isinstance(source, RainSource)
        depth = source.depth_mm(t)
        assert float(depth[-1]) < 50.0 and float(np.max(depth - source.depth_mm(t - 3600))) < 20


def test_the_storm_and_the_river_go_red_later(
    simulator: SensorSimulator, registry: Registry
) -> None:
    truth = {event["id"]: event for event in ground_truth(simulator)["events"]}
    core = next(r for r in truth["storm-1"]["stations"] if r["station"] == "HD-RN-023")
    assert core["peak_rain_3h_mm"] >= 100 and core["peak_rain_3h_s"] <= 3600
    river = next(r for r in truth["qinghe-flood"]["stations"] if r["station"] == "HD-WL-001")
    spec = registry.get("HD-WL-001")
    assert spec is not None and river["peak"] > float(spec.params["record_level_m"])
