"""Drive the Faust agents in Faust's own test harness (``agent.test_context()``: real Faust
streams, events and memory tables) over topics kept in a :class:`~yujing.runtime.kafka.MemoryLog`.

- :class:`Topics` — the log read as Kafka topics: records per (topic, partition), with offsets.
- :class:`Consumer` — one agent's test context and its positions: it feeds the agent every record
  past its position, with the record's own offset, and knows which records the agent
  acknowledged (what a Kafka commit would hold).
- :class:`Worker` — one generation of ``yujing worker``: a :class:`StreamApp` and its three
  consumers. :meth:`Worker.crash` drops it the way ``kill -9`` would and hands back what survives
  in Kafka: its tables' changelog records (read from the app's real producer buffer, where Faust
  put them) and its consumers' committed positions; :meth:`Worker.recovered` starts the next
  generation from exactly that, as a restarted worker would.

What this is not: Kafka. No brokers, no consumer-group rebalance protocol, no network; the
partition assignment is "this worker has every partition".
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from yujing.config import Settings
from yujing.runtime import RuntimeParts
from yujing.runtime.faust.app import StreamApp
from yujing.runtime.faust.records import encode_tick, partition_for, reading_headers
from yujing.runtime.kafka import LogRecord, MemoryLog

TP = tuple[str, int]


class Topics:
    """Every confirmed record of the log, per (topic, partition), in offset order."""

    def __init__(self, log: MemoryLog) -> None:
        self.log = log
        self._parts: dict[TP, list[LogRecord]] = {}
        self._indexed = 0

    def partition(self, topic: str, partition: int) -> list[LogRecord]:
        self._index()
        return self._parts.get((topic, partition), [])

    def _index(self) -> None:
        records = self.log.records
        while self._indexed < len(records) and records[self._indexed].future.done():
            record = records[self._indexed]
            self._indexed += 1
            if record.future.exception() is not None:
                continue
            partition = 0 if record.partition is None else record.partition  # (notices: unread)
            self._parts.setdefault((record.topic, partition), []).append(record)


@dataclass
class Consumer:
    """One agent (its test context) reading some topics from positions."""

    agent: Any
    tps: list[TP]
    positions: dict[TP, int]
    put: dict[TP, list[Any]] = field(default_factory=dict)  # events fed, per tp
    start: dict[TP, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.start = dict(self.positions)

    async def poll(self, topics: Topics) -> list[Any]:
        """Feed every record past the positions; return the agent's results in order."""
        steps = []
        for tp in self.tps:
            records = topics.partition(*tp)
            while self.positions[tp] < len(records):
                offset = self.positions[tp]
                record = records[offset]
                self.agent.sent_offset = offset  # the record's own offset, as Kafka gives it
                event = await self.agent.put(
                    record.value, key=record.key, partition=tp[1], headers=record.header_map
                )
                self.put.setdefault(tp, []).append(event)
                steps.append(self.agent.results[self.agent.processed_offset - 1])
                self.positions[tp] = offset + 1
        return steps

    def committed(self) -> dict[TP, int]:
        """Per tp, the offset a commit would hold: past the leading acknowledged records."""
        out = {}
        for tp in self.tps:
            acked = 0
            for event in self.put.get(tp, []):
                if not event.message.acked:
                    break
                acked += 1
            out[tp] = self.start[tp] + acked
        return out


@dataclass
class Worker:
    app: StreamApp
    topics: Topics
    detect: Consumer
    network: Consumer
    alert: Consumer

    @property
    def log(self) -> MemoryLog:
        return self.topics.log

    async def drain(self) -> list[Any]:
        """Run the three agents until no topic has anything they have not read."""
        steps: list[Any] = []
        while True:
            new: list[Any] = []
            for consumer in (self.detect, self.network, self.alert):
                new += await consumer.poll(self.topics)
            if not new:
                return steps
            steps += new

    async def reading(self, topic: str, payload: bytes, received: float) -> list[Any]:
        """What the bridge does with an accepted message, then the agents."""
        station = topic.rsplit("/", 1)[1]
        partitions = self.app.settings.kafka.partitions
        await self.log.send(
            self.app.readings.get_topic_name(),
            payload,
            key=station.encode(),
            partition=partition_for(station, partitions),
            headers=reading_headers(topic, received),
        )
        return await self.drain()

    async def tick(self, now: float) -> list[Any]:
        """A tick as the leader sends it, in the order the embedded ``Pipeline.tick`` works:
        the readings partitions (and through them the network agent), then the alert books."""
        value, headers = encode_tick(now)
        partitions = self.app.settings.kafka.partitions
        for partition in range(partitions):
            await self.log.send(
                self.app.readings.get_topic_name(), value, partition=partition, headers=headers
            )
        steps = await self.drain()
        for partition in range(partitions):
            await self.log.send(
                self.app.findings.get_topic_name(), value, partition=partition, headers=headers
            )
        return steps + await self.drain()

    def crash(self) -> Survivors:
        """Stop as ``kill -9`` would: what is left is in Kafka (changelogs, commits)."""
        changelog: dict[str, dict[str, Any]] = {}
        tables = {
            t.table.changelog_topic.get_topic_name(): name
            for name, t in (
                ("stations", self.app.station_table),
                ("network", self.app.network_table),
                ("alerting", self.app.alert_table),
            )
        }
        queue = self.app.app.producer.buffer.pending
        while not queue.empty():
            message = queue.get_nowait().message
            name = tables.get(message.channel.get_topic_name())
            if name is None:
                continue
            key = json.loads(message.key)  # the tables' key and value serializer: json
            value = None if message.value is None else json.loads(message.value)
            changelog.setdefault(name, {})[key] = value  # compaction: the last value wins
        committed = {}
        for consumer in (self.detect, self.network, self.alert):
            committed.update(consumer.committed())
        return Survivors(changelog, committed)


@dataclass
class Survivors:
    changelog: dict[str, dict[str, Any]]
    committed: dict[TP, int]


def _tps(app: StreamApp) -> tuple[list[TP], list[TP], list[TP]]:
    n = app.settings.kafka.partitions
    readings, network, findings = (
        app.readings.get_topic_name(),
        app.network.get_topic_name(),
        app.findings.get_topic_name(),
    )
    return (
        [(readings, p) for p in range(n)],
        [(network, 0)],
        [(findings, p) for p in range(n)],
    )


@asynccontextmanager
async def worker(
    settings: Settings,
    parts: RuntimeParts,
    log: MemoryLog,
    *,
    writer: str = "w1",
    survivors: Survivors | None = None,
    checkpoint_records: int = 10_000,
) -> AsyncIterator[Worker]:
    """A worker generation; with ``survivors``, recovered from a crashed one's Kafka state."""
    app = StreamApp(
        settings, parts=parts, producer=log, writer=writer, checkpoint_records=checkpoint_records
    )
    if survivors is not None:
        for name, table in (
            ("stations", app.station_table),
            ("network", app.network_table),
            ("alerting", app.alert_table),
        ):
            for key, value in survivors.changelog.get(name, {}).items():
                if value is None:
                    table.table.data.pop(key, None)
                else:
                    table.table.data[key] = value
    committed = survivors.committed if survivors is not None else {}
    readings, network, findings = _tps(app)
    async with AsyncExitStack() as stack:
        contexts = [
            await stack.enter_async_context(agent.test_context())
            for agent in (app.detect, app.network_agent, app.alert)
        ]
        consumers = [
            Consumer(context, tps, {tp: committed.get(tp, 0) for tp in tps})
            for context, tps in zip(contexts, (readings, network, findings), strict=True)
        ]
        yield Worker(app, Topics(log), *consumers)
