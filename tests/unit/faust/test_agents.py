"""The agents' failure rules (STYLE §4), in Faust's test harness: a record an agent cannot
handle is counted, dead-lettered and skipped, and the agent goes on; Kafka refusing an output
crashes the agent (and with it the worker process) instead of leaving a zombie."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.unit.faust.helpers import parts_for, settings_for
from yujing.metrics import Metrics
from yujing.runtime.faust.app import StreamApp
from yujing.runtime.faust.records import (
    TYPE_HEADER,
    RecordType,
    partition_for,
    reading_headers,
    record_type,
)
from yujing.runtime.kafka import MemoryLog

GAS = "CY-GS-001"
TOPIC = f"yujing/v1/chaoyang/gas/{GAS}"
T0 = 1_800_000_000.0


def reading(seq: int) -> bytes:
    body = {"station": GAS, "ts": int(T0 * 1000) + seq, "seq": seq, "values": {"ch4_pct_lel": 1.0}}
    return json.dumps(body).encode()


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_record_the_agent_cannot_handle_is_dead_lettered_and_the_agent_goes_on(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    metrics, log = Metrics(), MemoryLog()
    app = StreamApp(settings, parts=parts_for(settings), metrics=metrics, producer=log)
    partition = partition_for(GAS, settings.kafka.partitions)

    async def main() -> None:
        async with app.detect.test_context() as detect:
            bad = {TYPE_HEADER: RecordType.TICK.value.encode()}
            await detect.put(b"not a tick", partition=partition, headers=bad)
            assert detect.results[0] is None
            headers = dict(reading_headers(TOPIC, T0))
            await detect.put(reading(1), key=GAS.encode(), partition=partition, headers=headers)
            assert [r.n for r in detect.results[1].records] == [1]

    asyncio.run(main())
    assert sample(metrics, "yujing_agent_errors_total", agent="detect") == 1
    assert sample(metrics, "yujing_agent_events_total", agent="detect", type="reading") == 1
    assert sample(metrics, "yujing_agent_last_event_timestamp_seconds", agent="detect") > 0
    (letter,) = [json.loads(r.value) for r in log.confirmed(settings.kafka.topic("dead-letters"))]
    assert letter["agent"] == "detect" and "JSONDecodeError" in letter["error"]
    network = log.confirmed(settings.kafka.topic("network"))
    assert [record_type(r.header_map) for r in network] == [RecordType.STATION]


def test_kafka_refusing_an_output_crashes_the_agent(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)  # checkpoints wait for every output
    settings = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"checkpoint_every_s": 0.0})}
    )
    log = MemoryLog(auto_complete=False)
    app = StreamApp(settings, parts=parts_for(settings), producer=log)
    partition = partition_for(GAS, settings.kafka.partitions)

    async def refuse() -> None:
        await log.sent.wait()
        log.fail(ConnectionError("kafka: all brokers down"))

    async def main() -> None:
        async with app.detect.test_context() as detect:
            refusal = asyncio.create_task(refuse())
            headers = dict(reading_headers(TOPIC, T0))
            with pytest.raises(ConnectionError, match="all brokers down"):
                await detect.put(reading(1), key=GAS.encode(), partition=partition, headers=headers)
            await refusal
        assert app.station_table.get(GAS) is None  # nothing written for the unconfirmed record

    asyncio.run(main())


def test_the_leaders_timer_ticks_every_partition_of_readings_and_findings(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    log = MemoryLog()
    app = StreamApp(settings, parts=parts_for(settings), producer=log, clock=_Clock(T0))
    asyncio.run(app.send_ticks())
    n = settings.kafka.partitions
    for topic in (settings.kafka.topic("readings"), settings.kafka.topic("findings")):
        records = log.confirmed(topic)
        assert sorted(r.partition or 0 for r in records) == list(range(n))
        assert {record_type(r.header_map) for r in records} == {RecordType.TICK}
        assert {json.loads(r.value)["now"] for r in records} == {T0}
    assert not log.confirmed(settings.kafka.topic("network"))  # detect agents pass ticks on


def test_the_worker_command_refuses_an_unknown_role() -> None:
    from typer.testing import CliRunner

    from yujing.cli import app as cli

    result = CliRunner().invoke(cli, ["worker", "--role", "bogus"])
    assert result.exit_code == 2 and "--role must be one of" in result.output


class _Clock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now
