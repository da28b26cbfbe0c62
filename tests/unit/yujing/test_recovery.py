"""The input log: what is appended comes back in order, a torn tail is dropped, and feeding it
to a pipeline restored from an older checkpoint ends exactly where the live pipeline is."""

from __future__ import annotations

import json
from pathlib import Path

from yujing.config import load_ladders, load_quantities
from yujing.config.settings import IngestSettings
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Kind
from yujing.pipeline import Pipeline, RawMessage
from yujing.runtime.recovery import Checkpoints, InputLog, SyncedAcks

REPO = Path(__file__).resolve().parents[3]


def gas(seq: int, pct: float, t0: float = 1_700_000_000.0) -> RawMessage:
    body = {
        "station": "G1",
        "ts": int((t0 + seq) * 1000),
        "seq": seq,
        "values": {"ch4_pct_lel": pct},
    }
    return RawMessage("yujing/v1/d1/gas/G1", json.dumps(body).encode(), t0 + seq)


def pipeline() -> Pipeline:
    registry = Registry.from_specs([StationSpec("G1", "", Kind.GAS, "d1", 40.0, 116.3, 10.0)])
    return Pipeline(
        registry,
        load_ladders(REPO / "configs" / "ladders"),
        load_quantities(REPO / "configs" / "quantities.yaml"),
        IngestSettings(),
    )


def test_entries_come_back_in_order_across_segments(tmp_path: Path) -> None:
    log = InputLog(tmp_path, fsync=False)
    log.append_batch([gas(0, 1.0), gas(1, 2.0)], 10.0)
    log.append_tick(11.0)
    log.rotate()
    log.append_batch([gas(2, 3.0)], 12.0)
    log.close()
    entries = list(InputLog(tmp_path).entries(0))
    assert [(e.now, None if e.messages is None else len(e.messages)) for e in entries] == [
        (10.0, 2),
        (11.0, None),
        (12.0, 1),
    ]
    assert entries[0].messages is not None and entries[0].messages[1] == gas(1, 2.0)
    assert [e.now for e in InputLog(tmp_path).entries(1)] == [12.0]  # a checkpoint at segment 1


def test_a_torn_last_batch_is_dropped_not_misread(tmp_path: Path) -> None:
    log = InputLog(tmp_path, fsync=False)
    log.append_batch([gas(0, 1.0)], 10.0)
    log.append_batch([gas(1, 2.0), gas(2, 3.0)], 11.0)
    log.close()
    segment = log.path(log.segment)
    segment.write_bytes(segment.read_bytes()[:-5])  # the kill came mid-write
    assert [e.now for e in InputLog(tmp_path).entries(0)] == [10.0]


def test_a_batch_is_acknowledged_only_once_the_log_holds_it_in_order(tmp_path: Path) -> None:
    """The broker may forget a batch only when a restart could replay it: at each ack the
    batch is already in the log on disk, across a segment rotation (a checkpoint), and
    closing acknowledges everything submitted."""
    log = InputLog(tmp_path, defer_sync=True)
    acked: list[list[RawMessage]] = []
    logged_at_ack: list[bool] = []

    def ack(batch: list[RawMessage]) -> None:
        logged = [m for e in InputLog(tmp_path).entries(0) for m in (e.messages or [])]
        logged_at_ack.append(all(m in logged for m in batch))
        acked.append(batch)

    acks = SyncedAcks(log, ack)
    acks.start()
    batches = [[gas(2 * i, 1.0), gas(2 * i + 1, 1.5)] for i in range(60)]
    for i, batch in enumerate(batches):
        log.append_batch(batch, 100.0 + i)
        acks.submit(batch)
        if i == 30:
            log.rotate()
    acks.close()
    log.close()
    assert acked == batches
    assert all(logged_at_ack)


def test_checkpoint_drops_the_segments_it_covers(tmp_path: Path) -> None:
    log = InputLog(tmp_path, fsync=False)
    log.append_tick(1.0)
    covered_from = log.rotate()
    log.append_tick(2.0)
    log.drop_before(covered_from)
    log.close()
    assert log.segments() == [covered_from]
    assert InputLog(tmp_path).segment == covered_from + 1  # a restart never appends to old ones


def test_recovery_from_checkpoint_and_log_ends_where_the_live_pipeline_is(tmp_path: Path) -> None:
    batches = [[gas(0, 0.0)], [gas(1, 30.0)], [gas(2, 60.0)], [gas(3, 60.0), gas(4, 20.0)]]
    live, log = pipeline(), InputLog(tmp_path, fsync=False)
    checkpoint = None
    for n, batch in enumerate(batches):
        now = 1_700_000_010.0 + n
        live.process(batch, now)
        log.append_batch(batch, now)
        live.tick(now + 0.5)
        log.append_tick(now + 0.5)
        if n == 1:
            checkpoint, since = live.snapshot(), log.rotate()
    assert checkpoint is not None
    restarted = pipeline()
    restarted.restore(json.loads(json.dumps(checkpoint)))
    for entry in log.entries(since):
        restarted.recover(entry.messages, entry.now)
    detectors = ("decoder", "detectors", "areas")  # the book rebuilds from its own journal
    got, want = restarted.snapshot(), live.snapshot()
    assert {k: got[k] for k in detectors} == {k: want[k] for k in detectors}


def test_a_forked_checkpoint_covers_the_log_up_to_its_fork(tmp_path: Path) -> None:
    live, log = pipeline(), InputLog(tmp_path / "input", fsync=False)
    path = tmp_path / "state.json"
    checkpoints = Checkpoints(path, log, lambda: {"pipeline": live.snapshot()}, fork=True)
    live.process([gas(0, 0.0)], 1_700_000_010.0)
    log.append_batch([gas(0, 0.0)], 1_700_000_010.0)
    assert checkpoints.begin()
    live.process([gas(1, 60.0)], 1_700_000_011.0)  # after the fork: not in the checkpoint
    log.append_batch([gas(1, 60.0)], 1_700_000_011.0)
    checkpoints.wait()
    saved = json.loads(path.read_text())
    assert log.segments() == [saved["segment"]]  # the covered segment was dropped
    restarted = pipeline()
    restarted.restore(saved["pipeline"])
    for entry in log.entries(saved["segment"]):
        restarted.recover(entry.messages, entry.now)
    assert restarted.snapshot()["detectors"] == live.snapshot()["detectors"]
