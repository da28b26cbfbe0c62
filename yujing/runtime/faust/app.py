"""The Faust app of ``yujing worker``: the detect, network and alert agents and the leader's tick
timer (``yujing worker --role notifier`` is :mod:`.notifier`). Faust is imported only here, in
:mod:`.notifier`, :mod:`.plumbing` and :mod:`.worker`; the logic lives in the Faust-free stages
(:mod:`.stations`, :mod:`.network`, :mod:`.alerts`, :mod:`.notify`).

Agents (STYLE §4: one loop each, one job each, ``concurrency=1`` because they write tables):

``detect``   readings (N partitions) → :class:`~.stations.StationStage` → network topic;
             table ``stations`` (key: station id), co-partitioned with the readings.
``network``  network (1 partition) → :class:`~.network.NetworkStage` (the second tier) →
             findings topic; table ``network`` (one key).
``alert``    findings (N partitions) → :class:`~.alerts.AlertStage` → notices topic; table
             ``alerting`` (the rows of each partition's alert book), co-partitioned. Officers'
             commands from the HTTP API (:mod:`.desk`, when ``api.port`` is set) arrive here
             too, keyed by district.
``notify``   notices → :class:`~.notify.NotifyStage` (dispatcher, notifiers); its own app and
             consumer group; a record is acknowledged at its delivery's final outcome.

Per record (manual acks): compute on the stage's live objects — any exception here is *that
record's* problem: counted in ``yujing_agent_errors_total``, the record written to the dead-letter
topic with the error, and the agent goes on with its live objects as they are (a detector that
raised did not apply the reading; the others did; counters never go back); the outputs are sent
at once. At each checkpoint (:mod:`.state`) the agent
waits until Kafka has every output, writes the changed state to the table, and acknowledges the
records. An exception while sending or writing is Kafka's problem, not the record's: the agent
crashes, ``CrashingSupervisor`` takes the app down and the process exits non-zero for its
supervisor to restart (no zombie workers).

Time-driven work runs on ticks: the leader's timer sends ``{"now"}`` into every partition of the
readings and findings topics every ``tick_s`` (the detect agents pass each tick on to the network
agent with what it did to their stations), so silence, window expiry, dwells and escalation
deadlines advance without data, in order with each partition's data, and replay alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, cast

from mode import CrashingSupervisor

from alerting import PipelineConfig
from alerting.model import EventKind, Step
from alerting.service import ack_seconds
from yujing.api.server import ApiServer
from yujing.clock import Clock, WallClock
from yujing.config import Settings
from yujing.config.roster import load_tokens
from yujing.contracts import NoticeReason
from yujing.metrics import Metrics
from yujing.pipeline import StepResult, latencies
from yujing.runtime.alerting import build_alerting
from yujing.runtime.embedded import RuntimeParts, load_parts
from yujing.runtime.faust.alerts import AlertStage, AlertStep
from yujing.runtime.faust.desk import KafkaDesk
from yujing.runtime.faust.network import NetworkStage, NetworkStep
from yujing.runtime.faust.plumbing import (
    Agents,
    FaustProducer,
    FaustTable,
    faust_app,
    gather,
    table,
)
from yujing.runtime.faust.records import (
    RecordType,
    decode_command,
    decode_findings,
    decode_station,
    decode_tick,
    decode_tick_part,
    encode_delivery,
    encode_findings,
    encode_station,
    encode_tick,
    encode_tick_part,
    header_map,
    partition_for,
    reading_origin,
    record_type,
)
from yujing.runtime.faust.state import Checkpoints
from yujing.runtime.faust.stations import StationStage, StationStep
from yujing.runtime.kafka import Producer
from yujing.storage import StorageWriter

__all__ = ["StreamApp", "alerting_config"]

log = logging.getLogger(__name__)

_COMMANDS = (EventKind.ACK, EventKind.FEEDBACK, EventKind.SILENCE_ADDED, EventKind.SILENCE_EXPIRED)


def alerting_config(settings: Settings, parts: RuntimeParts, metrics: Metrics) -> PipelineConfig:
    """The embedded runtime's alerting policy, built by the same code from the same settings."""
    built = build_alerting(settings, parts.registry, clock=WallClock(), metrics=metrics)
    return built.service.pipeline.config


class StreamApp(Agents):
    """``yujing worker``: the detect, network and alert agents and the leader's tick timer.

    ``producer`` replaces the app's Kafka producer: tests and benchmarks drive the agents with
    Faust's ``test_context()`` and read what they send from a
    :class:`~yujing.runtime.kafka.MemoryLog`. A checkpoint is due every
    ``kafka.checkpoint_every_s`` or after ``checkpoint_records`` records.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        parts: RuntimeParts | None = None,
        metrics: Metrics | None = None,
        producer: Producer | None = None,
        clock: Clock | None = None,
        writer: str | None = None,
        checkpoint_records: int = 10_000,
    ) -> None:
        metrics = metrics or Metrics()
        super().__init__(settings, faust_app(settings, settings.kafka.app_id), metrics)
        self.checkpoint_records = checkpoint_records
        self.parts = parts or load_parts(settings)
        self.clock = clock or WallClock()
        kafka = settings.kafka
        app = self.app
        self.producer: Producer = producer or FaustProducer(
            [self.readings, self.network, self.findings, self.notices, self.dead]
        )
        n = kafka.partitions
        self.station_table = FaustTable(
            table(app, "stations", n, "Per station: history, detector snapshots, counters.")
        )
        self.network_table = FaustTable(
            table(app, "network", 1, "The second tier's snapshot, applied station records.")
        )
        self.alert_table = FaustTable(
            table(app, "alerting", n, "Per findings partition: alert book rows and meta.")
        )
        self.stations = StationStage(
            self.parts.registry,
            self.parts.ladders,
            self.parts.limits,
            settings.ingest,
            topic_prefix=settings.mqtt.topic_prefix,
            partitions=n,
            writer=writer,
        )
        self.tier2 = NetworkStage(
            self.parts.registry, self.parts.ladders, partitions=n, writer=writer
        )
        config = alerting_config(settings, self.parts, metrics)
        self.alerts = AlertStage(config, writer=writer)
        self.desk = KafkaDesk(
            self.producer, self.findings.get_topic_name(), n, self.parts.registry, self.alerts
        )
        self.api: ApiServer | None = None
        if settings.api.port:  # the embedded runtime's API, on the books through self.desk
            api = settings.api
            self.api = ApiServer(
                self.desk,
                host=api.host,
                port=api.port,
                tokens=load_tokens(api.tokens_file) if api.tokens_file is not None else {},
                clock=self.clock.now,
                links=config.links,
                metrics=metrics,
            )
            app.task(self._start_api)
            app.on_before_shutdown.connect(cast(Any, self._stop_api))
        strategy = CrashingSupervisor
        self.detect = app.agent(self.readings, name="detect", supervisor_strategy=strategy)(
            self._detect
        )
        self.network_agent = app.agent(self.network, name="network", supervisor_strategy=strategy)(
            self._network
        )
        self.alert = app.agent(self.findings, name="alert", supervisor_strategy=strategy)(
            self._alert
        )
        app.timer(settings.tick_s, on_leader=True, name="tick")(self.send_ticks)
        self._owned: set[tuple[str, int]] | None = None
        app.on_partitions_assigned.connect(cast(Any, self._assigned))
        app.on_partitions_revoked.connect(cast(Any, self._revoked))
        self.storage: StorageWriter | None = None
        if settings.storage.enabled:  # observes, never awaited (docs/storage.md)
            self.storage = StorageWriter(
                settings.storage, metrics, registry=self.parts.registry, ladders=self.parts.ladders
            )
            app.on_before_shutdown.connect(cast(Any, self._stop_storage))

    async def _stop_storage(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        if self.storage is not None:
            await asyncio.to_thread(self.storage.close, 5.0)

    async def _start_api(self) -> None:
        if self.api is not None:
            await self.api.start()

    async def _stop_api(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        if self.api is not None:
            await self.api.stop()

    def checkpoints(self) -> Checkpoints:
        return Checkpoints(self.settings.kafka.checkpoint_every_s, self.checkpoint_records)

    # ---- agents -----------------------------------------------------------------------------

    async def _detect(self, stream: Any) -> AsyncIterator[StationStep | None]:
        manual = stream.noack()
        checkpoints = self.checkpoints()
        async for event in manual.events():
            step = await self.on_reading(event, checkpoints)
            if checkpoints.due():
                await checkpoints.run(
                    gather,
                    lambda: self.stations.checkpoint(self.station_table, self._owns_readings),
                    manual.ack,
                )
            yield step

    async def _network(self, stream: Any) -> AsyncIterator[NetworkStep | None]:
        manual = stream.noack()
        checkpoints = self.checkpoints()
        async for event in manual.events():
            step = await self.on_station(event, checkpoints)
            if checkpoints.due():
                await checkpoints.run(
                    gather,
                    lambda: self.tier2.checkpoint(self.network_table, self._owns_network()),
                    manual.ack,
                )
            yield step

    async def _alert(self, stream: Any) -> AsyncIterator[AlertStep | None]:
        manual = stream.noack()
        checkpoints = self.checkpoints()
        async for event in manual.events():
            step = await self.on_findings(event, checkpoints)
            if checkpoints.due():
                await checkpoints.run(
                    gather,
                    lambda: self.alerts.checkpoint(self.alert_table, self._owns_findings),
                    manual.ack,
                )
            yield step

    async def on_reading(self, event: Any, checkpoints: Checkpoints) -> StationStep | None:
        """One record of the readings topic (a reading or a tick)."""
        message = event.message
        headers = header_map(event.headers)
        try:
            kind = record_type(headers)
            if kind is RecordType.TICK:
                step = self.stations.tick(
                    self.station_table, message.partition, decode_tick(event.value)
                )
            elif kind is RecordType.READING:
                mqtt_topic, received = reading_origin(headers)
                step = self.stations.reading(
                    self.station_table, message.offset, mqtt_topic, event.value, received
                )
            else:
                raise ValueError(f"a {kind} record on the readings topic")
        except Exception as exc:
            checkpoints.add(event, [await self.record_failed(self.producer, "detect", event, exc)])
            return None
        sends = []
        network = self.network.get_topic_name()
        for record in step.records:
            value, out_headers = encode_station(record)
            sends.append(
                await self.producer.send(
                    network, value, key=record.source.encode(), partition=0, headers=out_headers
                )
            )
        if step.tick is not None:
            value, out_headers = encode_tick_part(step.tick)
            key = str(step.tick.partition).encode()
            sends.append(
                await self.producer.send(network, value, key=key, partition=0, headers=out_headers)
            )
        for letter in step.rejected:
            body = json.dumps(letter.to_json()).encode()
            sends.append(await self.producer.send(self.dead.get_topic_name(), body, key=event.key))
        checkpoints.add(event, sends)
        self._observe_station(kind, step)
        return step

    async def on_station(self, event: Any, checkpoints: Checkpoints) -> NetworkStep | None:
        """One record of the network topic (a station record or a tick)."""
        offset = event.message.offset
        try:
            kind = record_type(header_map(event.headers))
            if kind is RecordType.TICK_PART:
                part = decode_tick_part(event.value)
                step = self.tier2.tick_part(self.network_table, offset, part)
            elif kind is RecordType.STATION:
                record = decode_station(event.value)
                step = self.tier2.station(self.network_table, offset, record)
            else:
                raise ValueError(f"a {kind} record on the network topic")
        except Exception as exc:
            checkpoints.add(event, [await self.record_failed(self.producer, "network", event, exc)])
            return None
        sends = []
        for batch in step.batches:
            value, out_headers = encode_findings(batch)
            sends.append(
                await self.producer.send(
                    self.findings.get_topic_name(),
                    value,
                    key=batch.key.encode(),
                    partition=partition_for(batch.district, self.settings.kafka.partitions),
                    headers=out_headers,
                )
            )
        checkpoints.add(event, sends)
        self.alive("network", kind.value)
        if step.replayed:
            self.metrics.agent_replayed.labels("network").inc()
        if kind is RecordType.TICK_PART:
            self._observe_completeness()
        if self.storage is not None and step.batches:
            self.storage.submit(StepResult(findings=step.findings))
        return step

    async def on_findings(self, event: Any, checkpoints: Checkpoints) -> AlertStep | None:
        """One record of the findings topic (a batch of findings or a tick)."""
        message = event.message
        try:
            kind = record_type(header_map(event.headers))
            if kind is RecordType.TICK:
                out = self.alerts.tick(
                    self.alert_table, message.partition, message.offset, decode_tick(event.value)
                )
            elif kind is RecordType.FINDINGS:
                batch = decode_findings(event.value)
                out = self.alerts.findings(
                    self.alert_table, message.partition, message.offset, batch
                )
            elif kind is RecordType.COMMAND:
                command = decode_command(event.value)
                out = self.alerts.command(
                    self.alert_table, message.partition, message.offset, command
                )
            else:
                raise ValueError(f"a {kind} record on the findings topic")
        except Exception as exc:
            checkpoints.add(event, [await self.record_failed(self.producer, "alert", event, exc)])
            return None
        sends = []
        for delivery in out.step.deliveries:
            value, out_headers = encode_delivery(delivery, out.now)
            sends.append(
                await self.producer.send(
                    self.notices.get_topic_name(),
                    value,
                    key=str(delivery.notice.key).encode(),
                    headers=out_headers,
                )
            )
        checkpoints.add(event, sends)
        self._observe_alerts(kind, out)
        if out.command is not None and out.answer is not None:
            self.desk.settle(out.command.id, out.partition, out.answer)
        return out

    # ---- time -------------------------------------------------------------------------------

    async def send_ticks(self) -> None:
        """The leader's timer: a tick into every partition of the readings and findings topics
        (the network agent ticks when every readings partition has passed its tick on)."""
        value, headers = encode_tick(self.clock.now())
        sends = []
        for topic in (self.readings, self.findings):
            for partition in range(self.settings.kafka.partitions):
                sends.append(
                    await self.producer.send(
                        topic.get_topic_name(), value, partition=partition, headers=headers
                    )
                )
        await asyncio.gather(*sends)

    def _owns(self, topic: str, partition: int) -> bool:
        """Does this worker hold the partition? (Before any assignment — Faust's test harness —
        it holds everything.)"""
        return self._owned is None or (topic, partition) in self._owned

    def _owns_readings(self, partition: int) -> bool:
        return self._owns(self.readings.get_topic_name(), partition)

    def _owns_network(self) -> bool:
        return self._owns(self.network.get_topic_name(), 0)

    def _owns_findings(self, partition: int) -> bool:
        return self._owns(self.findings.get_topic_name(), partition)

    async def _assigned(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        assigned = args[0] if args else kwargs.get("assigned", ())
        self._owned = {(tp.topic, tp.partition) for tp in assigned}

    async def _revoked(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Partitions moved away: drop their live objects (the next owner has the table); a
        record of theirs still being handled is not written back (:meth:`_owns`)."""
        revoked = args[0] if args else kwargs.get("revoked", ())
        if self._owned is not None:
            self._owned -= {(tp.topic, tp.partition) for tp in revoked}
        for tp in revoked:
            if tp.topic == self.readings.get_topic_name():
                self.stations.forget(partition=tp.partition)
            elif tp.topic == self.network.get_topic_name():
                self.tier2.forget()
            elif tp.topic == self.findings.get_topic_name():
                self.alerts.forget(partition=tp.partition)

    # ---- metrics ----------------------------------------------------------------------------

    def _observe_station(self, kind: RecordType, step: StationStep) -> None:
        metrics = self.metrics
        self.alive("detect", kind.value)
        if step.replayed:
            metrics.agent_replayed.labels("detect").inc()
        for reading in step.readings:
            metrics.ingested.labels(reading.kind.value).inc()
        for letter in step.rejected:
            metrics.rejected.labels(letter.reason.value).inc()
        if self.storage is not None:
            self.storage.observe_findings(step.findings)  # sensor/quality: the suspect tag
            if step.readings:
                self.storage.submit(StepResult(readings=list(step.readings)))

    def _observe_command(self, officer: str, step: Step) -> None:
        """An officer's command: the audit line (this runtime has no journal), the
        acknowledgement metrics, and its notices to storage with the officer."""
        metrics, ack_s = self.metrics, ack_seconds(step)
        for event in step.events:
            if event.kind not in _COMMANDS or event.data.get("status") == "not_active":
                continue  # not_active: a partition without the alert (a command sent to all)
            log.info(
                "officer command",
                extra={"kind": event.kind.value, "key": event.key, "officer": event.officer,
                       "data": event.data},
            )  # fmt: skip
            grade = event.data.get("paged_grade")
            if event.kind is EventKind.ACK and ack_s is not None and grade is not None:
                metrics.alert_ack_seconds.labels(grade).observe(ack_s)
                if ack_s <= self.settings.alerting.reach_target_s:
                    metrics.alert_reached.labels(grade).inc()
        if self.storage is not None and step.notices:
            self.storage.submit_notices(step.notices, officer=officer, ack_s=ack_s)

    def _observe_completeness(self) -> None:
        book = self.tier2.tier.completeness
        stations = book.stations()
        self.metrics.completeness.set(stations, book.districts(stations))

    def _observe_alerts(self, kind: RecordType, out: AlertStep) -> None:
        metrics = self.metrics
        self.alive("alert", kind.value)
        if out.replayed:
            metrics.agent_replayed.labels("alert").inc()
        step = out.step
        for notice in step.notices:
            labels = (notice.hazard.value, notice.grade.value, notice.reason.value)
            metrics.notices.labels(*labels).inc()
            if notice.reason in (NoticeReason.ESCALATED, NoticeReason.REMINDER):
                metrics.alert_escalations.labels(notice.grade.value, notice.reason.value).inc()
        for hazard, seconds in latencies(step.notices, time.time()):
            metrics.end_to_end_latency.labels(hazard).observe(seconds)
        for suppressed in step.suppressed:
            metrics.alert_suppressed.labels(suppressed.reason.value).inc()
        for event in step.events:
            if event.kind is EventKind.PAGE:
                metrics.alert_pages.labels(event.data["grade"]).inc()
        if out.command is not None:
            self._observe_command(out.command.officer, step)
        elif self.storage is not None and step.notices:
            self.storage.submit_notices(step.notices)
        if step.notices:
            counts: dict[tuple[str, str], int] = {}
            for alert in self.alerts.alerts():
                label = (alert.key.hazard.value, alert.grade.value)
                counts[label] = counts.get(label, 0) + 1
            metrics.alerts_active.clear()
            for (hazard, grade), count in counts.items():
                metrics.alerts_active.labels(hazard, grade).set(count)
