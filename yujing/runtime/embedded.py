"""The embedded runtime (DESIGN §6): one process, asyncio, no external service but a broker.

paho's network thread only enqueues raw messages; this loop drains them in batches, runs the
:class:`~yujing.pipeline.Pipeline` (whose grader is the alerting service: it journals every
transition and outbox row before anything is sent), writes dead letters and appends the batch to
the input log (:mod:`yujing.runtime.recovery`); the batch is acknowledged to the broker only once
that log is on disk (:class:`~yujing.runtime.recovery.SyncedAcks`, off the loop), so a crash
before that means redelivery (docs/alerting.md, "What survives kill -9").
"""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

import detectors
import ingest
from alerting import Notifier
from ingest import DeadLetterFile, MqttSource, subscription
from ingest import RawMessage as SourceMessage
from ingest.mqtt_process import ProcessMqttSource
from yujing import native
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
from yujing.files import read_json
from yujing.heap import rare_collections
from yujing.metrics import Metrics
from yujing.pipeline import Pipeline, StepResult, latencies
from yujing.runtime.alerting import build_alerting
from yujing.runtime.recovery import Checkpoints, InputLog, SyncedAcks
from yujing.storage import StorageWriter

log = logging.getLogger(__name__)

LIVE_YOUNG_COLLECTION = 10_000
"""Allocations between young collections while the loop runs: rare (CPython's default is 700;
see :mod:`yujing.heap`), yet few enough that each stays a short pause, as a notice may be
waiting behind it (a replay, which has no one waiting, takes 100,000)."""


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
        """Called on the loop after each batch is processed, journaled and logged (benchmarks,
        diagnostics); its ack follows once the input log is on disk."""
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
        self.pipeline = self._fresh_pipeline()
        self.broker: Broker | None = None
        self.source: MqttSource | ProcessMqttSource | None = None
        self.connected = asyncio.Event()
        self.dead_letters = DeadLetterFile(settings.ingest.dead_letter_path)
        self.snapshot_path = settings.state_dir / "pipeline-state.json"
        self.input_log = InputLog(
            settings.state_dir / "input", fsync=settings.recovery.fsync, defer_sync=True
        )
        self.checkpoints = Checkpoints(
            self.snapshot_path,
            self.input_log,
            lambda: {"fingerprint": self._fingerprint, "pipeline": self.pipeline.snapshot()},
            fork=settings.recovery.fork,
        )
        self.processed = 0
        self.acks: SyncedAcks | None = None
        self.storage: StorageWriter | None = None
        if settings.storage.enabled:  # observes every StepResult, never awaited (docs/storage.md)
            self.storage = StorageWriter(
                settings.storage, self.metrics, registry=self.parts.registry,
                ladders=self.parts.ladders, clock=self.clock.now,
            )  # fmt: skip
            self.alerting.observers.append(self.storage.submit_notices)  # acks and silences too

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
        # the receiver connects while the state is restored (its child process takes ~0.4 s to
        # start); what it receives meanwhile waits, unacknowledged, for the loop
        source = self.source = self._open_source()
        source.start()
        try:
            metrics_server = await self._start_parts()
        except BaseException:
            source.stop()
            raise
        if self.api is not None:
            self.api.ready = source.connected.is_set
        acks = self.acks = SyncedAcks(self.input_log, source.ack)
        acks.start()
        try:
            with rare_collections(young=LIVE_YOUNG_COLLECTION):
                await self._loop(stop)
        finally:
            acks.close()  # what was processed is on disk and acknowledged
            source.stop()
            self.checkpoints.write_now()
            self.input_log.close()
            if self.api is not None:
                await self.api.stop()
            await self.alerting.close(drain_s=5.0)
            if self.storage is not None:
                await asyncio.to_thread(self.storage.close, 5.0)
            if metrics_server is not None:
                metrics_server.shutdown()
            if self.broker is not None:
                self.broker.stop()

    def _open_source(self) -> MqttSource | ProcessMqttSource:
        mqtt = self.settings.mqtt
        filters = [subscription(mqtt.topic_prefix)]
        if mqtt.receiver == "process":
            return ProcessMqttSource(mqtt, filters, batch_max=self.settings.ingest.batch_max)
        return MqttSource(mqtt, filters)

    async def _start_parts(self) -> WSGIServer | None:
        """Restore the detectors, start storage, metrics, alerting and the API; returns the
        metrics server (None without ``metrics.port``)."""
        settings = self.settings
        log.info(native.status())  # compiled or interpreted (yujing.native): speeds differ
        self._recover()
        # the detectors' state is hundreds of thousands of long-lived objects (620k at 5,000
        # stations): a full collection over them stalls the loop ~0.2 s (docs/performance.md).
        # The garbage of loading goes now; the loop freezes the rest (yujing.heap).
        gc.collect()
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
        return metrics_server

    async def _loop(self, stop: asyncio.Event) -> None:
        assert self.source is not None and self.acks is not None
        loop = asyncio.get_running_loop()
        source, acks = self.source, self.acks
        batch_max = self.settings.ingest.batch_max
        recovery = self.settings.recovery
        last_tick = last_checkpoint = time.monotonic()
        while not stop.is_set():
            if self.source.connected.is_set():
                self.connected.set()
            raw = await loop.run_in_executor(None, source.get_batch, batch_max, 0.05)
            if raw:
                started = time.perf_counter()
                now = self.clock.now()
                result = self.pipeline.process(raw, now)
                self._emit(result)
                self.input_log.append_batch(raw, now)  # replayable before the broker forgets
                acks.submit(raw)  # acknowledged once that is on disk
                self.processed += len(raw)
                if self.on_batch is not None:
                    self.on_batch(raw, result)
                self.metrics.batch_seconds.observe(time.perf_counter() - started)
            self._observe_source()
            wall = time.monotonic()
            if wall - last_tick >= self.settings.tick_s:
                last_tick = wall
                now = self.clock.now()
                self._emit(self.pipeline.tick(now))
                self.input_log.append_tick(now)
            self.checkpoints.reap()
            if (
                wall - last_checkpoint >= recovery.checkpoint_s
                or self.input_log.bytes >= recovery.checkpoint_mb * 2**20
            ) and self.checkpoints.begin():
                last_checkpoint = time.monotonic()

    def _observe_source(self) -> None:
        source, metrics = self.source, self.metrics
        assert source is not None
        metrics.queue_depth.labels("ingest").set(source.queued())
        metrics.mqtt_subscribed.set(1 if source.connected.is_set() else 0)
        metrics.mqtt_connects.set(source.connects)
        if isinstance(source, ProcessMqttSource):
            metrics.mqtt_receiver_restarts.set(source.restarts)

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

    def _recover(self) -> None:
        """Restore the last checkpoint, feed the detectors the input logged since, and start a
        fresh checkpoint so the next crash replays little."""
        since = self._restore()
        if since is None:  # state of other code or configs: neither it nor its log applies
            self.input_log.drop_before(self.input_log.segment)
        else:
            began, fed = time.perf_counter(), 0
            for entry in self.input_log.entries(since):
                self.pipeline.recover(entry.messages, entry.now)
                fed += len(entry.messages or ())
            if fed:
                log.info(
                    "detectors recovered from the input log",
                    extra={"messages": fed, "seconds": round(time.perf_counter() - began, 3)},
                )
        self.checkpoints.write_now()

    def _fresh_pipeline(self) -> Pipeline:
        return Pipeline(
            self.parts.registry,
            self.parts.ladders,
            self.parts.limits,
            self.settings.ingest,
            topic_prefix=self.settings.mqtt.topic_prefix,
            metrics=self.metrics,
            grader=self.alerting,
        )

    def _restore(self) -> int | None:
        """The input log segment the checkpoint covers up to (0: no checkpoint, replay all);
        None when there is state but it cannot be used."""
        state: Any = read_json(self.snapshot_path)
        if state is None:
            return 0
        fingerprint = state.get("fingerprint") if isinstance(state, dict) else None
        if fingerprint != self._fingerprint:
            # detector state from other code or other configs cannot be trusted
            log.warning(
                "state snapshot from another code or config version; starting fresh",
                extra={"path": str(self.snapshot_path)},
            )
            return None
        try:
            self.pipeline.restore(state["pipeline"])
            log.info("state restored", extra={"path": str(self.snapshot_path)})
            return int(state.get("segment", 0))
        except (KeyError, TypeError, ValueError) as exc:
            log.error("state snapshot unusable; starting fresh", extra={"error": str(exc)})
            self.pipeline = self._fresh_pipeline()
            return None

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
