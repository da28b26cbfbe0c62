"""Scenario files are validated with errors that name the file, the line and the key path (or
the event and the station), for every model and fault the schema adds."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators import demo_registry, load_scenario
from simulators.scenario import scenario_registry
from yujing.contracts import ConfigError

HEAD = "name: t\nduration_s: 600\n"


def load(tmp_path: Path, body: str) -> object:
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + body)
    return load_scenario(path)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "storms:\n  - id: s\n    cells:\n      - {lat: 39.9, lon: 116.3, sigma_km: 3}\n",
            r"scenario.yaml:6: storms\[0\]\.cells\[0\]: Value error, give exactly one of "
            r"intensity_mm_h",
        ),
        (
            "storms:\n  - id: s\n    cells:\n      - lat: 39.9\n        lon: 116.3\n"
            "        sigma_km: 3\n        design: {idf: {a_mm_min: 12, c: 0.8, b_min: 8, "
            "n: 0.7}, return_period_years: 0.5, duration_min: 60}\n",
            r"storms\[0\]\.cells\[0\]\.design\.return_period_years: Input should be greater "
            r"than or equal to 1",
        ),
        (
            "faults:\n  - {type: buffered_upload, station: X, from_s: 10}\n",
            r"scenario.yaml:4: faults\[0\]: Value error, buffered_upload needs from_s and to_s",
        ),
        (
            "faults:\n  - {type: melt, station: X}\n",
            r"faults\[0\]\.type: Input should be 'dropout', 'destroyed'",
        ),
        (
            "faults:\n  - {type: spike, station: X, value: 5}\n",
            r"spike needs at_s",
        ),
        (
            "leaks:\n  - {id: l, hazard: gas_leak, quantity: ch4_pct_lel, at_station: A, lat: 1,"
            " lon: 2, rate_g_s: [[0, 1]], wind: {speed_m_s: 2, from_deg: 0}}\n",
            r"leaks\[0\]: Value error, give the leak's place as at_station or as lat and lon",
        ),
        (
            "leaks:\n  - {id: l, hazard: gas_leak, quantity: co_ppm, at_station: A, "
            "rate_g_s: [[0, 1]], wind: {speed_m_s: 2, from_deg: 0}}\n",
            r"leaks\[0\]\.quantity: Value error, 'co_ppm' is not one of",
        ),
        ("start: 2016-07-19T00:00:00\n", r"start: Value error, start needs a UTC offset"),
        ("network: {}\n", r"network: Value error, give registry"),
        (
            "basins:\n  - {id: b, lat: 39.9, lon: 116.3, radius_km: 5, area_km2: 50, "
            "runoff_coeff: 1.5, k_s: 3600, gauges: [{station: W, warning_q_m3s: 10}]}\n",
            r"basins\[0\]\.runoff_coeff: Input should be less than or equal to 1",
        ),
    ],
)
def test_invalid_files(tmp_path: Path, body: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load(tmp_path, body)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("faults:\n  - {type: dropout, station: NOPE}\n", "faults dropout: unknown station 'NOPE'"),
        (
            "faults:\n  - {type: drift, station: HD-SM-007, value: 1}\n",
            "faults drift: station HD-SM-007 is seismic; drift needs scalar values",
        ),
        (
            "basins:\n  - {id: b, lat: 39.9, lon: 116.3, radius_km: 5, area_km2: 50, "
            "runoff_coeff: 0.5, k_s: 3600, gauges: [{station: HD-RN-001, warning_q_m3s: 10}]}\n",
            "b: station HD-RN-001 is rain, expected water_level",
        ),
        (
            "underpasses:\n  - {station: CY-GS-001, catchment_m2: 1, drain_m3s: 1, sag_m2: 1}\n",
            "underpasses: station CY-GS-001 is gas, expected ponding",
        ),
        (
            "runaways:\n  - {id: r, station: CY-CH-001, onset_s: 0, relief_kpa: 1600}\n",
            "runaways r: station CY-CH-001 lacks param temp_normal_c",
        ),
        (
            "leaks:\n  - {id: l, hazard: toxic_gas, quantity: nh3_ppm, at_station: CY-CH-004, "
            "after_relief_of: nope, rate_g_s: [[0, 1]], wind: {speed_m_s: 2, from_deg: 0}}\n",
            "leaks l: after_relief_of 'nope' is not a runaway of this scenario",
        ),
    ],
)
def test_files_that_do_not_fit_the_network(tmp_path: Path, body: str, problem: str) -> None:
    scenario = load(tmp_path, body)
    with pytest.raises(ConfigError, match="scenario.yaml: " + problem):
        scenario.check_against(demo_registry())  # type: ignore[attr-defined]


def test_a_generated_network_merges_with_a_registry_and_names_clashes(tmp_path: Path) -> None:
    (tmp_path / "extra.yaml").write_text(
        "stations:\n- {id: RN-0001, kind: rain, district: d, lat: 39.9, lon: 116.3, "
        "interval_s: 60}\n"
    )
    scenario = load(tmp_path, "network:\n  registry: extra.yaml\n  generate:\n    rain: "
                    "{count: 4, south: 39.8, north: 40, west: 116.2, east: 116.5}\n")  # fmt: skip
    with pytest.raises(ConfigError, match="station id 'RN-0001' is given twice"):
        scenario_registry(scenario)  # type: ignore[arg-type]
    (tmp_path / "extra.yaml").write_text(
        "stations:\n- {id: W1, kind: water_level, district: d, lat: 39.9, lon: 116.3, "
        "interval_s: 300, params: {normal_level_m: 1, warning_level_m: 2}}\n"
    )
    registry = scenario_registry(load(tmp_path, "network:\n  registry: extra.yaml\n  generate:"
                                      "\n    rain: {count: 4, south: 39.8, north: 40, west: "
                                      "116.2, east: 116.5}\n"))  # type: ignore[arg-type]  # fmt: skip
    assert sorted(registry.stations) == ["RN-0001", "RN-0002", "RN-0003", "RN-0004", "W1"]
