"""Replay speed of the 24 h city storm: 1,600 rain gauges × 1,440 one-minute reports
(``configs/scenarios/storm-24h-1600.yaml``, 2,304,000 readings) through the production pipeline
on a virtual clock, direct path (readings made without JSON), ticks every 60 s.

Figures, each against a baseline measured in the same run:

- replay throughput (readings/s) vs generating the same readings without the pipeline;
- the whole day's replay time vs the issue's target (60 s on this machine);
- the wire path (JSON encode + decode, what live does) on a 20 min slice vs the direct path,
  after checking both give the same notices on that slice;
- a cProfile of a 20 min slice: the pipeline's hot spots, in the notes.

``python -m bench replay_storm`` (``--quick``: 30 min of the storm) or
``python -m bench.replay_storm [--quick] [--hours H]``; results in ``bench/results/``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

from bench.harness import RESULTS, Figure, Options, Result, Target, summarize, write_result
from simulators import SensorSimulator, load_scenario
from simulators.scenario import scenario_registry
from yujing.config import load_settings
from yujing.replay.driver import ReplayOptions
from yujing.replay.sources import ScenarioSource
from yujing.replay.wiring import REPLAY_SETTINGS, build_replay

NAME = "replay_storm"
TITLE = "Replay speed of the 24 h city storm (1,600 gauges × 1,440 min)"
SCENARIO = Path(__file__).resolve().parent.parent / "configs" / "scenarios" / "storm-24h-1600.yaml"
DAY_READINGS = 1600 * 1440
TARGET_S = 60.0
SLICE_S = 1200.0  # the wire-path and profile slice
SLICE_AT_S = 68400.0  # the evening cells: the slice gives notices to compare


def _simulator() -> SensorSimulator:
    scenario = load_scenario(SCENARIO)
    assert scenario.start is not None and scenario.seed is not None
    return SensorSimulator(scenario_registry(scenario), scenario, scenario.seed, scenario.start)


def _source(
    simulator: SensorSimulator, first_s: float, span_s: float, wire: bool
) -> ScenarioSource:
    source = ScenarioSource(simulator, wire=wire)
    source.first = simulator.start + first_s
    source.end = simulator.start + first_s + span_s
    return source


def _generate(simulator: SensorSimulator, span_s: float) -> tuple[int, float]:
    """Make the readings the replay would be fed, in the same chunks, and nothing else."""
    chunk = ScenarioSource(simulator).chunk_s
    began = time.perf_counter()
    count = 0
    t = simulator.start
    while t < simulator.start + span_s:
        count += len(simulator.readings(t, min(t + chunk, simulator.start + span_s)))
        t += chunk
    return count, time.perf_counter() - began


def _replay(
    simulator: SensorSimulator,
    first_s: float,
    span_s: float,
    wire: bool,
    profile: bool = False,
    split: bool = False,
) -> tuple[int, float, list[tuple[str, int, str, str]], str]:
    settings = load_settings(REPLAY_SETTINGS)
    source = _source(simulator, first_s, span_s, wire)
    options = ReplayOptions(tick_s=60.0, split=split)
    _, grader, replay = build_replay(settings, source, options)
    report = ""
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        stats = replay.run(source)
        profiler.disable()
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(14)
        report = buffer.getvalue()
    else:
        stats = replay.run(source)
    notices = [(str(r.notice.key), r.notice.version, r.notice.grade.value, r.notice.reason.value)
               for r in grader.records]  # fmt: skip
    return stats.readings, stats.wall_s, notices, report


def _hot_spots(report: str, limit: int = 12) -> list[str]:
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), None)
    if start is None:
        return []
    rows = [" ".join(line.split()) for line in lines[start + 1 :] if line.strip()]
    return [f"profile: {row}" for row in rows[:limit]]


def measure(hours: float, reps: int) -> Result:
    simulator = _simulator()
    span = hours * 3600.0
    generated, rates, day_s, one_rates = [], [], [], []
    readings = 0
    split_notices: list[tuple[str, int, str, str]] = []
    one_notices: list[tuple[str, int, str, str]] = []
    for _ in range(reps):
        count, seconds = _generate(simulator, span)
        generated.append(count / seconds)
        readings, wall, split_notices, _ = _replay(simulator, 0.0, span, wire=False, split=True)
        rates.append(readings / wall)
        day_s.append(DAY_READINGS / (readings / wall))
        readings, wall, one_notices, _ = _replay(simulator, 0.0, span, wire=False)
        one_rates.append(readings / wall)
    same = split_notices == one_notices
    _, direct_wall, direct, _ = _replay(simulator, SLICE_AT_S, SLICE_S, wire=False)
    wire_readings, wire_wall, wired, _ = _replay(simulator, SLICE_AT_S, SLICE_S, wire=True)
    slice_readings, _, _, profile = _replay(simulator, SLICE_AT_S, SLICE_S, False, profile=True)
    equal = direct == wired
    figures = [
        Figure("replay throughput, direct path", "readings/s", summarize(rates),
               baseline=summarize(generated), baseline_name="generating the readings only",
               target=Target(DAY_READINGS / TARGET_S, text="2.3 M readings in 60 s"),
               note=f"{readings:,} readings over {hours:g} h of the storm, ticks every 60 s; "
               "per-station detectors in a second process (yujing.replay.split)"),
        Figure("replay throughput, one process", "readings/s", summarize(one_rates),
               baseline=summarize(rates), baseline_name="split over two processes",
               note=f"same replay without --split; notices identical to the split one: {same}"),
        Figure("time for the whole 24 h storm", "s", summarize(day_s), better="lower",
               target=Target(TARGET_S, text="under a minute on this machine"),
               note="2,304,000 readings / measured throughput"
               + ("" if hours >= 24 else " (projected from the slice replayed)")),
        Figure("replay throughput, wire path (JSON + decode)", "readings/s",
               summarize([wire_readings / wire_wall]), baseline=summarize(
                   [wire_readings / direct_wall]), baseline_name="direct path, same slice",
               note=f"20 min slice; notices identical to the direct path: {equal}"),
    ]  # fmt: skip
    notes = [
        f"scenario {SCENARIO.name}; settings {REPLAY_SETTINGS.name}; split by stage over two "
        "processes (the second tier couples stations, so it cannot be split by station); "
        f"split and one-process notices identical: {same}",
        f"wire/direct notices equal on the slice: {equal} ({len(direct)} notices)",
        f"profile of {slice_readings:,} readings (cProfile, tottime):",
        *_hot_spots(profile),
    ]
    return Result(NAME, TITLE, figures=figures, notes=notes,
                  params={"hours": hours, "gauges": 1600, "tick_s": 60.0, "step_s": 1.0,
                          "reps": reps})  # fmt: skip


def run(options: Options) -> Result:
    return measure(0.5 if options.quick else 24.0, 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replay_storm", description=TITLE)
    parser.add_argument("--quick", action="store_true", help="30 min of the storm")
    parser.add_argument("--hours", type=float, default=None, help="hours of the storm to replay")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    hours = args.hours if args.hours is not None else (0.5 if args.quick else 24.0)
    started = time.time()
    result = measure(hours, 1)
    path = write_result(result, Options(quick=args.quick, reps=1, out=args.out), started)
    for figure in result.figures:
        print(f"{figure.metric}: {figure.value.median:,.1f} {figure.unit}"
              + (f" (target {figure.target.value:,.0f}: {'met' if figure.met else 'not met'})"
                 if figure.target else ""))  # fmt: skip
    print("\n".join(result.notes))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
