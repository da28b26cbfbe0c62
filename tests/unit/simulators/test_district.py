"""The demo network: deterministic, loadable, realistic enough, ladders resolve."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from simulators import DEMO_REGISTRY, build_network, write_registry
from simulators.district import INTERVAL_S
from yujing.config import LadderBook, Registry
from yujing.config.stations import load_registry
from yujing.contracts import Kind


def test_same_seed_writes_the_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = write_registry(tmp_path / "a.yaml", seed=7).read_bytes()
    again = write_registry(tmp_path / "b.yaml", seed=7).read_bytes()
    other = write_registry(tmp_path / "c.yaml", seed=8).read_bytes()
    assert first == again
    assert first != other


def test_shipped_registry_is_the_seed_7_network(tmp_path: Path) -> None:
    assert write_registry(tmp_path / "stations.yaml", seed=7).read_bytes() == (
        DEMO_REGISTRY.read_bytes()
    )


def test_registry_loads_with_every_family_and_at_least_200_stations(registry: Registry) -> None:
    kinds = Counter(spec.kind for spec in registry)
    assert set(kinds) == set(Kind)
    assert sum(n for kind, n in kinds.items() if kind is not Kind.SEISMIC) >= 200
    assert kinds == {
        Kind.RAIN: 90,
        Kind.WATER_LEVEL: 26,
        Kind.PONDING: 22,
        Kind.GAS: 48,
        Kind.CHEM: 18,
        Kind.SEISMIC: 20,
    }
    assert registry.districts == ["chaoyang", "haidian"]


def test_another_seed_also_loads(tmp_path: Path) -> None:
    registry = load_registry(write_registry(tmp_path / "stations.yaml", seed=123))
    assert len(registry) == len(build_network(7))


def test_stations_lie_around_beijing_and_report_at_their_kind_interval(
    registry: Registry,
) -> None:
    for spec in registry:
        assert 39.75 <= spec.lat <= 40.15 and 116.13 <= spec.lon <= 116.67, spec
        assert spec.interval_s == INTERVAL_S[spec.kind]
        assert spec.district == ("haidian" if spec.lon < 116.40 else "chaoyang")


def test_neighbours_are_other_stations_of_the_same_kind(registry: Registry) -> None:
    for spec in registry:
        for other in spec.neighbours:
            neighbour = registry.get(other)
            assert neighbour is not None and neighbour.kind is spec.kind and other != spec.id


def test_river_levels_fall_downstream_and_rise_with_grade(registry: Registry) -> None:
    by_river: dict[str, list[tuple[float, float]]] = {}
    for spec in registry.of_kind(Kind.WATER_LEVEL):
        normal, warning, guaranteed, record = (
            float(spec.params[name])
            for name in (
                "normal_level_m",
                "warning_level_m",
                "guaranteed_level_m",
                "record_level_m",
            )
        )
        assert normal < warning - 0.3 < warning < guaranteed < record
        p = spec.params
        by_river.setdefault(str(p["river"]), []).append(
            (float(p["chainage_km"]), float(p["normal_level_m"]))
        )
    for points in by_river.values():
        levels = [level for _, level in sorted(points)]
        assert levels[0] > levels[-1]


def test_every_station_resolves_its_ladders(registry: Registry, ladders: LadderBook) -> None:
    for spec in registry:
        rules = {r.rule: r for r in ladders.for_station(spec)}
        assert rules, spec.id
        if spec.kind is Kind.WATER_LEVEL:
            enters = [r.enter for r in rules["level"].ladder.rungs]
            assert enters[1] == spec.params["warning_level_m"]
        if spec.kind is Kind.CHEM:
            expected = (
                {"tank_pressure", "tank_temperature", "runaway"}
                if "pressure_high_kpa" in spec.params
                else {str(spec.params["substance"])}
            )
            assert set(rules) == expected, spec.id
