"""The embedded runtime (DESIGN §6): one process, asyncio, no external service but a broker.

paho's network thread only enqueues raw messages; this loop drains them in batches, runs the
:class:`~yujing.pipeline.Pipeline` (whose grader is the alerting service: it journals every
transition and outbox row before anything is sent), writes dead letters, snapshots detector
state when the batch accepted readings, and only then acknowledges the batch to the broker, so a
crash before that means redelivery (docs/alerting.md, "What survives kill -9").
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

import detectors
import ingest
from alerting import Notifier
from ingest import DeadLetterFile, MqttSource, subscription
from ingest import RawMessage as SourceMessage
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
from yujing.runtime.alerting import build_alerting
from yujing.storage import StorageWriter

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
        on_batch: Callable[[list[SourceMessage], StepResult], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_batch = on_batch
        """Called on the loop after each batch is processed and acked (benchmarks, diagnostics)."""
        self.parts = parts or load_parts(settings)
        self.clock = clock or WallClock()
        self.metrics = metrics or Metrics()
        alerting = build_alerting(
            settings,
            self.parts.registry,
            clock=self.clock,
            metrics=self.metrics,
            notifiers=notifiers,
        )
        self.alerting = alerting.service
        self.api = alerting.api
        self.pipeline = Pipeline(
            self.parts.registry,
            self.parts.ladders,
            self.parts.limits,
            settings.ingest,
            topic_prefix=settings.mqtt.topic_prefix,
            metrics=self.metrics,
            grader=self.alerting,
        )
        self.broker: Broker | None = None
        self.source: MqttSource | None = None
        self.connected = asyncio.Event()
        self.dead_letters = DeadLetterFile(settings.ingest.dead_letter_path)
        self.snapshot_path = settings.state_dir / "pipeline-state.json"
        self.processed = 0
        self.storage: StorageWriter | None = None
        if settings.storage.enabled:  # observes every StepResult, never awaited (docs/storage.md)
            self.storage = StorageWriter(
                settings.storage, self.metrics, registry=self.parts.registry,
                ladders=self.parts.ladders, clock=self.clock.now,
            )  # fmt: skip

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
        if self.storage is not None:
            self.storage.start()
        metrics_server = None
        if settings.metrics.port:
            metrics_server, _ = start_http_server(
                settings.metrics.port, settings.metrics.host, registry=self.metrics.registry
            )
        await self.alerting.start()  # rebuild from the journal, resume the outbox
        if self.api is not None:
            await self.api.start()
        self.source = MqttSource(settings.mqtt, [subscription(settings.mqtt.topic_prefix)])
        self.source.start()
        try:
            await self._loop(stop)
        finally:
            self.source.stop()
            self._save()
            if self.api is not None:
                await self.api.stop()
            await self.alerting.close(drain_s=5.0)
            if self.storage is not None:
                await asyncio.to_thread(self.storage.close, 5.0)
            if metrics_server is not None:
                metrics_server.shutdown()
            if self.broker is not None:
                self.broker.stop()

    async def _loop(self, stop: asyncio.Event) -> None:
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
                self._emit(result)
                if result.findings:  # detector grades as new as the journal before the ack
                    self._save()
                    last_snapshot = time.monotonic()  # fresh: no periodic save on top of it
                self.source.ack(raw)
                self.processed += len(raw)
                if self.on_batch is not None:
                    self.on_batch(raw, result)
                self.metrics.batch_seconds.observe(time.perf_counter() - started)
            self.metrics.queue_depth.labels("ingest").set(source.messages.qsize())
            wall = time.monotonic()
            if wall - last_tick >= self.settings.tick_s:
                last_tick = wall
                self._emit(self.pipeline.tick(self.clock.now()))
            if wall - last_snapshot >= SNAPSHOT_EVERY_S:
                last_snapshot = wall
                self._save()

    def _emit(self, result: StepResult) -> None:
        for letter in result.rejected:
            self.dead_letters.write(letter)
            topic = self.settings.ingest.dead_letter_topic
            if topic and self.source is not None:
                self.source.publish(topic, json.dumps(letter.to_json()).encode(), qos=1)
        if result.notices:
            now = self.clock.now()
            for hazard, seconds in latencies(result.notices, now):
                self.metrics.end_to_end_latency.labels(hazard).observe(seconds)
        if self.storage is not None:
            self.storage.submit(result)  # returns at once; a slow database never delays this

    def _restore(self) -> None:
        state: Any = read_json(self.snapshot_path)
        if state is None:
            return
        fingerprint = state.get("fingerprint") if isinstance(state, dict) else None
        if fingerprint != self._fingerprint:
            # detector state from other code or other configs cannot be trusted
            log.warning("state snapshot from another code or config version; starting fresh",
                        extra={"path": str(self.snapshot_path)})
            return
        try:
            self.pipeline.restore(state["pipeline"])
            log.info("state restored", extra={"path": str(self.snapshot_path)})
        except (KeyError, TypeError, ValueError) as exc:
            log.error("state snapshot unusable; starting fresh", extra={"error": str(exc)})

    def _save(self) -> None:
        atomic_write_json(
            self.snapshot_path,
            {"fingerprint": self._fingerprint, "pipeline": self.pipeline.snapshot()},
        )

    @functools.cached_property
    def _fingerprint(self) -> str:
        """Hash of the detector/ingest code and of the registry and ladders in use."""
        digest = hashlib.sha256()
        roots = [Path(detectors.__file__).parent, Path(ingest.__file__).parent]
        files = sorted(p for root in roots for p in root.glob("*.py"))
        files += [self.settings.registry, self.settings.quantities]
        files += sorted(self.settings.ladders.glob("*.yaml"))
        for path in files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()
