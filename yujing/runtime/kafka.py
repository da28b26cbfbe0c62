"""The producer seam of the scale-out runtime: hand a record over, get an awaitable that resolves
when Kafka has it (``acks=all``) or raises when it never will.

- :class:`KafkaProducer` — aiokafka's producer, idempotent, ``acks=all`` (the bridge);
- the workers send through Faust's producer (:mod:`yujing.runtime.faust.app`);
- :class:`MemoryLog` — an in-process log with the same contract whose completion the caller
  controls: tests and benchmarks use it where no Kafka broker can run (it is a component of its
  own, not a stand-in for aiokafka's API). It is *not* a Kafka: no partitions on disk, no
  consumer groups, no replication.

aiokafka has no type hints; this module is the only one of ours that touches its producer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Headers", "KafkaProducer", "LogRecord", "MemoryLog", "Producer"]

Headers = Sequence[tuple[str, bytes]]


class Producer(Protocol):
    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        partition: int | None = None,
        headers: Headers = (),
    ) -> Awaitable[object]:
        """Queue one record; the result resolves once Kafka has it, or raises."""
        ...


class KafkaProducer:
    """aiokafka's producer with the settings "never lose an acknowledged reading" needs:
    ``acks=all`` and idempotence (no duplicates or reordering from producer retries), retrying
    until ``delivery_timeout_s`` before a send fails."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str = "yujing-bridge",
        linger_ms: int = 5,
        delivery_timeout_s: float = 120.0,
    ) -> None:
        from aiokafka import AIOKafkaProducer

        self._producer: Any = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
            request_timeout_ms=30_000,
            # aiokafka retries inside this window, then fails the send
            delivery_timeout_ms=int(delivery_timeout_s * 1000),
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        partition: int | None = None,
        headers: Headers = (),
    ) -> Awaitable[object]:
        future: Awaitable[object] = await self._producer.send(
            topic, value=value, key=key, partition=partition, headers=list(headers)
        )
        return future


@dataclass(slots=True)
class LogRecord:
    topic: str
    value: bytes
    key: bytes | None
    partition: int | None
    headers: list[tuple[str, bytes]]
    future: asyncio.Future[object] = field(repr=False)

    @property
    def header_map(self) -> dict[str, bytes]:
        return dict(self.headers)


class MemoryLog:
    """Records in the order they were sent; with ``auto_complete`` each send is confirmed at
    once, otherwise :meth:`complete` and :meth:`fail` decide (oldest unconfirmed first)."""

    def __init__(self, *, auto_complete: bool = True) -> None:
        self.auto_complete = auto_complete
        self.records: list[LogRecord] = []
        self._by_topic: dict[str, list[LogRecord]] = {}
        self._cursor: dict[str, int] = {}  # per topic: records before it were taken
        self.sent = asyncio.Event()
        """Set on every send (clear it to wait for the next one)."""

    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        partition: int | None = None,
        headers: Headers = (),
    ) -> Awaitable[object]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        record = LogRecord(topic, value, key, partition, list(headers), future)
        self.records.append(record)
        self._by_topic.setdefault(topic, []).append(record)
        if self.auto_complete:
            future.set_result(len(self.records) - 1)
        self.sent.set()
        return future

    def pending(self) -> list[LogRecord]:
        return [r for r in self.records if not r.future.done()]

    def complete(self, count: int | None = None) -> int:
        """Confirm the ``count`` oldest unconfirmed records (all when None); returns how many."""
        waiting = self.pending()
        chosen = waiting if count is None else waiting[:count]
        for record in chosen:
            record.future.set_result(self.records.index(record))
        return len(chosen)

    def fail(self, error: BaseException, count: int | None = None) -> int:
        """Fail the ``count`` oldest unconfirmed records (all when None) with ``error``."""
        waiting = self.pending()
        chosen = waiting if count is None else waiting[:count]
        for record in chosen:
            record.future.set_exception(error)
        return len(chosen)

    def confirmed(self, topic: str) -> list[LogRecord]:
        """Records of ``topic`` that were confirmed."""
        return [
            r
            for r in self.records
            if r.topic == topic and r.future.done() and r.future.exception() is None
        ]

    def take(self, topic: str) -> list[LogRecord]:
        """Records of ``topic`` not taken before, in order, up to the first unconfirmed one (a
        consumer reading the log; failed records are skipped: Kafka never had them)."""
        records = self._by_topic.get(topic, [])
        start = cursor = self._cursor.get(topic, 0)
        while cursor < len(records) and records[cursor].future.done():
            cursor += 1
        self._cursor[topic] = cursor
        return [r for r in records[start:cursor] if r.future.exception() is None]
