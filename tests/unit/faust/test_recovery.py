"""A worker killed mid-scenario and recovered from what Kafka kept (its tables' changelogs and
its committed offsets) sends nothing new and loses nothing: the same findings and the same
deliveries, under the same idempotency keys, as a run that never crashed. Records it handled
after its last checkpoint run again; their outputs go out again with the same keys (at least
once), which the next agent and the receivers drop."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest

from tests.unit.faust.harness import Worker, worker
from tests.unit.faust.helpers import Item, demo_schedule, parts_for, settings_for
from yujing.config import Settings
from yujing.contracts import PayloadRejected
from yujing.runtime import RuntimeParts
from yujing.runtime.faust.records import (
    RecordType,
    decode_delivery,
    decode_findings,
    record_type,
)
from yujing.runtime.faust.stations import stateless_decoder
from yujing.runtime.kafka import MemoryLog

CHECKPOINT_RECORDS = 25  # small, so a crash always leaves records handled but not committed


async def feed(run: Worker, items: list[Item], settings: Settings, parts: RuntimeParts) -> None:
    bridge = stateless_decoder(parts.registry, parts.limits, settings.ingest, "yujing/v1")
    for item in items:
        if item.topic is None:
            await run.tick(item.at)
            continue
        try:
            bridge.decode(item.topic, item.payload, item.at, received=item.at)
        except PayloadRejected:
            continue
        await run.reading(item.topic, item.payload, item.at)


async def scenario(
    settings: Settings, parts: RuntimeParts, items: list[Item], crash_at: int | None
) -> MemoryLog:
    """Everything sent to Kafka by one worker, or by a worker killed after ``crash_at`` items
    and the one recovered after it."""
    log = MemoryLog()
    options: dict[str, Any] = {"checkpoint_records": CHECKPOINT_RECORDS}
    if crash_at is None:
        async with worker(settings, parts, log, **options) as run:
            await feed(run, items, settings, parts)
        return log
    async with worker(settings, parts, log, writer="first", **options) as run:
        await feed(run, items[:crash_at], settings, parts)
        survivors = run.crash()
    assert any(run.detect.committed()[tp] < run.detect.positions[tp] for tp in run.detect.tps)
    async with worker(settings, parts, log, writer="second", survivors=survivors, **options) as run:
        await run.drain()  # what the first one handled but never committed, again
        await feed(run, items[crash_at:], settings, parts)
    return log


def sent(log: MemoryLog, topic: str, kind: RecordType) -> list[Any]:
    return [r.value for r in log.confirmed(topic) if record_type(r.header_map) is kind]


Setup = tuple[Settings, RuntimeParts, list[Item], MemoryLog]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """Settings, scenario and what a worker that never crashed sent (once for the module)."""
    settings = settings_for(tmp_path_factory.mktemp("recovery"), notify={"console": True})
    parts = parts_for(settings)
    items = demo_schedule(100.0, 280.0, tick_every_s=10.0)
    return settings, parts, items, asyncio.run(scenario(settings, parts, items, None))


@pytest.mark.parametrize("crash_fraction", [0.4, 0.85])
def test_a_killed_worker_recovers_without_a_lost_or_new_notice(
    setup: Setup, crash_fraction: float
) -> None:
    settings, parts, items, clean = setup
    crashed = asyncio.run(scenario(settings, parts, items, int(len(items) * crash_fraction)))
    findings, notices = settings.kafka.topic("findings"), settings.kafka.topic("notices")

    def batches(log: MemoryLog) -> dict[tuple[str, int], Any]:
        out: dict[tuple[str, int], Any] = {}
        for value in sent(log, findings, RecordType.FINDINGS):
            batch = decode_findings(value)
            seen = out.setdefault((batch.source, batch.n), batch)
            assert seen == batch, "the same (source, n) carried different findings"
        return out

    def deliveries(log: MemoryLog) -> tuple[dict[Any, str], Counter[Any]]:
        content: dict[Any, str] = {}
        counts: Counter[Any] = Counter()
        for value in sent(log, notices, RecordType.DELIVERY):
            delivery, _ = decode_delivery(value)
            text = json.dumps(delivery.notice.to_json(), sort_keys=True)
            key = delivery.outbox_key
            assert content.setdefault(key, text) == text, f"{key} sent with two contents"
            counts[key] += 1
        return content, counts

    assert batches(crashed) == batches(clean)
    clean_deliveries, clean_counts = deliveries(clean)
    crashed_deliveries, crashed_counts = deliveries(crashed)
    assert len(clean_deliveries) > 10
    assert set(clean_counts.values()) == {1}
    assert crashed_deliveries == clean_deliveries  # none lost, none new, none changed
    assert sum(crashed_counts.values()) >= sum(clean_counts.values())  # repeats: same keys
