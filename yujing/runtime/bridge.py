"""The MQTT → Kafka bridge (``yujing bridge``): readings keyed by station, nothing acknowledged to
the broker before Kafka has it.

One loop, three steps per batch:

1. :class:`~ingest.MqttSource` (QoS 1, persistent session, manual acks) hands over a batch;
2. every message goes through the embedded runtime's decoder checks (the same
   :class:`~ingest.Decoder`, minus the per-station history, which the worker owning the station
   applies): a refused message becomes the same dead letter, with the same reason, in the same
   places (``ingest.dead_letter_path`` and ``ingest.dead_letter_topic``), as in the embedded
   runtime; an accepted one goes to the :class:`~yujing.runtime.kafka.Producer`, key = station id,
   value = the MQTT payload unchanged, partition = Kafka's default for the key;
3. a confirmation task waits until Kafka confirmed every record of the batch (``acks=all``) and
   only then acknowledges the batch's MQTT messages (dead letters are written before that).

Batches are pipelined: up to ``max_batches_in_flight`` wait for confirmation at once, so a Kafka
round trip does not cap the rate at one MQTT in-flight window per round trip.

If Kafka refuses or times out a record (after the producer's own retries), the bridge exits with
:class:`BridgeError` without acknowledging anything of that batch or later ones; the broker keeps
the messages in the persistent session and delivers them again to the restarted bridge. A
reading may therefore reach Kafka twice (sent, crash before the ack); the worker drops the second
copy as a ``duplicate`` by (station, seq, event time), as the embedded runtime does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable

from ingest import DeadLetter, DeadLetterFile, MqttSource, subscription
from ingest import RawMessage as SourceMessage
from yujing.clock import Clock, WallClock
from yujing.config import Settings
from yujing.contracts import PayloadRejected, YujingError
from yujing.metrics import Metrics
from yujing.runtime.embedded import RuntimeParts, load_parts
from yujing.runtime.faust.records import partition_for, reading_headers
from yujing.runtime.faust.stations import stateless_decoder
from yujing.runtime.kafka import Producer

__all__ = ["Bridge", "BridgeError", "run_bridge"]

log = logging.getLogger(__name__)


class BridgeError(YujingError):
    """Kafka did not take a batch: exit, unacknowledged, and let the supervisor restart us."""


class Bridge:
    """Run until ``stop`` is set or Kafka fails (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        *,
        parts: RuntimeParts | None = None,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        max_batches_in_flight: int = 8,
    ) -> None:
        self.settings = settings
        self.producer = producer
        self.parts = parts or load_parts(settings)
        self.clock = clock or WallClock()
        self.metrics = metrics or Metrics()
        self.decoder = stateless_decoder(
            self.parts.registry, self.parts.limits, settings.ingest, settings.mqtt.topic_prefix
        )
        self.topic = settings.kafka.topic("readings")
        self.partitions = settings.kafka.partitions
        self.dead_letters = DeadLetterFile(settings.ingest.dead_letter_path)
        self.source: MqttSource | None = None
        self.connected = asyncio.Event()
        self.produced = 0
        self.acked = 0
        self.rejected = 0
        self._slots = asyncio.Semaphore(max_batches_in_flight)
        self._confirming: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None

    async def run(self, stop: asyncio.Event, *, drain_s: float = 10.0) -> None:
        """Bridge until ``stop``; then wait up to ``drain_s`` for batches Kafka has not confirmed
        yet (those left unconfirmed stay unacknowledged: the broker redelivers them)."""
        settings = self.settings
        self.source = MqttSource(settings.mqtt, [subscription(settings.mqtt.topic_prefix)])
        self.source.start()
        try:
            await self._loop(stop)
            if self._confirming and drain_s > 0:
                await asyncio.wait(self._confirming, timeout=drain_s)
            self._raise_failure()
        finally:
            for task in self._confirming:
                task.cancel()
            await asyncio.gather(*self._confirming, return_exceptions=True)
            self.source.stop()

    async def _loop(self, stop: asyncio.Event) -> None:
        assert self.source is not None
        source = self.source
        loop = asyncio.get_running_loop()
        batch_max = self.settings.ingest.batch_max
        alive = self.metrics.agent_alive.labels("bridge")
        while not stop.is_set():
            self._raise_failure()
            if source.connected.is_set():
                self.connected.set()
            raw = await loop.run_in_executor(None, source.get_batch, batch_max, 0.05)
            alive.set(time.time())
            self.metrics.queue_depth.labels("ingest").set(source.messages.qsize())
            if raw:
                if not await self._slot(stop):
                    return  # stopping while Kafka is slow: this batch stays unacknowledged
                try:
                    futures = await self._forward(raw)
                except BaseException:
                    self._slots.release()
                    raise
                task = asyncio.create_task(self._confirm(raw, futures, time.perf_counter()))
                self._confirming.add(task)
                task.add_done_callback(self._confirming.discard)

    async def _slot(self, stop: asyncio.Event) -> bool:
        """Wait for room among the batches in flight; False if ``stop`` came first."""
        acquire = asyncio.ensure_future(self._slots.acquire())
        stopped = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({acquire, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if acquire in done:
            return True
        acquire.cancel()
        return False

    async def _forward(self, raw: list[SourceMessage]) -> list[Awaitable[object]]:
        """Decode each message; refuse (dead letter) or hand it to the producer."""
        now = self.clock.now()
        futures: list[Awaitable[object]] = []
        for message in raw:
            try:
                reading = self.decoder.decode(
                    message.topic, message.payload, now, received=message.received
                )
            except PayloadRejected as rejected:
                self._dead_letter(
                    DeadLetter.of(rejected, message.topic, message.payload, message.received)
                )
                continue
            futures.append(
                await self.producer.send(
                    self.topic,
                    message.payload,
                    key=reading.station.encode(),
                    partition=partition_for(reading.station, self.partitions),
                    headers=reading_headers(message.topic, message.received),
                )
            )
        self.metrics.bridge_inflight.inc(len(futures))
        return futures

    async def _confirm(
        self, raw: list[SourceMessage], futures: list[Awaitable[object]], started: float
    ) -> None:
        try:
            await asyncio.gather(*futures)
        except Exception as exc:
            log.critical(
                "kafka did not confirm a batch; exiting without acknowledging it",
                extra={"messages": len(raw), "error": repr(exc)},
            )
            self._failure = exc
            return
        finally:
            self.metrics.bridge_inflight.dec(len(futures))
            self._slots.release()
        assert self.source is not None
        self.acked += self.source.ack(raw)
        self.produced += len(futures)
        self.metrics.bridge_produced.inc(len(futures))
        self.metrics.bridge_produce_seconds.observe(time.perf_counter() - started)

    def _dead_letter(self, letter: DeadLetter) -> None:
        self.rejected += 1
        self.metrics.rejected.labels(letter.reason.value).inc()
        self.dead_letters.write(letter)
        topic = self.settings.ingest.dead_letter_topic
        if topic and self.source is not None:
            self.source.publish(topic, json.dumps(letter.to_json()).encode(), qos=1)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise BridgeError(f"kafka did not take a batch: {self._failure!r}") from self._failure


async def run_bridge(settings: Settings, stop: asyncio.Event) -> None:
    """``yujing bridge``: the bridge with aiokafka's producer and the metrics endpoint."""
    from prometheus_client import start_http_server

    from yujing.runtime.kafka import KafkaProducer

    metrics = Metrics()
    server = None
    if settings.metrics.port:
        server, _ = start_http_server(
            settings.metrics.port, settings.metrics.host, registry=metrics.registry
        )
    producer = KafkaProducer(
        settings.kafka.brokers,
        client_id=settings.mqtt.client_id,
        delivery_timeout_s=settings.kafka.delivery_timeout_s,
    )
    await producer.start()
    try:
        await Bridge(settings, producer, metrics=metrics).run(stop)
    finally:
        await producer.stop()
        if server is not None:
            server.shutdown()
