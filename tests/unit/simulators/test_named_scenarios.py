"""The shipped scenarios: they load, fit their networks and carry the events they describe (in
the graded truth); the 7·20 storm's rain is the real gauges'; the quake replays to an officer
page inside the early-warning budget."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from simulators import SensorSimulator, load_scenario
from simulators.convert import BEIJING_SITES, beijing_0720_series
from simulators.episodes import GradedTruth, graded_truth
from simulators.scenario import scenario_registry
from tests.unit.simulators.helpers import REPO
from yujing.config import LadderBook, load_settings
from yujing.contracts import Grade, Hazard, Kind
from yujing.replay.driver import ReplayOptions
from yujing.replay.session import run_replay
from yujing.replay.wiring import REPLAY_SETTINGS

SCENARIOS = REPO / "configs" / "scenarios"


def truth_of(name: str, ladders: LadderBook) -> tuple[SensorSimulator, GradedTruth]:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    registry = scenario_registry(scenario)
    simulator = SensorSimulator(registry, scenario, scenario.run_seed, scenario.run_start)
    return simulator, graded_truth(simulator, ladders)


def grades(truth: GradedTruth, hazard: Hazard) -> Counter[Grade]:
    return Counter(e.grade for e in truth.episodes if e.key.hazard is hazard)


def test_beijing_0720_rain_is_the_real_gauges(datasets: Path) -> None:
    scenario = load_scenario(SCENARIOS / "beijing-0720.yaml")
    [field] = scenario.gauge_fields
    real = beijing_0720_series(datasets)
    assert [s.name for s in field.sites] == [name for name, *_ in BEIJING_SITES]
    for site in field.sites:
        hours = [b - a for a, b in zip(site.cumulative_mm.values, site.cumulative_mm.values[1:],
                                       strict=False)]  # fmt: skip
        expected = [v or 0.0 for v in real[site.name][: len(hours)]]
        assert hours == pytest.approx(expected, abs=1e-9), site.name
    assert max(max(v or 0 for v in series) for series in real.values()) == 30.4  # Gucheng


def test_beijing_0720_floods_the_city(ladders: LadderBook) -> None:
    simulator, truth = truth_of("beijing-0720", ladders)
    assert len(simulator.registry.of_kind(Kind.RAIN)) == 200
    assert grades(truth, Hazard.RAINSTORM)[Grade.ORANGE] >= 150  # 3 h totals over 50 mm
    assert grades(truth, Hazard.FLOOD)[Grade.RED] >= 1 and grades(truth, Hazard.PONDING)
    assert {f.kind.value for f in simulator.scenario.faults} == {
        "buffered_upload", "duplicate", "stuck"}  # fmt: skip


def test_mountain_storm_has_flash_floods_and_loses_a_gauge(ladders: LadderBook) -> None:
    simulator, truth = truth_of("mountain-flash-flood", ladders)
    scenario = simulator.scenario
    assert scenario.duration_s == 3 * 86400
    reds = {e.key.area for e in truth.episodes if e.key.hazard is Hazard.FLOOD
            and e.grade is Grade.RED and e.key.rule == "level"}  # fmt: skip
    assert {"MG-WL-01", "MG-WL-02", "MG-WL-03"} <= reds
    assert grades(truth, Hazard.RAINSTORM)[Grade.RED] > 10
    late = simulator.deliveries(simulator.start + 134_000, simulator.start + 140_000)
    lost = [m.ts for m in late if m.station == "MG-WL-02"]
    assert lost and max(lost) < simulator.start + 135_000  # destroyed at 135000 s
    assert max(m.ts for m in late if m.station == "MG-WL-01") > simulator.start + 135_000


def test_chemical_park_runaway_and_plume(ladders: LadderBook) -> None:
    simulator, truth = truth_of("chemical-park-leak", ladders)
    assert simulator.relief_s["receiver-5"] is not None
    tank = {(e.key.rule, e.grade) for e in truth.episodes if e.key.hazard is Hazard.TANK}
    assert {("tank_pressure", Grade.RED), ("tank_temperature", Grade.ORANGE)} <= tank
    reached = {e.key.area for e in truth.episodes if e.key.hazard is Hazard.TOXIC_GAS}
    assert reached == {"CY-CH-001", "CY-CH-002"}  # downwind of the vent; CY-CH-003 is not
    assert grades(truth, Hazard.GAS_LEAK)[Grade.RED] == 1  # the valve chamber


def test_the_benchmark_storm_is_the_size_the_issue_sets(ladders: LadderBook) -> None:
    scenario = load_scenario(SCENARIOS / "storm-24h-1600.yaml")
    registry = scenario_registry(scenario)
    rain = registry.of_kind(Kind.RAIN)
    assert len(rain) == len(registry) == 1600 and {s.interval_s for s in rain} == {60.0}
    assert scenario.duration_s == 86400  # 1,600 × 1,440 = 2,304,000 readings


def test_quake_replay_pages_officers_inside_the_budget() -> None:
    result = run_replay(SCENARIOS / "quake-network.yaml", load_settings(REPLAY_SETTINGS),
                        ReplayOptions(tick_s=1.0))  # fmt: skip
    assert result.scenario is not None and result.skill is not None
    origin = result.origin + result.scenario.earthquakes[0].origin_s
    pages = [
        r
        for r in result.records
        if r.officers and r.notice.hazard is Hazard.EARTHQUAKE and r.notice.grade.is_warning
    ]
    assert pages and pages[0].sent - origin <= 7.0  # DESIGN §4: ≤ 7 s after origin
    missed = {m.truth.key.area for m in result.skill.matches if not m.is_hit}
    assert missed == {"CY-SM-002"}  # offline through the event; the destroyed one warned first
    assert result.stats.rejected["duplicate"] == 300  # CY-SM-005's doubled packets
