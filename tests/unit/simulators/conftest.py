"""Fixtures: the shipped demo registry, scenario, ladders, limits, and one generated demo run
(the rain lead-in plus the first 900 scenario s = the first 90 wall s at ×10)."""

from __future__ import annotations

import pytest

from simulators import DEMO_REGISTRY, DEMO_SCENARIO, Scenario, SensorSimulator, load_scenario
from simulators.generator import SimMessage
from tests.unit.simulators.helpers import REPO, START, series
from yujing.config import LadderBook, QuantityLimits, Registry, load_ladders, load_quantities
from yujing.config.stations import load_registry

DEMO_WINDOW_S = 900.0


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(DEMO_REGISTRY)


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return load_scenario(DEMO_SCENARIO)


@pytest.fixture(scope="session")
def ladders() -> LadderBook:
    return load_ladders(REPO / "configs" / "ladders")


@pytest.fixture(scope="session")
def limits() -> QuantityLimits:
    return load_quantities(REPO / "configs" / "quantities.yaml")


@pytest.fixture(scope="session")
def simulator(registry: Registry, scenario: Scenario) -> SensorSimulator:
    return SensorSimulator(registry, scenario, 7, START)


@pytest.fixture(scope="session")
def demo_messages(simulator: SensorSimulator) -> list[SimMessage]:
    return simulator.stream(simulator.first_ts, START + DEMO_WINDOW_S)


@pytest.fixture(scope="session")
def demo_series(
    demo_messages: list[SimMessage],
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    return series(demo_messages)
