"""One replay from start to report: open the source, run it, score it, write the outputs. The
CLI (``yujing replay``), the benchmarks and the tests all call :func:`run_replay`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulators import SensorSimulator
from simulators.episodes import GradedTruth, graded_truth
from simulators.scenario import Scenario
from yujing.config import LadderBook, Registry, Settings, load_ladders
from yujing.contracts import Hazard
from yujing.replay.driver import Progress, ReplayOptions, ReplayStats
from yujing.replay.plots import plot_station
from yujing.replay.recorder import NoticeRecord
from yujing.replay.report import write_html, write_timeline
from yujing.replay.series import (
    grade_steps,
    key_alerts,
    observed_series,
    raw_points,
    true_series,
)
from yujing.replay.skill import SkillReport, score
from yujing.replay.sources import RecordingSource, ReplaySource
from yujing.replay.wiring import build_replay, open_source

__all__ = ["ReplayResult", "run_replay", "write_outputs"]


@dataclass(slots=True)
class ReplayResult:
    target: Path
    source: ReplaySource
    registry: Registry
    ladders: LadderBook
    stats: ReplayStats
    records: list[NoticeRecord]
    origin: float
    scenario: Scenario | None = None
    simulator: SensorSimulator | None = None
    truth: GradedTruth | None = None
    skill: SkillReport | None = None
    outputs: dict[str, Path] = field(default_factory=dict)


def run_replay(
    target: Path,
    settings: Settings,
    options: ReplayOptions,
    *,
    ladders: LadderBook | None = None,
    seed: int | None = None,
    start: float | None = None,
    registry_path: Path | None = None,
    wire: bool = False,
    tail_s: float = 0.0,
    tolerance_s: Mapping[Hazard, float] | None = None,
    hazards: set[Hazard] | None = None,
    progress: Progress | None = None,
    on_source: Callable[[ReplaySource], None] | None = None,
) -> ReplayResult:
    """Replay ``target`` (scenario YAML or recording) and score it when it is a scenario."""
    source, registry, scenario, simulator = open_source(
        target, seed=seed, start=start, registry_path=registry_path, wire=wire, tail_s=tail_s
    )
    if on_source is not None:
        on_source(source)
    book = ladders if ladders is not None else load_ladders(settings.ladders)
    _, grader, replay = build_replay(settings, source, options, ladders=book)
    stats = replay.run(source, progress)
    origin = simulator.start if simulator is not None else source.first
    result = ReplayResult(target, source, registry, book, stats, grader.records, origin,
                          scenario, simulator)  # fmt: skip
    if simulator is not None and scenario is not None:
        truth = graded_truth(simulator, book)
        result.truth = truth
        result.skill = score(
            truth, grader.records, {**scenario.tolerance_s, **(tolerance_s or {})}, hazards
        )
    return result


def write_outputs(result: ReplayResult, folder: Path, *, plots: int = 6) -> dict[str, Path]:
    """timeline.{jsonl,csv}, skill.json, stats.json, truth.json, plots/*.png, report.html."""
    folder.mkdir(parents=True, exist_ok=True)
    write_timeline(folder, result.records, result.origin)
    outputs = {"timeline": folder / "timeline.csv", "timeline_jsonl": folder / "timeline.jsonl"}
    (folder / "stats.json").write_text(json.dumps(result.stats.to_json(), indent=1))
    outputs["stats"] = folder / "stats.json"
    if result.skill is not None:
        (folder / "skill.json").write_text(json.dumps(result.skill.to_json(), indent=1))
        outputs["skill"] = folder / "skill.json"
    if result.truth is not None:
        (folder / "truth.json").write_text(json.dumps(result.truth.to_json()))
        outputs["truth"] = folder / "truth.json"
    pngs = _plots(result, folder / "plots", plots)
    meta: dict[str, Any] = {
        "source": str(result.target),
        "stations": len(result.registry),
        "start (scenario time 0)": datetime.fromtimestamp(result.origin, UTC).isoformat(),
    }
    if result.scenario is not None:
        meta["scenario"] = result.scenario.name
        meta["description"] = result.scenario.description
    if result.simulator is not None:
        meta["seed"] = result.simulator.seed
    outputs["report"] = write_html(
        folder / "report.html",
        title=f"yujing replay: {result.scenario.name if result.scenario else result.target.name}",
        meta=meta,
        stats=result.stats.to_json(),
        skill=result.skill,
        records=result.records,
        origin=result.origin,
        plots=pngs,
    )
    result.outputs = outputs
    return outputs


def _plots(result: ReplayResult, folder: Path, limit: int) -> list[Path]:
    if limit <= 0:
        return []
    recording = result.source.recording if isinstance(result.source, RecordingSource) else None
    out = []
    for key in key_alerts(result.records, result.registry.stations, limit):
        station = result.registry.get(key.area)
        if station is None:
            continue
        specs = [
            s
            for s in result.ladders.for_station(station)
            if s.hazard is key.hazard and s.rule == key.rule
        ]
        if not specs:
            continue
        spec = specs[0]
        points = raw_points(result.simulator, recording, station.id)
        observed = observed_series(points, spec)
        truth = {} if result.simulator is None else true_series(result.simulator, station.id, spec)
        name = str(key).replace("/", "_")
        out.append(plot_station(
            folder / f"{name}.png", key, spec, observed, truth,
            grade_steps(result.records, key), result.origin, result.source.end,
        ))  # fmt: skip
    return out
