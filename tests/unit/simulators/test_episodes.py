"""Graded truth: crossings of each rung of the station's own ladder, from the noise-free model,
interpolated between grid points; episodes end when the true value falls below the rung; rain
truth is the rain that fell, not what a mis-calibrated gauge caught."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest

from simulators import Scenario, SensorSimulator, demo_registry
from simulators.episodes import graded_truth
from simulators.models import Keyframes, Profile, ProfileStation, RainCell
from simulators.network import merge_registries
from simulators.scenario import Storm
from simulators.sources import RainSource
from tests.unit.simulators.helpers import START
from yujing.config import LadderBook
from yujing.contracts import AlertKey, Grade, Hazard, Kind


def world(**events: object) -> SensorSimulator:
    registry = merge_registries([s for s in demo_registry() if s.id in ("CY-GS-006", "HD-RN-023")])
    scenario = Scenario("t", "", 3600.0, MappingProxyType({}), **events)  # type: ignore[arg-type]
    return SensorSimulator(registry, scenario, 7, START)


def test_gas_crossings_are_interpolated_and_episodes_close(ladders: LadderBook) -> None:
    leak = Profile("p", Hazard.GAS_LEAK, "ch4_pct_lel",
                   Keyframes((100.0, 1100.0, 2000.0, 2600.0), (0.0, 100.0, 100.0, 0.0)),
                   (ProfileStation("CY-GS-006"),))  # fmt: skip
    truth = graded_truth(world(profiles=(leak,)), ladders)
    key = AlertKey("CY-GS-006", Hazard.GAS_LEAK, "ch4")
    episodes = {e.grade: e for e in truth.episodes if e.key == key}
    assert set(episodes) == {Grade.BLUE, Grade.ORANGE, Grade.RED}  # the ladder's rungs
    assert truth.grades[key] == (Grade.BLUE, Grade.ORANGE, Grade.RED)
    # background 0.5 %LEL + ramp 0.1 %LEL/s from 100 s: 10 %LEL at 195 s, 50 at 595 s
    assert episodes[Grade.BLUE].start - START == pytest.approx(195.0, abs=0.01)
    assert episodes[Grade.RED].start - START == pytest.approx(595.0, abs=0.01)
    assert episodes[Grade.RED].end - START == pytest.approx(2300.0, abs=10.0)  # below 50 again
    assert episodes[Grade.RED].peak == pytest.approx(100.5)
    assert key in truth.keys and AlertKey("HD-RN-023", Hazard.RAINSTORM, "rainstorm") in truth.keys


def test_rain_truth_is_what_fell(ladders: LadderBook) -> None:
    cell = RainCell(39.975, 116.30, 4.5, Keyframes((0.0, 1800.0, 3600.0), (0.0, 120.0, 0.0)))
    simulator = world(storms=(Storm("s", (cell,)),))
    source = simulator.source("HD-RN-023")
    assert isinstance(source, RainSource) and source.catch_factor != 1.0
    truth = graded_truth(simulator, ladders)
    key = AlertKey("HD-RN-023", Hazard.RAINSTORM, "short_heavy_rain")
    [blue] = [e for e in truth.episodes if e.key == key and e.grade is Grade.BLUE]
    t = blue.start - START
    fell = source.true_depth_mm(np.array([t])) - source.true_depth_mm(np.array([t - 3600.0]))
    assert float(fell[0]) == pytest.approx(20.0, abs=0.05)  # the 1 h total crosses 20 mm
    assert simulator.registry.get("HD-RN-023").kind is Kind.RAIN  # type: ignore[union-attr]
