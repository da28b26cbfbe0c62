"""Scenario files: the demo loads and fits the registry; bad files fail with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators import DEMO_SCENARIO, Scenario, demo_scenario, load_scenario
from yujing.config import Registry
from yujing.contracts import ConfigError, Hazard, Kind

MINIMAL = """\
name: t
duration_s: 600
profiles:
  - id: leak
    hazard: gas_leak
    quantity: {quantity}
    added: {added}
    stations: [{{station: {station}}}]
"""


def write(
    tmp_path: Path,
    *,
    quantity: str = "ch4_pct_lel",
    added: str = "[[0, 0], [60, 30]]",
    station: str = "CY-GS-006",
) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(MINIMAL.format(quantity=quantity, added=added, station=station))
    return path


def test_demo_scenario_loads_and_fits_the_demo_registry(
    scenario: Scenario, registry: Registry
) -> None:
    scenario.check_against(registry)
    assert scenario.lead_in_for(Kind.RAIN) == 10800 and scenario.lead_in_for(Kind.GAS) == 0
    hazards = {p.hazard for p in scenario.profiles}
    assert hazards == {Hazard.PONDING, Hazard.GAS_LEAK, Hazard.TOXIC_GAS, Hazard.TANK}
    assert scenario.storms and scenario.rivers and scenario.earthquakes
    assert scenario.source == DEMO_SCENARIO
    assert demo_scenario() == scenario


def test_a_valid_minimal_file(tmp_path: Path, registry: Registry) -> None:
    loaded = load_scenario(write(tmp_path))
    loaded.check_against(registry)
    assert loaded.profiles[0].added.values == (0.0, 30.0)


def test_keyframe_times_must_increase(tmp_path: Path) -> None:
    path = write(tmp_path, added="[[60, 0], [0, 30]]")
    with pytest.raises(ConfigError, match=r"scenario.yaml:\d+: profiles\[0\]\.added: .*increase"):
        load_scenario(path)


def test_unknown_field_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: t\nduration_s: 60\nstorm: []\n")
    with pytest.raises(ConfigError, match=r"scenario.yaml:3: storm: Extra inputs"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("station", "quantity", "problem"),
    [
        ("NOPE-1", "ch4_pct_lel", "unknown station 'NOPE-1'"),
        ("HD-RN-001", "ch4_pct_lel", "station HD-RN-001 is rain, expected gas"),
        ("CY-GS-006", "co_ppm", "quantity 'co_ppm' is not one of"),
    ],
)
def test_check_against_the_registry(
    tmp_path: Path, registry: Registry, station: str, quantity: str, problem: str
) -> None:
    loaded = load_scenario(write(tmp_path, station=station, quantity=quantity))
    with pytest.raises(ConfigError, match="scenario.yaml: .*" + problem.replace("(", r"\(")):
        loaded.check_against(registry)
