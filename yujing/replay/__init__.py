"""Replay, skill and tuning (DESIGN §6 "Replay"): the production pipeline on a virtual clock,
fed from a scenario or a recording, its channels replaced by a recorder; the notices scored
against the scenario's graded ground truth; thresholds swept over scenarios.

Modules: ``sources`` (scenario / recording), ``driver`` (the loop and its cadence rules),
``recorder`` (the grader that records deliveries), ``wiring`` (built like the live runtime),
``session`` (one replay, start to report), ``skill`` (hits, misses, false alarms, lead time),
``series``/``plots``/``report`` (PNG, HTML), ``tuning`` (grid sweep, Pareto front, ladder
write-back), ``cli`` (the commands). See ``docs/replay.md``.

The names below are imported lazily, so ``yujing --help`` does not pay for numpy and friends.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yujing.replay.driver import Replay, ReplayOptions, ReplayStats
    from yujing.replay.recorder import NoticeRecord, RecordingGrader
    from yujing.replay.sources import RecordingSource, ReplaySource, ScenarioSource
    from yujing.replay.wiring import REPLAY_SETTINGS, alert_pipeline, build_replay, open_source

__all__ = [
    "REPLAY_SETTINGS",
    "NoticeRecord",
    "RecordingGrader",
    "RecordingSource",
    "Replay",
    "ReplayOptions",
    "ReplaySource",
    "ReplayStats",
    "ScenarioSource",
    "alert_pipeline",
    "build_replay",
    "open_source",
]

_HOME = {
    "Replay": "driver",
    "ReplayOptions": "driver",
    "ReplayStats": "driver",
    "NoticeRecord": "recorder",
    "RecordingGrader": "recorder",
    "RecordingSource": "sources",
    "ReplaySource": "sources",
    "ScenarioSource": "sources",
    "REPLAY_SETTINGS": "wiring",
    "alert_pipeline": "wiring",
    "build_replay": "wiring",
    "open_source": "wiring",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'yujing.replay' has no attribute {name!r}")
    return getattr(importlib.import_module(f"yujing.replay.{home}"), name)
