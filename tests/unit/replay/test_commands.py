"""The commands, run as a user runs them (typer's runner, real files): ``yujing replay`` writes
its timeline, skill table, plots and report; ``yujing record scenario`` writes a recording whose
replay gives the scenario's notices; ``yujing tune`` writes its table, plot and ladder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulators.recording import read_recording
from tests.unit.replay.helpers import replay_settings, write_world
from yujing.cli import app
from yujing.config.ladders import load_ladder_file
from yujing.replay.driver import ReplayOptions
from yujing.replay.session import ReplayResult, run_replay

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    path = write_world(folder, duration=900.0)
    replay_settings(folder)
    return path


def test_replay_writes_timeline_skill_plots_and_report(world: Path, tmp_path: Path) -> None:
    config = world.parent / "replay.yaml"
    done = runner.invoke(app, ["replay", str(world), "--config", str(config), "--out",
                               str(tmp_path), "--tick-s", "10", "--plots", "3"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "readings/s" in done.output and "POD" in done.output and "who" in done.output
    for name in ("report.html", "timeline.csv", "timeline.jsonl", "skill.json", "truth.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert len(list((tmp_path / "plots").glob("*.png"))) == 3
    html = (tmp_path / "report.html").read_text()
    assert "<table>" in html and "data:image/png;base64," in html and "sun.hao" in html
    skill = json.loads((tmp_path / "skill.json").read_text())
    assert {row["hazard"] for row in skill["rows"]} >= {"gas_leak", "ponding", "toxic_gas"}
    first = json.loads((tmp_path / "timeline.jsonl").read_text().splitlines()[0])
    assert {"sent", "key", "version", "grade", "reason", "deliveries"} <= set(first)


def test_replay_reports_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "bad.yaml"
    broken.write_text("name: x\nduration_s: -1\n")
    done = runner.invoke(app, ["replay", str(broken), "--out", str(tmp_path)])
    assert done.exit_code == 2
    assert "bad.yaml:2: duration_s: Input should be greater than 0" in done.output


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".parquet"])
def test_recording_replays_to_the_scenario_notices(
    world: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"small{suffix}"
    done = runner.invoke(app, ["record", "scenario", str(world), "--out", str(out)])
    assert done.exit_code == 0, done.output
    recording = read_recording(out)
    assert recording.header["registry"] == "small.stations.yaml" and recording.rows
    settings = replay_settings(world.parent)
    options = ReplayOptions(tick_s=10.0)
    from_recording = run_replay(out, settings, options)
    from_scenario = run_replay(world, settings, options, wire=True)

    def seen(result: ReplayResult) -> list[tuple[str, int, str, str, float]]:
        return [
            (
                str(r.notice.key),
                r.notice.version,
                r.notice.grade.value,
                r.notice.reason.value,
                r.sent,
            )
            for r in result.records
        ]

    assert seen(from_recording) == seen(from_scenario)
    assert from_recording.stats.rejected == from_scenario.stats.rejected


def test_tune_writes_table_plot_and_ladder(world: Path, tmp_path: Path) -> None:
    config = world.parent / "replay.yaml"
    done = runner.invoke(app, [
        "tune", str(world), "--config", str(config), "--grid", "gas_leak/ch4.blue.enter=5,10",
        "--out", str(tmp_path), "--jobs", "2", "--tick-s", "30",
        "--write-ladder", str(tmp_path / "gas.yaml"),
    ])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Pareto" in done.output and (tmp_path / "tradeoff.png").stat().st_size > 0
    table = json.loads((tmp_path / "tune.json").read_text())
    assert len(table["results"]) == 2 and table["chosen"] in table["front"]
    chosen = table["results"][table["chosen"]]["setting"]["gas_leak/ch4.blue.enter"]
    rung = {s.rule: s for s in load_ladder_file(tmp_path / "gas.yaml")}["ch4"].ladder.rungs[0]
    assert rung.enter == chosen
