"""Build a replay the way the live runtime is built: the same settings, registry, ladders,
limits and alerting policy (``yujing.runtime.alerting.build_alerting``), with the channels of
that policy replaced by a :class:`~yujing.replay.recorder.RecordingGrader`."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from alerting import AlertPipeline
from simulators import SensorSimulator, load_scenario
from simulators.recording import read_recording
from simulators.scenario import Scenario, scenario_registry
from yujing.clock import VirtualClock
from yujing.config import (
    LadderBook,
    QuantityLimits,
    Registry,
    Settings,
    load_ladders,
    load_quantities,
    load_registry,
)
from yujing.contracts import ConfigError
from yujing.metrics import Metrics
from yujing.pipeline import Pipeline
from yujing.replay.driver import Replay, ReplayOptions
from yujing.replay.recorder import RecordingGrader
from yujing.replay.sources import RecordingSource, ReplaySource, ScenarioSource
from yujing.replay.split import SplitReplay
from yujing.runtime.alerting import build_alerting

__all__ = ["REPLAY_SETTINGS", "alert_pipeline", "build_replay", "open_source"]

REPO = Path(__file__).resolve().parents[2]
REPLAY_SETTINGS = REPO / "configs" / "scenarios" / "replay.yaml"


def alert_pipeline(settings: Settings, registry: Registry) -> AlertPipeline:
    """The live runtime's alerting policy for these settings (nothing started, nothing sent).

    Gap, noted for the alerting owners: ``build_alerting`` also constructs the notifiers and the
    service; a ``pipeline_config(settings, registry)`` of its own would spare that.
    """
    api = settings.api.model_copy(update={"port": 0})
    quiet = settings.model_copy(update={"api": api})
    parts = build_alerting(quiet, registry, clock=VirtualClock(), metrics=Metrics())
    return parts.service.pipeline


def open_source(
    target: Path,
    *,
    seed: int | None = None,
    start: float | None = None,
    registry_path: Path | None = None,
    wire: bool = False,
    tail_s: float = 0.0,
) -> tuple[ReplaySource, Registry, Scenario | None, SensorSimulator | None]:
    """A scenario YAML or a recording (``.jsonl``, ``.jsonl.gz``, ``.parquet``) as a source."""
    name = target.name
    if name.endswith((".jsonl", ".jsonl.gz", ".parquet")):
        recording = read_recording(target)
        path = registry_path or recording.registry_path()
        if path is None:
            raise ConfigError(f"{target}: the recording names no registry; pass --registry")
        registry = load_registry(path)
        return RecordingSource(recording, registry, tail_s), registry, None, None
    scenario = load_scenario(target)
    registry = load_registry(registry_path) if registry_path else scenario_registry(scenario)
    simulator = SensorSimulator(
        registry,
        scenario,
        seed if seed is not None else scenario.run_seed,
        start if start is not None else scenario.run_start,
    )
    source = ScenarioSource(simulator, wire=wire, tail_s=tail_s)
    return source, registry, scenario, simulator


def build_replay(
    settings: Settings,
    source: ReplaySource,
    options: ReplayOptions,
    *,
    ladders: LadderBook | None = None,
    limits: QuantityLimits | None = None,
) -> tuple[Pipeline, RecordingGrader, Replay]:
    """Pipeline + recording grader + loop for ``source``'s registry."""
    registry = source.registry
    book = ladders if ladders is not None else load_ladders(settings.ladders)
    for station in registry:  # surface config errors before the run, as load_parts does
        book.for_station(station)
    grader = RecordingGrader(alert_pipeline(settings, registry))
    pipeline = Pipeline(
        registry,
        book,
        limits if limits is not None else load_quantities(settings.quantities),
        settings.ingest,
        topic_prefix=settings.mqtt.topic_prefix,
        grader=grader,
    )
    loop = SplitReplay if options.split and can_split() else Replay
    return pipeline, grader, loop(pipeline, grader, options)


def can_split() -> bool:
    """Is a split replay possible and worth it here (``fork``, and a second core)?"""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) >= 2
