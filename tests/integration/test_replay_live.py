"""Replay equals live (DESIGN §6), against a real mosquitto.

A scenario (ten demo stations: a gas leak, a runaway tank venting ammonia, an underpass filling,
rain; a duplicating gas sensor, a rain gauge shuffling its uploads, a chemical detector whose
clock runs 400 s fast, a spike) is published at ×30 by the live publisher and processed by the
embedded runtime, whose channels are one recording notifier. Every message on the broker is
recorded at the same time, with its arrival on the shared scaled clock. Then:

- ``yujing replay`` of that recording (wire path), and
- ``yujing replay`` of the scenario itself (direct path, readings made without JSON),

both ticking at the live cadence (0.2 s wall × 30 = 6 s of scenario time), must give the live
notices: the same (alert key, version, grade, reason), for every alert the notifier hears
(station and area scope), up to the horizon both runs certainly covered. What "equal" means,
and what it does not (times within the cadence), is in docs/replay.md.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from alerting import Delivery
from alerting.grouping import is_group
from ingest import subscription
from simulators import Publisher, SensorSimulator, load_scenario
from simulators.recording import RecordedMessage, write_recording
from simulators.scenario import scenario_registry
from tests.support.runtime import RunningRuntime
from tests.support.services import wait_for
from tests.unit.replay.helpers import write_world
from yujing.broker import Broker
from yujing.clock import ScaledClock
from yujing.config import load_settings
from yujing.replay.driver import ReplayOptions
from yujing.replay.session import ReplayResult, run_replay
from yujing.runtime import load_parts

REPO = Path(__file__).resolve().parents[2]
SPEED = 30.0
TICK_WALL_S = 0.2
DURATION_S = 600.0
HORIZON_S = 570.0  # before the silences that follow the end of the data (limit 30 s for gas)
FAULTS = """\
  - {type: duplicate, station: CY-GS-005, from_s: 100, to_s: 400}
  - {type: reorder, station: HD-RN-028, from_s: 0, to_s: 600, value: 60}
  - {type: clock_skew, station: CY-CH-003, from_s: 0, to_s: 600, value: 400}
  - {type: spike, station: CY-GS-007, at_s: [200], value: 70}
"""
Seen = set[tuple[str, int, str, str]]


@dataclass
class NoticeSink:
    """A channel that keeps what it is given (the runtime's only notifier)."""

    deliveries: list[Delivery] = field(default_factory=list)
    name: str = "sink"
    is_public: bool = False

    async def send(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)

    async def close(self) -> None:
        return None


@dataclass
class Tap:
    """Records every reading message on the broker with its arrival on the scenario clock."""

    broker: Broker
    clock: ScaledClock
    rows: list[RecordedMessage] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="replay-live-tap")
        # the runtime's own filter: readings only (not its dead letters on yujing/v1/_dead)
        self.client.on_connect = lambda c, *a: c.subscribe(subscription("yujing/v1"), qos=1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        wait_for(self.ready.is_set)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.rows.append(RecordedMessage(self.clock.now(), message.topic,
                                             bytes(message.payload)))  # fmt: skip

    def count(self) -> int:
        with self.lock:
            return len(self.rows)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def live_settings(folder: Path, broker: Broker) -> Path:
    configs = REPO / "configs"
    settings = {
        "registry": str(folder / "stations.yaml"),
        "ladders": str(configs / "ladders"),
        "quantities": str(configs / "quantities.yaml"),
        "state_dir": str(folder / "state"),
        "tick_s": TICK_WALL_S,
        "mqtt": {"url": broker.url, "client_id": "replay-live-runtime", "start_broker": "never"},
        "ingest": {"dead_letter_path": str(folder / "state" / "dead.jsonl")},
        "metrics": {"port": 0},
        "alerting": {"roster": str(configs / "roster.yaml")},
        "notify": {"console": False},
    }
    path = folder / "live.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def heard(result: ReplayResult, horizon: float) -> Seen:
    """What the live notifier would have been given: station and area scope, not groups."""
    return {
        (str(r.notice.key), r.notice.version, r.notice.grade.value, r.notice.reason.value)
        for r in result.records
        if not is_group(r.notice.key) and r.notice.ts <= horizon
    }


def test_replay_equals_live(tmp_path: Path, mosquitto: Broker) -> None:
    scenario_path = write_world(tmp_path, duration=DURATION_S, faults=FAULTS)
    settings_path = live_settings(tmp_path, mosquitto)
    settings = load_settings(settings_path)
    scenario = load_scenario(scenario_path)
    registry = scenario_registry(scenario)
    clock = ScaledClock(origin=time.time(), speed=SPEED)
    simulator = SensorSimulator(registry, scenario, 11, clock.origin)
    sink = NoticeSink()
    tap = Tap(mosquitto, clock)
    runtime = RunningRuntime(settings, parts=load_parts(settings), clock=clock, notifiers=[sink])
    runtime.start()
    try:
        publisher = Publisher(mosquitto.url, simulator, clock, client_id="replay-live-sim")
        stats = publisher.run_for(DURATION_S - (clock.now() - clock.origin))
        assert stats.dropped == 0 and stats.pending == 0
        wait_for(lambda: tap.count() >= stats.published, 30)
        wait_for(lambda: runtime.runtime.processed >= stats.published, 30)
        wait_for(lambda: clock.now() > clock.origin + DURATION_S + 3 * TICK_WALL_S * SPEED, 10)
    finally:
        runtime.stop()
        tap.close()
    horizon = clock.origin + HORIZON_S
    live: Seen = {
        (str(d.notice.key), d.notice.version, d.notice.grade.value, d.notice.reason.value)
        for d in sink.deliveries
        if d.notice.ts <= horizon
    }
    assert len(live) >= 15, live
    assert {grade for _, _, grade, _ in live} >= {"blue", "yellow", "orange", "red"}

    recording = tmp_path / "live.jsonl"
    write_recording(recording, {"registry": "stations.yaml", "start": simulator.start,
                                "end": simulator.start + DURATION_S}, tap.rows)  # fmt: skip
    options = ReplayOptions(tick_s=TICK_WALL_S * SPEED)
    from_recording = run_replay(recording, settings, options)
    assert heard(from_recording, horizon) == live
    from_scenario = run_replay(scenario_path, settings, options, seed=11, start=clock.origin)
    assert heard(from_scenario, horizon) == live
    assert from_recording.stats.rejected == from_scenario.stats.rejected
    assert from_recording.stats.rejected["future_timestamp"] > 0  # the fast clock, refused live too
