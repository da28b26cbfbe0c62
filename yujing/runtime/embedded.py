"""The embedded runtime (DESIGN §6): one process, asyncio, no external service but a broker.

paho's network thread only enqueues raw messages; this loop drains them in batches, runs the
pure :class:`~yujing.pipeline.Pipeline`, hands notices to the dispatcher, writes dead letters and
only then acknowledges the batch to the broker, so a crash before processing means redelivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import start_http_server

from alerting import ConsoleNotifier, Dispatcher, Notifier, WebhookNotifier
from ingest import DeadLetterFile, MqttSource, subscription
from yujing.broker import Broker, ensure_broker
from yujing.clock import Clock, WallClock
from yujing.config import (
    LadderBook,
    QuantityLimits,
    Registry,
    Settings,
    load_ladders,
    load_quantities,
    load_registry,
)
from yujing.files import atomic_write_json, read_json
from yujing.metrics import Metrics
from yujing.pipeline import Pipeline, RawMessage, StepResult, latencies

log = logging.getLogger(__name__)

SNAPSHOT_EVERY_S = 10.0


@dataclass(frozen=True, slots=True)
class RuntimeParts:
    """Everything loaded from ``configs/`` that a runtime needs."""

    registry: Registry
    ladders: LadderBook
    limits: QuantityLimits


def load_parts(settings: Settings) -> RuntimeParts:
    """Load and validate the registry, ladders and limits (raises ConfigError)."""
    registry = load_registry(settings.registry)
    ladders = load_ladders(settings.ladders)
    limits = load_quantities(settings.quantities)
    for station in registry:  # resolve every station's rules now, so errors surface at start
        ladders.for_station(station)
    return RuntimeParts(registry, ladders, limits)


def build_notifiers(settings: Settings) -> list[Notifier]:
    notifiers: list[Notifier] = []
    if settings.notify.console:
        notifiers.append(ConsoleNotifier())
    for hook in settings.notify.webhooks:
        secret = hook.secret_file.read_bytes().strip() if hook.secret_file else None
        notifiers.append(WebhookNotifier(hook.name, hook.url, secret, hook.timeout_s))
    return notifiers


class EmbeddedRuntime:
    """Run the pipeline against a real MQTT broker until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        *,
        parts: RuntimeParts | None = None,
        clock: Clock | None = None,
        notifiers: list[Notifier] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.parts = parts or load_parts(settings)
        self.clock = clock or WallClock()
        self.metrics = metrics or Metrics()
        self.notifiers = notifiers if notifiers is not None else build_notifiers(settings)
        self.pipeline = Pipeline(
            self.parts.registry,
            self.parts.ladders,
            self.parts.limits,
            settings.ingest,
            topic_prefix=settings.mqtt.topic_prefix,
            metrics=self.metrics,
        )
        self.broker: Broker | None = None
        self.source: MqttSource | None = None
        self.connected = asyncio.Event()
        self.dead_letters = DeadLetterFile(settings.ingest.dead_letter_path)
        self.snapshot_path = settings.state_dir / "pipeline-state.json"
        self.processed = 0

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.settings
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.broker = ensure_broker(
            settings.mqtt.url,
            settings.state_dir / "broker",
            allow_start=settings.mqtt.start_broker == "auto",
        )
        if self.broker is not None:
            log.warning(
                "no broker answered; started one",
                extra={"broker": self.broker.kind, "url": self.broker.url},
            )
        self._restore()
        metrics_server = None
        if settings.metrics.port:
            metrics_server, _ = start_http_server(
                settings.metrics.port, settings.metrics.host, registry=self.metrics.registry
            )
        dispatcher = Dispatcher(
            self.notifiers,
            self.metrics,
            max_attempts_by_channel={h.name: h.max_attempts for h in settings.notify.webhooks},
        )
        await dispatcher.start()
        self.source = MqttSource(settings.mqtt, [subscription(settings.mqtt.topic_prefix)])
        self.source.start()
        try:
            await self._loop(stop, dispatcher)
        finally:
            self.source.stop()
            self._save()
            await dispatcher.drain(timeout=5.0)
            await dispatcher.close()
            if metrics_server is not None:
                metrics_server.shutdown()
            if self.broker is not None:
                self.broker.stop()

    async def _loop(self, stop: asyncio.Event, dispatcher: Dispatcher) -> None:
        assert self.source is not None
        loop = asyncio.get_running_loop()
        source = self.source
        batch_max = self.settings.ingest.batch_max
        last_tick = last_snapshot = time.monotonic()
        while not stop.is_set():
            if self.source.connected.is_set():
                self.connected.set()
            raw = await loop.run_in_executor(None, source.get_batch, batch_max, 0.05)
            if raw:
                started = time.perf_counter()
                batch = [RawMessage(m.topic, m.payload, m.received) for m in raw]
                result = self.pipeline.process(batch, self.clock.now())
                self._emit(result, dispatcher)
                self.source.ack(raw)
                self.processed += len(raw)
                self.metrics.batch_seconds.observe(time.perf_counter() - started)
            self.metrics.queue_depth.labels("ingest").set(source.messages.qsize())
            wall = time.monotonic()
            if wall - last_tick >= self.settings.tick_s:
                last_tick = wall
                self._emit(self.pipeline.tick(self.clock.now()), dispatcher)
            if wall - last_snapshot >= SNAPSHOT_EVERY_S:
                last_snapshot = wall
                self._save()

    def _emit(self, result: StepResult, dispatcher: Dispatcher) -> None:
        for letter in result.rejected:
            self.dead_letters.write(letter)
            topic = self.settings.ingest.dead_letter_topic
            if topic and self.source is not None:
                self.source.publish(topic, json.dumps(letter.to_json()).encode(), qos=1)
        if result.notices:
            now = self.clock.now()
            for hazard, seconds in latencies(result.notices, now):
                self.metrics.end_to_end_latency.labels(hazard).observe(seconds)
            for notice in result.notices:
                dispatcher.submit(notice)

    def _restore(self) -> None:
        state: Any = read_json(self.snapshot_path)
        if state is None:
            return
        try:
            self.pipeline.restore(state)
            log.info("state restored", extra={"path": str(self.snapshot_path)})
        except (KeyError, TypeError, ValueError) as exc:
            log.error("state snapshot unusable; starting fresh", extra={"error": str(exc)})

    def _save(self) -> None:
        atomic_write_json(self.snapshot_path, self.pipeline.snapshot())

