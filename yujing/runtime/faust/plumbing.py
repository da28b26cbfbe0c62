"""Faust plumbing shared by the scale-out runtime's apps: the app, its raw topics and JSON
tables, :class:`~.state.StateTable` and :class:`~yujing.runtime.kafka.Producer` over Faust, and
what every agent does with a record it cannot handle (count it, dead-letter it, go on)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Iterable
from typing import Any

import faust

from yujing.config import Settings
from yujing.metrics import Metrics
from yujing.runtime.faust.records import Headers, header_map
from yujing.runtime.kafka import Producer

__all__ = ["Agents", "FaustProducer", "FaustTable", "faust_app", "gather", "raw_topic", "table"]

log = logging.getLogger(__name__)


def faust_app(settings: Settings, app_id: str) -> faust.App:
    kafka = settings.kafka
    return faust.App(
        app_id,
        broker=[f"kafka://{host.strip()}" for host in kafka.brokers.split(",") if host.strip()],
        store="memory://",  # tables are rebuilt from their compacted changelogs at start
        topic_partitions=kafka.partitions,
        topic_replication_factor=kafka.replication_factor,
        broker_commit_interval=kafka.commit_interval_s,
        producer_acks=-1,
        # a dead worker's partitions move after 10 s without heartbeats (Faust's default, 60 s,
        # is a minute without alerts for those stations)
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        table_standby_replicas=1,  # a warm copy of each table on another worker
        # records are acknowledged at checkpoints, so a rebalance or a stop must not wait for
        # every record in flight to be acknowledged (it would wait for a checkpoint that needs
        # new records to come): what is not acknowledged is replayed by the next owner
        stream_wait_empty=False,
        web_enabled=False,
        autodiscover=False,
    )


def raw_topic(app: faust.App, name: str, partitions: int) -> faust.TopicT:
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )


def table(app: faust.App, name: str, partitions: int, help: str) -> Any:
    schema: Any = faust.Schema(key_type=str, key_serializer="raw", value_serializer="json")
    return app.Table(name, partitions=partitions, schema=schema, help=help)


class FaustTable:
    """:class:`~.state.StateTable` over a Faust table: the store, and its changelog topic in the
    partition given (what ``table[key] = value`` does, with the partition explicit, because a
    checkpoint writes keys of several partitions after their records were handled)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: str) -> Any:
        return self.table.data.get(key)

    def items(self) -> Iterable[tuple[str, Any]]:
        return list(self.table.data.items())

    def put(self, partition: int, key: str, value: Any) -> None:
        self.table.data[key] = value
        self.table.send_changelog(partition, key, value)

    def delete(self, partition: int, key: str) -> None:
        if key in self.table.data:
            del self.table.data[key]
        self.table.send_changelog(partition, key, None, value_serializer="raw")


class FaustProducer:
    """:class:`~yujing.runtime.kafka.Producer` over the app's own producer."""

    def __init__(self, topics: Iterable[faust.TopicT]) -> None:
        self._topics = {topic.get_topic_name(): topic for topic in topics}

    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        partition: int | None = None,
        headers: Headers | Iterable[tuple[str, bytes]] = (),
    ) -> Awaitable[object]:
        future: Awaitable[object] = await self._topics[topic].send(
            key=key, value=value, partition=partition, headers=list(headers)
        )
        return future


async def gather(sends: list[Awaitable[object]]) -> object:
    return await asyncio.gather(*sends)


class Agents:
    """What both apps share: topics, metrics, the dead-letter path for failed records."""

    def __init__(self, settings: Settings, app: faust.App, metrics: Metrics) -> None:
        self.settings = settings
        self.app = app
        self.metrics = metrics
        kafka = settings.kafka
        n = kafka.partitions
        self.readings = raw_topic(app, kafka.topic("readings"), n)
        self.network = raw_topic(app, kafka.topic("network"), 1)
        self.findings = raw_topic(app, kafka.topic("findings"), n)
        self.notices = raw_topic(app, kafka.topic("notices"), n)
        self.dead = raw_topic(app, kafka.topic("dead-letters"), n)

    async def record_failed(
        self, producer: Producer, agent: str, event: Any, exc: BaseException
    ) -> Awaitable[object]:
        """Count the failed record and send it, with the error, to the dead-letter topic."""
        message = event.message
        log.error(
            "agent failed on a record; dead-lettered",
            extra={
                "agent": agent,
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "error": repr(exc),
            },
            exc_info=exc,
        )
        self.metrics.agent_errors.labels(agent).inc()
        value = event.value if isinstance(event.value, bytes) else repr(event.value).encode()
        headers = header_map(event.headers)
        letter = {
            "agent": agent,
            "error": repr(exc)[:2000],
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "headers": {k: v.decode("utf-8", "replace") for k, v in headers.items()},
            "payload_base64": base64.b64encode(value[:4096]).decode("ascii"),
        }
        return await producer.send(
            self.dead.get_topic_name(), json.dumps(letter).encode(), key=event.key
        )

    def alive(self, agent: str, kind: str) -> None:
        self.metrics.agent_events.labels(agent, kind).inc()
        self.metrics.agent_alive.labels(agent).set(time.time())
