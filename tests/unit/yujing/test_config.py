"""Config loading: the shipped configs load; each invalid case names file, line, key and value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from yujing.config import load_ladders, load_quantities, load_registry, load_settings
from yujing.contracts import ConfigError, Grade, Hazard, Kind

REPO = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_shipped_ladders_load_and_cite_sources() -> None:
    book = load_ladders(REPO / "configs" / "ladders")
    rain = book.get(Hazard.RAINSTORM, "rainstorm").ladder
    assert [(r.grade, r.quantity, r.enter) for r in rain.rungs] == [
        (Grade.BLUE, "rain_12h_mm", 50),
        (Grade.YELLOW, "rain_6h_mm", 50),
        (Grade.ORANGE, "rain_3h_mm", 50),
        (Grade.RED, "rain_3h_mm", 100),
    ]
    for spec in book.rules.values():
        assert len(spec.ladder.source) > 20, spec.rule


def test_station_relative_rungs_resolve_from_params(tmp_path: Path) -> None:
    book = load_ladders(REPO / "configs" / "ladders")
    registry = load_registry(
        write(
            tmp_path,
            "stations.yaml",
            """
            stations:
              - {id: W1, kind: water_level, district: d1, lat: 40, lon: 116, interval_s: 300,
                 params: {warning_level_m: 3.0, guaranteed_level_m: 4.0, record_level_m: 4.6}}
            """,
        )
    )
    rules = {r.rule: r for r in book.for_station(registry.stations["W1"])}
    level, ahead = rules["level"], rules["level_ahead"]
    assert [r.enter for r in level.ladder.rungs] == pytest.approx([2.7, 3.0, 4.0, 4.6])
    assert [r.enter for r in ahead.ladder.rungs] == pytest.approx([3.0, 4.0])


def test_station_missing_param_is_named(tmp_path: Path) -> None:
    book = load_ladders(REPO / "configs" / "ladders")
    registry = load_registry(
        write(
            tmp_path,
            "stations.yaml",
            """
            stations:
              - {id: W9, kind: water_level, district: d1, lat: 40, lon: 116, interval_s: 300}
            """,
        )
    )
    with pytest.raises(
        ConfigError, match="station W9: rule 'level' needs numeric param 'warning_level_m'"
    ):
        book.for_station(registry.stations["W9"])


def test_registry_error_names_file_line_key_and_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "stations.yaml",
        """
        stations:
          - id: R1
            kind: rain
            district: d1
            lat: 123.5
            lon: 116.3
            interval_s: 60
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_registry(path)
    assert str(info.value) == (
        f"{path}:5: stations[0].lat: Input should be less than or equal to 90 (value 123.5)"
    )


def test_registry_unknown_kind_and_duplicate_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """
        stations:
          - {id: R1, kind: snow, district: d1, lat: 40, lon: 116, interval_s: 60}
        """,
    )
    with pytest.raises(ConfigError, match=r"s.yaml:2: stations\[0\].kind: Input should be"):
        load_registry(path)
    path = write(
        tmp_path,
        "d.yaml",
        """
        stations:
          - {id: R1, kind: rain, district: d1, lat: 40, lon: 116, interval_s: 60}
          - {id: R1, kind: rain, district: d1, lat: 40, lon: 116, interval_s: 60}
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_registry(path)
    assert str(info.value) == (
        f"{path}:3: stations[1].id: duplicate station id 'R1' (first at stations[0])"
    )


def test_ladder_rungs_must_rise(tmp_path: Path) -> None:
    write(
        tmp_path,
        "ladders/rain.yaml",
        """
        hazard: rainstorm
        kind: rain
        rules:
          - rule: r
            quantity: rain_1h_mm
            source: project default
            rungs:
              - {grade: blue, enter: 50}
              - {grade: yellow, enter: 30}
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_ladders(tmp_path / "ladders")
    assert str(info.value) == (
        f"{tmp_path / 'ladders/rain.yaml'}:9: rules[0].rungs[1].enter: "
        "30 must be above rungs[0].enter (50)"
    )


def test_ladder_without_source_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "ladders/gas.yaml",
        """
        hazard: gas_leak
        kind: gas
        rules:
          - rule: ch4
            quantity: ch4_pct_lel
            rungs:
              - {grade: red, enter: 50}
        """,
    )
    with pytest.raises(ConfigError, match=r"gas.yaml:4: rules\[0\].source: Field required"):
        load_ladders(tmp_path / "ladders")


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "stations:\n  - {id: R1, kind: rain\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:3: invalid YAML"):
        load_registry(path)


def test_settings_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        "conf/yujing.yaml",
        """
        registry: stations.yaml
        mqtt: {url: "mqtt://10.1.1.1:1883"}
        metrics: {port: 9200}
        """,
    )
    monkeypatch.setenv("YUJING_METRICS__PORT", "9300")
    settings = load_settings(path)
    assert settings.registry == (tmp_path / "conf" / "stations.yaml").resolve()
    assert settings.mqtt.url == "mqtt://10.1.1.1:1883"
    assert settings.metrics.port == 9300


def test_settings_unknown_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "y.yaml", "mqtt:\n  urll: mqtt://x\n")
    with pytest.raises(ConfigError, match=r"y.yaml:2: mqtt.urll: Extra inputs are not permitted"):
        load_settings(path)


def test_quantities_load() -> None:
    limits = load_quantities(REPO / "configs" / "quantities.yaml")
    assert limits.for_kind(Kind.GAS)["ch4_pct_lel"].max == 100
