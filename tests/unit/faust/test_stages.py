"""The Faust-free stages of the scale-out runtime: partitioning, replays skipped by offset,
state handed between workers through the table, ticks of the second tier, checkpoint order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from pathlib import Path

import pytest

from alerting import Silence
from tests.unit.faust.helpers import parts_for, settings_for
from yujing.contracts import Finding, Grade, Hazard, NoticeReason
from yujing.metrics import Metrics
from yujing.runtime.faust.alerts import AlertStage
from yujing.runtime.faust.app import alerting_config
from yujing.runtime.faust.network import NetworkStage
from yujing.runtime.faust.records import (
    Command,
    FindingBatch,
    Op,
    TickPart,
    decode_command,
    decode_findings,
    decode_station,
    decode_tick_part,
    encode_command,
    encode_findings,
    encode_station,
    encode_tick_part,
    partition_for,
)
from yujing.runtime.faust.state import Checkpoints, DictTable
from yujing.runtime.faust.stations import StationStage

GAS = "CY-GS-001"
TOPIC = f"yujing/v1/chaoyang/gas/{GAS}"
T0 = 1_800_000_000.0


def payload(seq: int, ch4: float = 1.0, at: float = T0) -> bytes:
    body = {"station": GAS, "ts": int(at * 1000) + seq, "seq": seq, "values": {"ch4_pct_lel": ch4}}
    return json.dumps(body).encode()


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple:  # type: ignore[type-arg]
    settings = settings_for(tmp_path_factory.mktemp("stages"))
    return settings, parts_for(settings)


def stations(parts: tuple, writer: str) -> StationStage:  # type: ignore[type-arg]
    settings, runtime = parts
    return StationStage(
        runtime.registry, runtime.ladders, runtime.limits, settings.ingest,
        topic_prefix="yujing/v1", partitions=4, writer=writer,
    )  # fmt: skip


def test_partition_for_is_kafkas_default_partitioner() -> None:
    # murmur2 values of Kafka's Java client (org.apache.kafka.common.utils.UtilsTest)
    java = {
        "21": -973932308,
        "foobar": -790332482,
        "a-little-bit-long-string": -985981536,
        "a-little-bit-longer-string": -1486304829,
        "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        "abc": 479470107,
    }
    for key, value in java.items():
        for partitions in (1, 3, 8, 12):
            assert partition_for(key, partitions) == (value & 0x7FFFFFFF) % partitions


def test_records_round_trip(parts: tuple) -> None:  # type: ignore[type-arg]
    stage = stations(parts, "w1")
    step = stage.reading(DictTable(), 0, TOPIC, payload(1), T0)
    record = step.records[0]
    assert decode_station(encode_station(record)[0]) == record
    finding = Finding("d1", "d1", Hazard.FLOOD, "level", Grade.RED, T0, value=5.0, station="S")
    batch = FindingBatch("d1", "network", 3, T0, (finding,))
    assert decode_findings(encode_findings(batch)[0]) == batch
    part = TickPart(2, T0, (("S", (finding,)),))
    assert decode_tick_part(encode_tick_part(part)[0]) == part
    silence = Silence("s1", T0, T0 + 60, "li.wei", station="S", hazard=Hazard.FLOOD)
    for command in (
        Command("c1", Op.ACK, "li.wei", T0, key="d1/flood/group", is_drill=True),
        Command("c2", Op.FEEDBACK, "li.wei", T0, key="S/flood/level", status="on_site", text="x"),
        Command("c3", Op.SILENCE, "li.wei", T0, silence=silence),
        Command("c4", Op.EXPIRE, "li.wei", T0, silence_id="s1"),
    ):
        assert decode_command(encode_command(command)[0]) == command


def test_an_acknowledgement_applies_once_and_only_in_the_book_that_has_the_alert(
    parts: tuple,  # type: ignore[type-arg]
) -> None:
    settings, runtime = parts
    stage, table = AlertStage(alerting_config(settings, runtime, Metrics())), DictTable()
    red = Finding(GAS, "chaoyang", Hazard.GAS_LEAK, "ch4", Grade.RED, T0, 60.0, 50.0,
                  station=GAS)  # fmt: skip
    home = partition_for("chaoyang", 4)
    fired = stage.findings(table, home, 0, FindingBatch("chaoyang", "network", 1, T0, (red,)))
    assert NoticeReason.FIRED in [n.reason for n in fired.step.notices]
    ack = Command("c1", Op.ACK, "li.wei", T0 + 30, key=f"{GAS}/gas_leak/ch4")
    done = stage.command(table, home, 1, ack)
    assert done.answer is not None and done.answer.status == "acknowledged"
    assert [n.reason for n in done.step.notices] == [NoticeReason.ACKNOWLEDGED]
    assert stage.command(table, home, 1, ack).replayed  # the same record again: skipped
    elsewhere = stage.command(table, (home + 1) % 4, 0, ack)
    assert elsewhere.answer is not None and elsewhere.answer.status == "not_active"


def test_a_replay_is_skipped_by_offset_and_a_resent_reading_is_a_duplicate(
    parts: tuple,  # type: ignore[type-arg]
) -> None:
    table = DictTable()
    first = stations(parts, "w1")
    step = first.reading(table, 5, TOPIC, payload(1), T0)
    assert [r.n for r in step.records] == [1] and not step.rejected
    assert first.checkpoint(table) == 1
    assert table.writes == {partition_for(GAS, 4): 1}

    after_crash = stations(parts, "w2")  # a new worker: state only from the table
    assert after_crash.reading(table, 5, TOPIC, payload(1), T0).replayed
    resent = after_crash.reading(table, 6, TOPIC, payload(1), T0)  # the sensor sent it again
    assert [r.reason.value for r in resent.rejected] == ["duplicate"] and not resent.records
    assert [r.n for r in after_crash.reading(table, 7, TOPIC, payload(2), T0).records] == [2]


def test_a_station_that_comes_back_is_rebuilt_from_what_the_other_worker_wrote(
    parts: tuple,  # type: ignore[type-arg]
) -> None:
    table = DictTable()
    one, two = stations(parts, "one"), stations(parts, "two")
    one.reading(table, 1, TOPIC, payload(1), T0)
    one.checkpoint(table)
    two.reading(table, 2, TOPIC, payload(2), T0)  # a rebalance gave the partition to "two"
    two.checkpoint(table)
    back = one.reading(table, 3, TOPIC, payload(2), T0)  # ... and back: "one" must know seq 2
    assert [r.reason.value for r in back.rejected] == ["duplicate"]
    assert [r.n for r in one.reading(table, 4, TOPIC, payload(3), T0).records] == [3]


def test_the_second_tier_ticks_when_every_readings_partition_has(
    parts: tuple,  # type: ignore[type-arg]
) -> None:
    _, runtime = parts
    stage = NetworkStage(runtime.registry, runtime.ladders, partitions=2, max_pending_ticks=3)
    table = DictTable()
    offsets = iter(range(100))
    stage.tick_part(table, next(offsets), TickPart(0, T0, ()))
    assert stage.ticked_to is None  # partition 1 has not ticked yet
    stage.tick_part(table, next(offsets), TickPart(1, T0, ()))
    assert stage.ticked_to == T0
    assert stage.tick_part(table, next(offsets), TickPart(1, T0, ())).replayed
    for k in range(1, 5):  # partition 1's worker is gone: the tier waits at most 3 ticks
        stage.tick_part(table, next(offsets), TickPart(0, T0 + k, ()))
    assert stage.ticked_to == T0 + 1
    stage.checkpoint(table)
    again = NetworkStage(runtime.registry, runtime.ladders, partitions=2, max_pending_ticks=3)
    again.tick_part(table, next(offsets), TickPart(1, T0 + 4, ()))  # restored, then caught up
    assert again.ticked_to == T0 + 4


def test_an_alert_book_continues_in_the_next_worker_and_drops_a_batch_seen_before(
    tmp_path: Path,
    parts: tuple,  # type: ignore[type-arg]
) -> None:
    settings, runtime = parts
    config = alerting_config(settings, runtime, Metrics())

    def batch(n: int, grade: Grade, at: float) -> FindingBatch:
        finding = Finding(GAS, "chaoyang", Hazard.GAS_LEAK, "ch4", grade, at, value=30.0,
                          threshold=25.0, station=GAS)  # fmt: skip
        return FindingBatch("chaoyang", "network", n, at, (finding,))

    table = DictTable()
    p = partition_for("chaoyang", 4)
    first = AlertStage(config, writer="one")
    fired = first.findings(table, p, 10, batch(1, Grade.YELLOW, T0)).step.notices
    assert [(n.reason, n.version) for n in fired if n.key.rule == "ch4"] == [
        (NoticeReason.FIRED, 1)
    ]
    first.checkpoint(table)
    second = AlertStage(config, writer="two")
    assert second.findings(table, p, 11, batch(1, Grade.YELLOW, T0)).replayed  # sent again
    upgraded = second.findings(table, p, 12, batch(2, Grade.RED, T0 + 1)).step.notices
    assert [(n.reason, n.version) for n in upgraded if n.key.rule == "ch4"] == [
        (NoticeReason.UPGRADED, 2)
    ]


def test_a_checkpoint_writes_and_acknowledges_only_after_kafka_has_every_output() -> None:
    order: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        checkpoints = Checkpoints(every_s=0)
        sent: asyncio.Future[object] = loop.create_future()
        checkpoints.add("record-1", [sent])
        assert checkpoints.due()

        async def gather(sends: list[Awaitable[object]]) -> object:
            order.append("wait")
            return await asyncio.gather(*sends)

        async def ack(record: object) -> None:
            order.append(f"ack {record}")

        run = asyncio.create_task(checkpoints.run(gather, lambda: order.append("write"), ack))
        await asyncio.sleep(0)
        assert order == ["wait"]  # nothing written or acknowledged while Kafka has not confirmed
        sent.set_exception(TimeoutError("no broker"))
        with pytest.raises(TimeoutError):
            await run

    asyncio.run(main())
    assert order == ["wait"]  # a failed send: no state written, no record acknowledged


def test_a_checkpoint_never_writes_a_partition_that_moved_away(
    parts: tuple,  # type: ignore[type-arg]
) -> None:
    table = DictTable()
    stage = stations(parts, "w1")
    stage.reading(table, 1, TOPIC, payload(1), T0)
    assert stage.checkpoint(table, owns=lambda partition: False) == 0
    assert table.get(GAS) is None and not table.writes  # the next owner replays the record
