"""Tuning: grid parsing and its errors, parameters applied to a ladder book, the Pareto front,
a real sweep over a small scenario, and the chosen ladder written back and loadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.replay.helpers import REPO, replay_settings, write_world
from yujing.config import load_ladders
from yujing.config.ladders import load_ladder_file
from yujing.contracts import ConfigError, Grade, Hazard
from yujing.replay.driver import ReplayOptions
from yujing.replay.tuning import (
    TuneResult,
    apply_params,
    pareto_front,
    parse_grid,
    run_grid,
    write_ladders,
)

LADDERS = REPO / "configs" / "ladders"


def test_parse_grid() -> None:
    enter, dwell, param = parse_grid([
        "gas_leak/ch4.orange.enter=20,25",
        "rainstorm/short_heavy_rain.blue.min_dwell_s=900, 1800",
        "flood/level.params.rise_window_s=600",
    ])  # fmt: skip
    assert (enter.hazard, enter.rule, enter.grade, enter.field) == (
        Hazard.GAS_LEAK, "ch4", Grade.ORANGE, "enter")  # fmt: skip
    assert dwell.values == (900.0, 1800.0) and param.grade is None
    assert enter.name == "gas_leak/ch4.orange.enter"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("gas_leak/ch4.orange=20", "expected <hazard>/<rule>"),
        ("gas_leak/ch4.orange.enter", "expected <hazard>/<rule>"),
        ("volcano/ash.red.enter=1", "'volcano' is not a valid Hazard"),
        ("gas_leak/ch4.red.enter=", "no values"),
        ("gas_leak/ch4.red.enter=a", "could not convert"),
    ],
)
def test_parse_grid_errors(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_grid([text])


def test_apply_params() -> None:
    book = load_ladders(LADDERS)
    [enter, level] = parse_grid(["gas_leak/ch4.orange.enter=20", "flood/level.yellow.offset=-0.2"])
    tuned = apply_params(book, {enter: 20.0, level: -0.2})
    rung = tuned.get(Hazard.GAS_LEAK, "ch4").ladder.rung_for(Grade.ORANGE)
    assert rung is not None and rung.enter == 20.0
    assert tuned.get(Hazard.FLOOD, "level").relative[Grade.YELLOW] == ("warning_level_m", -0.2)
    assert book.get(Hazard.GAS_LEAK, "ch4").ladder.rung_for(Grade.ORANGE).enter == 25.0  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="no yellow rung"):
        apply_params(book, {parse_grid(["gas_leak/ch4.yellow.enter=1"])[0]: 1.0})
    with pytest.raises(ConfigError, match="relative; tune its offset"):
        apply_params(book, {parse_grid(["flood/level.yellow.enter=1"])[0]: 1.0})


def test_pareto_front() -> None:
    def result(pod_hits: int, fa: int, lead: float | None) -> TuneResult:
        return TuneResult((("x", 1.0),), pod_hits, 10 - pod_hits, fa, lead, None)

    results = [result(10, 5, 30.0), result(8, 0, 60.0), result(8, 1, 60.0), result(10, 5, -10.0)]
    assert pareto_front(results) == [1, 3]  # 0 is later than 3; 2 has more false alarms than 1


def test_a_sweep_over_a_scenario_and_the_ladder_written_back(tmp_path: Path) -> None:
    world = write_world(tmp_path, duration=900.0, faults="")
    replay_settings(tmp_path)
    params = parse_grid(["gas_leak/ch4.blue.enter=4,10", "gas_leak/ch4.orange.enter=25"])
    results = run_grid(
        [world], params, settings_path=tmp_path / "replay.yaml",
        options=ReplayOptions(tick_s=30.0), jobs=1,
    )  # fmt: skip
    assert [r.setting for r in results] == [
        (("gas_leak/ch4.blue.enter", 4.0), ("gas_leak/ch4.orange.enter", 25.0)),
        (("gas_leak/ch4.blue.enter", 10.0), ("gas_leak/ch4.orange.enter", 25.0)),
    ]
    low, high = results
    assert low.error is None and high.error is None and low.hits >= 3
    assert low.lead_median_s is not None and high.lead_median_s is not None
    assert low.lead_median_s < high.lead_median_s  # warning at 4 %LEL comes earlier
    out = write_ladders(LADDERS, params, low, tmp_path / "gas.tuned.yaml", "test sweep")
    assert out == [tmp_path / "gas.tuned.yaml"]
    written = {s.rule: s for s in load_ladder_file(out[0])}
    assert written["ch4"].ladder.rung_for(Grade.BLUE).enter == 4.0  # type: ignore[union-attr]
    assert written["ch4"].ladder.source == load_ladders(LADDERS).get(
        Hazard.GAS_LEAK, "ch4").ladder.source  # fmt: skip
    assert out[0].read_text().startswith("# Tuned by `yujing tune` from gas.yaml: test sweep")
