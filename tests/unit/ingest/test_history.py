"""Duplicates, out-of-order arrival, reboots, watermarks and snapshot/restore."""

from __future__ import annotations

import json
import random

import pytest

from ingest import Decoder, LateReading
from ingest.history import StationHistory
from tests.unit.ingest.helpers import NOW, payload
from yujing.config import QuantityLimits, Registry
from yujing.contracts import PayloadRejected, RejectReason

TOPIC = "yujing/v1/haidian/rain/HD-R01"
T_MS = 1_784_613_900_000


def rain(seq: int, ts_ms: int, rain_mm: float = 0.5) -> bytes:
    return payload({"station": "HD-R01", "ts": ts_ms, "seq": seq, "values": {"rain_mm": rain_mm}})


def refused(decoder: Decoder, body: bytes, topic: str = TOPIC) -> PayloadRejected:
    with pytest.raises(PayloadRejected) as caught:
        decoder.decode(topic, body, NOW)
    return caught.value


def test_redelivery_is_a_duplicate(decoder: Decoder) -> None:
    decoder.decode(TOPIC, rain(5, T_MS), NOW)
    rejection = refused(decoder, rain(5, T_MS))
    assert rejection.reason is RejectReason.DUPLICATE
    assert rejection.detail == "seq 5 at ts 1784613900.000 already accepted"


def test_out_of_order_arrival_is_not_duplicate(decoder: Decoder) -> None:
    order = list(range(200))
    random.Random(7).shuffle(order)
    for seq in order:  # a gauge uploading its buffer in any order, all within the lateness
        decoder.decode(TOPIC, rain(seq, T_MS - 10_000 * (200 - seq)), NOW)
    for seq in order:
        assert refused(decoder, rain(seq, T_MS - 10_000 * (200 - seq))).reason is (
            RejectReason.DUPLICATE
        )


def test_reboot_restarting_seq_at_zero_is_accepted(decoder: Decoder) -> None:
    for seq in range(3):
        decoder.decode(TOPIC, rain(seq, T_MS - 3_000 + seq * 1000), NOW)
    rebooted = [decoder.decode(TOPIC, rain(seq, T_MS + seq * 1000), NOW) for seq in range(3)]
    assert [r.seq for r in rebooted] == [0, 1, 2]
    assert refused(decoder, rain(1, T_MS + 1000)).reason is RejectReason.DUPLICATE


def test_seismic_channels_sharing_seq_are_distinct(decoder: Decoder) -> None:
    topic = "yujing/v1/fangshan/seismic/FS-S01"
    for channel in ("HNZ", "HNN", "HNE"):
        body = {"station": "FS-S01", "seq": 9, "channel": channel, "sr": 100.0,
                "t0": T_MS, "samples": [0.0, 0.1]}  # fmt: skip
        assert decoder.decode(topic, payload(body), NOW).waveform is not None
    assert refused(decoder, payload(body), topic).reason is RejectReason.DUPLICATE


def test_too_late_carries_the_reading(decoder: Decoder) -> None:
    decoder.decode(TOPIC, rain(10, T_MS), NOW)
    decoder.decode(TOPIC, rain(11, T_MS - 3_600_000), NOW)  # exactly at the watermark: applied
    with pytest.raises(LateReading) as caught:
        decoder.decode(TOPIC, rain(12, T_MS - 3_600_001, rain_mm=4.0), NOW)
    late = caught.value
    assert late.reason is RejectReason.TOO_LATE
    assert late.detail == (
        "ts 1784610299.999 is 0.001 s behind the station watermark 1784610300.000 "
        "(allowed lateness 3600 s)"
    )
    assert (late.reading.seq, late.reading.ts, dict(late.reading.values)) == (
        12,
        1_784_610_299.999,
        {"rain_mm": 4.0},
    )


def test_watermark_is_per_station(decoder: Decoder) -> None:
    decoder.decode(TOPIC, rain(1, T_MS), NOW)
    body = {"station": "HD-P01", "ts": T_MS - 7_200_000, "seq": 1, "values": {"depth_cm": 3}}
    assert decoder.decode("yujing/v1/haidian/ponding/HD-P01", payload(body), NOW).seq == 1
    assert decoder.history.watermark("HD-R01") == T_MS / 1000 - 3600
    assert decoder.history.watermark("HD-X") is None


def test_rejected_messages_do_not_move_the_watermark(decoder: Decoder) -> None:
    decoder.decode(TOPIC, rain(1, T_MS), NOW)
    refused(decoder, rain(2, T_MS + 400_000))  # future (now + 390 s): refused
    refused(decoder, rain(3, T_MS + 100_000, rain_mm=-1))  # out of range: refused
    assert decoder.history.watermark("HD-R01") == T_MS / 1000 - 3600


def test_memory_is_bounded_and_keeps_the_newest() -> None:
    history = StationHistory(allowed_lateness_s=1e9, memory=100)
    for seq in range(1000):
        history.admit("S", "", seq, 1000.0 + seq)
    kept = history.snapshot()["stations"]["S"]["seen"]
    assert len(kept) <= 100
    assert [["", 999, 1999.0]] == kept[-1:]
    with pytest.raises(PayloadRejected):
        history.admit("S", "", 999, 1999.0)


def test_memory_first_forgets_keys_behind_the_watermark() -> None:
    history = StationHistory(allowed_lateness_s=10, memory=8)
    for seq in range(9):
        history.admit("S", "", seq, 100.0 + seq * 5)
    # max 140, watermark 130: only ts >= 130 (seq 6, 7, 8) remain
    assert [seq for _, seq, _ in history.snapshot()["stations"]["S"]["seen"]] == [6, 7, 8]


def test_snapshot_restore_round_trips_through_json(
    decoder: Decoder, registry: Registry, limits: QuantityLimits
) -> None:
    for seq in range(5):
        decoder.decode(TOPIC, rain(seq, T_MS + seq * 1000), NOW)
    snapshot = json.loads(json.dumps(decoder.snapshot()))
    fresh = Decoder(registry, limits)
    fresh.restore(snapshot)
    assert fresh.snapshot() == decoder.snapshot()
    assert refused(fresh, rain(3, T_MS + 3000)).reason is RejectReason.DUPLICATE
    assert refused(fresh, rain(9, T_MS - 3_601_000)).reason is RejectReason.TOO_LATE
    assert fresh.decode(TOPIC, rain(5, T_MS + 5000), NOW).seq == 5


@pytest.mark.parametrize(
    "snapshot",
    [{}, {"version": 2, "stations": {}}, {"version": 1},
     {"version": 1, "stations": {"S": {"max_ts": 1.0, "seen": [["", 1]]}}},
     {"version": 1, "stations": {"S": {"seen": []}}}],
)  # fmt: skip
def test_restore_refuses_a_snapshot_that_does_not_fit(snapshot: dict[str, object]) -> None:
    history = StationHistory(60)
    history.admit("S", "", 1, 5.0)
    with pytest.raises(ValueError, match="history snapshot"):
        history.restore(snapshot)
    assert history.watermark("S") == 5.0 - 60  # unchanged
