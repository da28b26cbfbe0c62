"""One scenario, two runtimes: the embedded pipeline and the Faust agents in Faust's own test
harness (``agent.test_context()``: real Faust streams, events and memory tables; what the agents
send is read back from a :class:`~yujing.runtime.kafka.MemoryLog`).

Both get the same schedule of raw MQTT messages and ticks and are driven the way their runtimes
drive them: the embedded one with one ``Pipeline.process`` batch per message (``now`` = receive
time) and ``Pipeline.tick`` per tick (its alerting service journaling to SQLite); the Faust one
through the bridge's checks, then the detect, network and alert agents (:mod:`.harness`: a tick
goes to every readings partition, and once the network agent passed on what it caused, to
every findings partition).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerting import Delivery
from alerting.codec import delivery_from_json, finding_to_json
from simulators import DEMO_REGISTRY, SensorSimulator, demo_scenario
from tests.unit.faust.harness import worker
from yujing.config import Settings, load_registry
from yujing.config.settings import KafkaSettings
from yujing.contracts import Finding, Kind, Notice, PayloadRejected
from yujing.metrics import Metrics
from yujing.pipeline import Pipeline, RawMessage
from yujing.runtime import RuntimeParts, load_parts
from yujing.runtime.alerting import build_alerting
from yujing.runtime.faust.alerts import AlertStep
from yujing.runtime.faust.network import NetworkStep
from yujing.runtime.faust.records import RecordType, decode_delivery, decode_findings, record_type
from yujing.runtime.faust.stations import StationStep, stateless_decoder
from yujing.runtime.kafka import MemoryLog

REPO = Path(__file__).resolve().parents[3]
START = 1_800_000_000.0  # scenario time 0, epoch s
PARTITIONS = 4


@dataclass(frozen=True, slots=True)
class Item:
    """A message (topic, payload, received) or, with ``topic`` None, a tick at ``at``."""

    at: float
    topic: str | None = None
    payload: bytes = b""

    @property
    def is_tick(self) -> bool:
        return self.topic is None


def settings_for(tmp_path: Path, partitions: int = PARTITIONS, **extra: Any) -> Settings:
    state = tmp_path / "state"
    values: dict[str, Any] = {
        "registry": DEMO_REGISTRY,
        "ladders": REPO / "configs" / "ladders",
        "quantities": REPO / "configs" / "quantities.yaml",
        "state_dir": state,
        "ingest": {"dead_letter_path": state / "dead-letters.jsonl"},
        "metrics": {"port": 0},
        "notify": {"console": False},
        "kafka": KafkaSettings(partitions=partitions, checkpoint_every_s=3600.0),
    }
    return Settings(**{**values, **extra})


SOME_SEISMIC = ("HD-SM-004", "HD-SM-007", "HD-SM-008")


def demo_schedule(
    t0_s: float = 100.0,
    t1_s: float = 420.0,
    tick_every_s: float = 5.0,
    seismic: tuple[str, ...] | None = SOME_SEISMIC,
) -> list[Item]:
    """The demo district from scenario second ``t0_s`` to ``t1_s``: every non-seismic message,
    the seismic packets of three stations (``seismic``; None: all) over the quake, ticks, and a
    handful of bad messages (each refusal reason the two runtimes must agree on)."""
    simulator = SensorSimulator(load_registry(DEMO_REGISTRY), demo_scenario(), seed=7, start=START)
    plain = simulator.deliveries(
        START + t0_s,
        START + t1_s,
        kinds=[Kind.RAIN, Kind.WATER_LEVEL, Kind.PONDING, Kind.GAS, Kind.CHEM],
    )
    quake = [
        m
        for m in simulator.deliveries(START + 296.0, START + 312.0, kinds=[Kind.SEISMIC])
        if seismic is None or m.station in seismic
    ]
    messages = sorted([*plain, *quake], key=lambda m: m.arrival)
    items = [Item(m.arrival, m.topic, m.payload) for m in messages]
    first = messages[0]
    body = json.loads(first.payload)

    def variant(**changes: Any) -> bytes:
        return json.dumps({**body, **changes}).encode()

    at, topic = first.arrival + 0.5, first.topic
    items += [
        Item(at, topic, first.payload),  # duplicate: refused by the station's history
        Item(at, topic, b"{not json"),  # malformed
        Item(at, topic.replace(first.station, "NOPE-1"), first.payload),  # unknown station
        Item(at, topic, variant(seq=10**6, ts=body["ts"] - 7_200_000)),  # too late
        Item(at, topic, variant(seq=10**6 + 1, ts=body["ts"] + 3_600_000)),  # future
        Item(at, topic, variant(seq=10**6 + 2, values={k: 1e9 for k in body["values"]})),
    ]
    t = START + t0_s
    while t < START + t1_s:
        items.append(Item(t))
        t += tick_every_s
    items.sort(key=lambda i: (i.at, i.is_tick))
    return items


def finding_key(finding: Finding) -> str:
    return json.dumps(finding_to_json(finding), sort_keys=True, default=str)


def notice_key(notice: Notice) -> str:
    return json.dumps(notice.to_json(), sort_keys=True, default=str)


@dataclass
class Outcome:
    """Per schedule item: findings and notices (as canonical JSON, order-free within the item)
    and refusals (topic, reason)."""

    findings: list[Counter[str]] = field(default_factory=list)
    notices: list[Counter[str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    deliveries: Counter[str] = field(default_factory=Counter)  # idempotency key, channel, notice
    routed: dict[str, set[int]] = field(default_factory=dict)  # district → findings partitions

    def add_steps(self, steps: Sequence[Any]) -> None:
        """One item's worth of agent results (station, network and alert steps)."""
        findings: list[Finding] = []
        notices: list[Notice] = []
        for step in steps:
            if isinstance(step, StationStep):
                self.rejected += [(r.topic, r.reason.value) for r in step.rejected]
            elif isinstance(step, NetworkStep):
                findings += step.findings
            elif isinstance(step, AlertStep):
                notices += step.step.notices
        self.add(findings, notices)

    def add(self, findings: Sequence[Finding], notices: Sequence[Notice]) -> None:
        self.findings.append(Counter(finding_key(f) for f in findings))
        self.notices.append(Counter(notice_key(n) for n in notices))

    @property
    def finding_count(self) -> int:
        return sum(sum(c.values()) for c in self.findings)

    @property
    def notice_count(self) -> int:
        return sum(sum(c.values()) for c in self.notices)


async def run_embedded(settings: Settings, parts: RuntimeParts, items: list[Item]) -> Outcome:
    """The embedded runtime's pipeline with its journaled alerting service, batch = message."""
    built = build_alerting(settings, parts.registry, clock=_Fixed(), metrics=Metrics())
    service = built.service
    await service.start()
    try:
        pipeline = Pipeline(
            parts.registry,
            parts.ladders,
            parts.limits,
            settings.ingest,
            topic_prefix=settings.mqtt.topic_prefix,
            grader=service,
        )
        out = Outcome()
        for item in items:
            if item.topic is None:
                result = pipeline.tick(item.at)
            else:
                result = pipeline.process([RawMessage(item.topic, item.payload, item.at)], item.at)
            out.rejected += [(r.topic, r.reason.value) for r in result.rejected]
            out.add(result.findings, result.notices)
    finally:
        await service.close(drain_s=0.1)
    with sqlite3.connect(service.journal_path) as journal:  # the embedded runtime's outbox
        for (text,) in journal.execute("SELECT delivery FROM outbox ORDER BY id"):
            out.deliveries[delivery_key(delivery_from_json(json.loads(text)))] += 1
    return out


def delivery_key(delivery: Delivery) -> str:
    notice = json.dumps(delivery.notice.to_json(), sort_keys=True, default=str)
    return f"{delivery.idempotency_key} {delivery.channel} {notice}"


class _Fixed:
    def now(self) -> float:
        return START


async def run_faust(
    settings: Settings, parts: RuntimeParts, items: list[Item], **options: Any
) -> Outcome:
    """The bridge's checks, then the detect, network and alert agents, per schedule item."""
    bridge = stateless_decoder(
        parts.registry, parts.limits, settings.ingest, settings.mqtt.topic_prefix
    )
    out = Outcome()
    async with worker(settings, parts, MemoryLog(), **options) as run:
        for item in items:
            if item.topic is None:
                steps = await run.tick(item.at)
            else:
                try:
                    bridge.decode(item.topic, item.payload, item.at, received=item.at)
                except PayloadRejected as rejected:
                    out.rejected.append((item.topic, rejected.reason.value))
                    out.add([], [])
                    continue
                steps = await run.reading(item.topic, item.payload, item.at)
            out.add_steps(steps)
        for record in run.log.confirmed(run.app.notices.get_topic_name()):
            out.deliveries[delivery_key(decode_delivery(record.value)[0])] += 1
        # what went to Kafka is what the steps said
        topic = run.app.findings.get_topic_name()
        records = [
            r for r in run.log.confirmed(topic) if record_type(r.header_map) is RecordType.FINDINGS
        ]
        sent = [decode_findings(r.value) for r in records]
        for batch, record in zip(sent, records, strict=True):
            out.routed.setdefault(batch.district, set()).add(int(record.partition or 0))
        assert sum(len(b.findings) for b in sent) == out.finding_count
    return out


def parts_for(settings: Settings) -> RuntimeParts:
    return load_parts(settings)
