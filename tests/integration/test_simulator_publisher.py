"""The live publisher against a real mosquitto: every message arrives, in per-station seq order,
byte for byte as the simulator made it; a broker restart costs nothing (QoS 1, reconnect)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from simulators import DEMO_REGISTRY, Publisher, Scenario, SensorSimulator
from tests.support.services import wait_for
from yujing.broker import Broker, start_mosquitto
from yujing.clock import ScaledClock
from yujing.config import Registry
from yujing.config.stations import load_registry
from yujing.contracts import Kind

START = 1_784_613_600.0
STATIONS = (
    "HD-RN-023",
    "HD-WL-001",
    "HD-PD-011",
    "CY-GS-006",
    "CY-CH-001",
    "CY-CH-004",
    "HD-SM-007",
)


@dataclass
class Subscriber:
    """A real paho subscriber on ``yujing/v1/#`` recording (topic, payload) in arrival order."""

    broker: Broker
    client_id: str = "test-subscriber"
    received: list[tuple[str, bytes]] = field(default_factory=list)
    subscribed: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        wait_for(self.subscribed.is_set)

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        client.subscribe("yujing/v1/#", qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.received.append((message.topic, bytes(message.payload)))

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def messages(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def small_simulator() -> SensorSimulator:
    demo = load_registry(DEMO_REGISTRY)
    registry = Registry.from_specs([s for s in demo if s.id in STATIONS])
    scenario = Scenario("publisher-test", "", 60.0, MappingProxyType({Kind.RAIN: 600.0}))
    return SensorSimulator(registry, scenario, 7, START)


@pytest.fixture
def subscriber(mosquitto: Broker) -> Iterator[Subscriber]:
    sub = Subscriber(mosquitto)
    yield sub
    sub.close()


def by_station(messages: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload in messages:
        out[topic.rsplit("/", 1)[1]].append(payload)
    return out


def test_an_accelerated_run_arrives_complete_and_in_seq_order(
    mosquitto: Broker, subscriber: Subscriber, small_simulator: SensorSimulator
) -> None:
    clock = ScaledClock(origin=START, speed=40.0)
    publisher = Publisher(mosquitto.url, small_simulator, clock, client_id="sim-run")
    stats = publisher.run_for(65.0)  # every station reports at least once
    assert stats.pending == 0 and stats.dropped == 0 and stats.submitted == stats.published
    assert stats.published > 3 * 60 + 10  # three-channel packets + 10 min of rain history
    wait_for(lambda: subscriber.count() >= stats.published)
    received = by_station(subscriber.messages())
    assert set(received) == set(STATIONS)
    expected = small_simulator.stream(small_simulator.first_ts, stats.cursor_ts)
    for station, payloads in received.items():
        seqs = [json.loads(p)["seq"] for p in payloads]
        assert seqs == list(range(len(seqs))), station
        made = [m.payload for m in expected if m.station == station]
        assert payloads == made[: len(payloads)], station
    assert subscriber.count() == stats.published


def test_publisher_rides_out_a_broker_restart(
    mosquitto: Broker, small_simulator: SensorSimulator
) -> None:
    """Messages made while the broker is down wait in paho's queue and go out after the
    reconnect. (The broker keeps no sessions across the restart, so a fresh subscriber is
    listening before the publisher's 2 s reconnect delay has passed.)"""
    subscriber = Subscriber(mosquitto)
    clock = ScaledClock(origin=START, speed=10.0)
    publisher = Publisher(
        mosquitto.url,
        small_simulator,
        clock,
        client_id="sim-restart",
        reconnect_min_s=2,
        reconnect_max_s=2,
    ).start()
    restarted: Broker | None = None
    received: list[tuple[str, bytes]] = []
    try:
        wait_for(lambda: subscriber.count() >= 50)
        mosquitto.stop()
        wait_for(lambda: not publisher.stats().connected)
        received += subscriber.messages()
        subscriber.close()
        down_at = clock.now()
        wait_for(lambda: clock.now() > down_at + 5.0)  # 5 scenario s made while down
        assert mosquitto.log_path is not None
        restarted = start_mosquitto(mosquitto.host, mosquitto.port, mosquitto.log_path.parent)
        subscriber = Subscriber(restarted, client_id="test-subscriber-2")
        assert publisher.stats().connects == 1, "publisher reconnected before the subscriber"
        wait_for(lambda: publisher.stats().connects == 2, timeout_s=15)
        back_at = clock.now()
        wait_for(lambda: publisher.stats().cursor_ts > back_at + 3.0)
        stats = publisher.stop()
        assert stats.dropped == 0 and stats.pending == 0 and stats.disconnects >= 1
        made = {
            m.seq
            for m in small_simulator.stream(START, stats.cursor_ts - 1.0)
            if m.station == "HD-SM-007"
        }

        def seismic_seqs() -> set[int]:
            payloads = by_station(received + subscriber.messages()).get("HD-SM-007", [])
            return {json.loads(p)["seq"] for p in payloads}

        wait_for(lambda: seismic_seqs() >= made)
    finally:
        publisher.stop(flush_timeout_s=0.0)
        subscriber.close()
        if restarted is not None:
            restarted.stop()
