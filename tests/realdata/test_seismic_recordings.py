"""The seismic datasets as recordings (``yujing record dataset obspy-uh|phasenet-ncedc``),
replayed through the production pipeline (wire path: decode, gates, trigger, network tier,
alert book): what the converted data gives a user who replays it."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from simulators.convert import CONVERTERS
from simulators.recording import read_recording
from tests.realdata.validation import phasenet_scores
from yujing.config import load_ladders, load_registry, load_settings
from yujing.config.ladders import LadderBook
from yujing.contracts import Hazard
from yujing.replay.driver import ReplayOptions
from yujing.replay.session import ReplayResult, run_replay
from yujing.replay.wiring import REPLAY_SETTINGS

pytestmark = pytest.mark.realdata

UH_SAMPLES = {"UH1": 11517, "UH2": 11517, "UH3": 3 * 11517, "UH4": 23033}


def replay(recording: Path, ladders: LadderBook | None = None) -> ReplayResult:
    settings = load_settings(REPLAY_SETTINGS)
    return run_replay(recording, settings, ReplayOptions(tick_s=1.0), ladders=ladders)


def events(result: ReplayResult) -> list[tuple[str, float, str]]:
    """(district, event time, message) of the earthquake events that fired."""
    return [
        (r.notice.district, r.notice.ts, r.notice.message)
        for r in result.records
        if r.notice.key.hazard is Hazard.EARTHQUAKE and r.notice.key.rule == "event"
    ]


def test_the_uh_recording_declares_the_first_event_in_obspys_window(
    datasets: Path, tmp_path: Path
) -> None:
    out = tmp_path / "uh.jsonl"
    count, registry = CONVERTERS["obspy-uh"](datasets, out)
    assert count == 1386  # 1 s packets of the six channels
    recording = read_recording(out)
    sent: dict[str, int] = {}
    for row in recording.rows:
        body = json.loads(row.payload)
        sent[body["station"]] = sent.get(body["station"], 0) + len(body["samples"])
    assert sent == UH_SAMPLES  # every sample of every trace
    assert {s.id: s.rules for s in load_registry(registry)} == dict.fromkeys(
        UH_SAMPLES, ("trigger",)
    )  # counts are not acceleration: no intensity rule

    result = replay(out)
    assert result.stats.readings == count and not result.stats.rejected
    declared = events(result)
    assert len(declared) == 1, declared  # the hold (60 s) spans the two later, smaller events
    district, ts, message = declared[0]
    moment = datetime.fromtimestamp(ts, UTC)
    # ObsPy's coincidence test: the first event starts between 16:24:31 and 16:24:35
    assert (district, moment.date().isoformat()) == ("unterhaching", "2010-05-27")
    assert "16:24:31" <= moment.time().isoformat() <= "16:24:35", moment
    assert message.startswith("earthquake: 4 stations triggered within 10 s")
    assert {r.notice.key.hazard for r in result.records} == {Hazard.EARTHQUAKE}  # nothing else


def test_phasenet_windows_replay_to_the_detectors_own_picks(datasets: Path, tmp_path: Path) -> None:
    out = tmp_path / "phasenet.jsonl.gz"
    count, registry = CONVERTERS["phasenet-ncedc"](datasets, out)
    stations = load_registry(registry)
    assert len(stations) == 70
    with gzip.open(out, "rt") as handle:
        assert json.loads(handle.readline())["registry"] == registry.name

    # the shipped coincidence needs 3 stations: one window alone never declares an event
    assert not events(replay(out))

    settings = load_settings(REPLAY_SETTINGS)
    book = load_ladders(settings.ladders)
    event = book.get(Hazard.EARTHQUAKE, "event")
    one = replace(event, params=MappingProxyType({**event.params, "coincidence_k": 1}))
    result = replay(out, LadderBook({**book.rules, (Hazard.EARTHQUAKE, "event"): one}))
    assert result.stats.readings == count and not result.stats.rejected
    first: dict[str, float] = {}
    for district, ts, _ in events(result):  # each window is its own district and network
        first.setdefault(district, ts)
    hits = 0
    for spec in stations:
        start = result.source.first - 1.0  # every window starts then; its first packet is 1 s
        p_ts = start + float(spec.params["p_pick_s"])
        if spec.id in first and abs(first[spec.id] - p_ts) <= 0.5:
            hits += 1
    # the same windows as the trigger detector picks on the arrays (docs/validation.md)
    ours, _ = phasenet_scores(datasets)
    assert hits == ours.hits
    assert hits / len(stations) >= 0.6
