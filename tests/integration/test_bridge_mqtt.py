"""The MQTT → Kafka bridge against a real mosquitto: nothing is acknowledged to the broker before
the producer confirms the record, a failed send leaves the batch unacknowledged, and refusals
are the embedded runtime's.

The producer is a :class:`~yujing.runtime.kafka.MemoryLog` whose confirmations the test gives or
withholds. What this does not test without a Kafka broker: aiokafka's own retries, ``acks=all``
on a real cluster, and the idempotent producer (docs/operations.md, "What was not run here").
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ingest import MqttSource, subscription
from ingest import RawMessage as SourceMessage
from tests.support.runtime import Sender, write_settings
from yujing.broker import Broker
from yujing.config import Settings, load_settings
from yujing.metrics import Metrics
from yujing.pipeline import Pipeline, RawMessage
from yujing.runtime import load_parts
from yujing.runtime.bridge import Bridge, BridgeError
from yujing.runtime.faust.records import partition_for, reading_origin
from yujing.runtime.kafka import MemoryLog

STATIONS: list[dict[str, Any]] = [
    {"id": "R1", "kind": "rain", "district": "d1", "lat": 40.0, "lon": 116.3, "interval_s": 60},
    {"id": "G1", "kind": "gas", "district": "d2", "lat": 40.0, "lon": 116.3, "interval_s": 10},
]
CLIENT = "bridge-under-test"


def rain(seq: int, rain_mm: float = 0.5) -> tuple[str, bytes]:
    body = {"station": "R1", "ts": int(time.time() * 1000) - 60_000 + seq, "seq": seq,
            "values": {"rain_mm": rain_mm}}  # fmt: skip
    return "yujing/v1/d1/rain/R1", json.dumps(body).encode()


def settings_for(tmp_path: Path, broker: Broker, **mqtt: Any) -> Settings:
    extra: dict[str, Any] = {"mqtt": {"client_id": CLIENT, **mqtt}, "kafka": {"partitions": 4}}
    path = write_settings(tmp_path, broker_url=broker.url, stations=STATIONS, extra=extra)
    return load_settings(path)


async def until(condition: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    """Wait for ``condition`` with a deadline (polling the event loop, never a bare sleep)."""
    async with asyncio.timeout(timeout_s):
        while not (value := condition()):
            await asyncio.sleep(0.01)
        return value


@asynccontextmanager
async def bridge_running(settings: Settings, log: MemoryLog) -> AsyncIterator[Bridge]:
    bridge = Bridge(settings, log, metrics=Metrics())
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop, drain_s=0))
    await until(lambda: bridge.connected.is_set() or task.done())
    try:
        yield bridge
    finally:
        stop.set()
        await asyncio.wait({task}, timeout=10)
    if task.done() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


def session_messages(settings: Settings, count: int) -> list[SourceMessage]:
    """Connect with the bridge's client id (its persistent session) and take ``count`` messages,
    without acknowledging them."""
    source = MqttSource(settings.mqtt, [subscription(settings.mqtt.topic_prefix)])
    source.start()
    got: list[SourceMessage] = []
    deadline = time.monotonic() + 10
    try:
        while len(got) < count and time.monotonic() < deadline:
            got += source.get_batch(count - len(got), 0.1)
    finally:
        source.stop()
    return got


async def publish(sender: Sender, *messages: tuple[str, bytes]) -> None:
    for topic, payload in messages:
        await asyncio.to_thread(sender.raw, topic, payload)


def test_nothing_is_acknowledged_before_kafka_has_the_record(
    tmp_path: Path, mosquitto: Broker
) -> None:
    settings = settings_for(tmp_path, mosquitto)
    sent = [rain(seq) for seq in (1, 2, 3)]
    sender = Sender(mosquitto.host, mosquitto.port)

    async def main() -> None:
        log = MemoryLog(auto_complete=False)
        async with bridge_running(settings, log) as bridge:
            await publish(sender, *sent)
            await until(lambda: len(log.pending()) == 3)
            assert bridge.acked == 0
        # the bridge stopped with nothing confirmed: the broker kept all three for the session
        again = await asyncio.to_thread(session_messages, settings, 3)
        assert [m.payload for m in again] == [p for _, p in sent]

        # two of three confirmed, then the bridge stops: what was not acknowledged comes back,
        # and the one Kafka never confirmed is certainly among it
        log = MemoryLog(auto_complete=False)
        async with bridge_running(settings, log) as bridge:
            await until(lambda: len(log.pending()) == 3)
            assert [r.value for r in log.pending()] == [p for _, p in sent]
            log.complete(2)
        acked = bridge.acked
        assert acked <= 2  # batches are acknowledged whole, once all of a batch is confirmed
        again = await asyncio.to_thread(session_messages, settings, 3 - acked)
        assert len(again) == 3 - acked and sent[2][1] in [m.payload for m in again]

        log = MemoryLog()  # Kafka takes everything now
        async with bridge_running(settings, log) as bridge:
            await until(lambda: bridge.acked == 3 - acked)
        # confirmed and acknowledged: the session has nothing left but what comes next
        marker = rain(99)
        await publish(sender, marker)
        after = await asyncio.to_thread(session_messages, settings, 1)
        assert [m.payload for m in after] == [marker[1]]

    try:
        asyncio.run(main())
    finally:
        sender.close()


def test_a_failed_send_stops_the_bridge_and_leaves_the_batch_with_the_broker(
    tmp_path: Path, mosquitto: Broker
) -> None:
    settings = settings_for(tmp_path, mosquitto)
    sent = [rain(seq) for seq in (1, 2)]
    sender = Sender(mosquitto.host, mosquitto.port)

    async def main() -> None:
        log = MemoryLog(auto_complete=False)
        with pytest.raises(BridgeError, match="kafka did not take a batch"):
            async with bridge_running(settings, log) as bridge:
                await publish(sender, *sent)
                await until(lambda: len(log.pending()) == 2)
                log.fail(TimeoutError("no broker answered within delivery.timeout.ms"))
                await until(lambda: bridge._failure is not None)
        assert bridge.acked == 0
        again = await asyncio.to_thread(session_messages, settings, 2)
        assert sorted(m.payload for m in again) == sorted(p for _, p in sent)

    try:
        asyncio.run(main())
    finally:
        sender.close()


def test_records_are_keyed_by_station_and_refusals_are_the_embedded_runtimes(
    tmp_path: Path, mosquitto: Broker
) -> None:
    settings = settings_for(tmp_path, mosquitto)
    now_ms = int(time.time() * 1000)
    good_gas = json.dumps(
        {"station": "G1", "ts": now_ms, "seq": 1, "values": {"ch4_pct_lel": 3.0}}
    ).encode()
    messages = [
        rain(1),
        ("yujing/v1/d2/gas/G1", good_gas),
        ("yujing/v1/d1/rain/R1", b"{not json"),
        ("yujing/v1/d1/rain/NOPE", rain(2)[1]),
        ("yujing/v1/d1/gas/R1", rain(3)[1]),
        ("yujing/v1/d1/rain/R1", json.dumps({"station": "R1", "ts": now_ms, "seq": 4,
                                             "values": {"rain_mm": 1e6}}).encode()),
        ("yujing/v1/d1/rain/R1", json.dumps({"station": "G1", "ts": now_ms, "seq": 5,
                                             "values": {"rain_mm": 1.0}}).encode()),
        ("yujing/v1/d1/rain/R1", json.dumps({"station": "R1", "ts": now_ms + 3_600_000,
                                             "seq": 6, "values": {"rain_mm": 1.0}}).encode()),
    ]  # fmt: skip
    sender = Sender(mosquitto.host, mosquitto.port)

    async def main() -> Bridge:
        log = MemoryLog()
        async with bridge_running(settings, log) as bridge:
            await publish(sender, *messages)
            await until(lambda: bridge.acked == len(messages))
        records = log.confirmed(settings.kafka.topic("readings"))
        assert [r.key for r in records] == [b"R1", b"G1"]
        assert [r.partition for r in records] == [partition_for(s, 4) for s in ("R1", "G1")]
        assert [r.value for r in records] == [messages[0][1], good_gas]
        assert [reading_origin(r.header_map)[0] for r in records] == [m[0] for m in messages[:2]]
        return bridge

    try:
        asyncio.run(main())
    finally:
        sender.close()
    letters = [
        json.loads(line) for line in settings.ingest.dead_letter_path.read_text().splitlines()
    ]
    parts = load_parts(settings)
    embedded = Pipeline(parts.registry, parts.ladders, parts.limits, settings.ingest)
    result = embedded.process([RawMessage(t, p, time.time()) for t, p in messages], time.time())
    assert [(d["topic"], d["reason"]) for d in letters] == [
        (r.topic, r.reason.value) for r in result.rejected
    ]
    assert {d["reason"] for d in letters} == {
        "malformed", "unknown_station", "kind_mismatch", "out_of_range", "station_mismatch",
        "future_timestamp",
    }  # fmt: skip
