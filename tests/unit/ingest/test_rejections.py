"""Every rejection reason, with the exact detail an operator reads in the dead letter."""

from __future__ import annotations

from typing import Any

import pytest

from ingest import EXAMPLES, Decoder
from tests.unit.ingest.helpers import MAX_PAYLOAD_BYTES, NOW, payload
from yujing.contracts import Kind, PayloadRejected, RejectReason

RAIN_TOPIC = "yujing/v1/haidian/rain/HD-R01"
SEISMIC_TOPIC = "yujing/v1/fangshan/seismic/FS-S01"
TS_MS = 1_784_613_900_000


def rain(**fields: Any) -> bytes:
    body: dict[str, Any] = {"station": "HD-R01", "ts": TS_MS, "seq": 1, "values": {"rain_mm": 1.0}}
    body.update(fields)
    return payload({k: v for k, v in body.items() if v is not DROP})


def seismic(**fields: Any) -> bytes:
    body = {**EXAMPLES[Kind.SEISMIC][1], **fields}
    return payload({k: v for k, v in body.items() if v is not DROP})


DROP = object()

CASES: list[tuple[str, str, bytes, RejectReason, str]] = [
    # (case id, topic, payload, reason, detail)
    ("oversized", RAIN_TOPIC, b"x" * (MAX_PAYLOAD_BYTES + 1), RejectReason.OVERSIZED,
     f"{MAX_PAYLOAD_BYTES + 1} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}"),
    ("wrong version", "yujing/v2/haidian/rain/HD-R01", rain(), RejectReason.BAD_TOPIC,
     "topic 'yujing/v2/haidian/rain/HD-R01': not under 'yujing/v1/'"),
    ("unknown kind", "yujing/v1/haidian/tank/HD-R01", rain(), RejectReason.BAD_TOPIC,
     "topic 'yujing/v1/haidian/tank/HD-R01': unknown kind 'tank' (known: rain, water_level, "
     "ponding, gas, chem, seismic)"),
    ("unknown station", "yujing/v1/haidian/rain/HD-R99", rain(station="HD-R99"),
     RejectReason.UNKNOWN_STATION, "station 'HD-R99' is not in the registry"),
    ("kind differs", "yujing/v1/haidian/ponding/HD-R01", rain(), RejectReason.KIND_MISMATCH,
     "topic says haidian/ponding but the registry has station 'HD-R01' as haidian/rain"),
    ("district differs", "yujing/v1/chaoyang/rain/HD-R01", rain(), RejectReason.KIND_MISMATCH,
     "topic says chaoyang/rain but the registry has station 'HD-R01' as haidian/rain"),
    ("not json", RAIN_TOPIC, b"rain_mm=1", RejectReason.MALFORMED,
     "not JSON: Expecting value at line 1 column 1"),
    ("truncated json", RAIN_TOPIC, rain()[:-1], RejectReason.MALFORMED,
     "not JSON: Expecting ',' delimiter at line 1 column 80"),
    ("not utf-8", RAIN_TOPIC, b'{"station": "\xff"}', RejectReason.MALFORMED,
     "payload is not UTF-8 text (byte 13)"),
    ("not an object", RAIN_TOPIC, b"[1, 2]", RejectReason.MALFORMED,
     "payload must be a JSON object, got list"),
    ("missing seq", RAIN_TOPIC, rain(seq=DROP), RejectReason.MALFORMED, "missing field 'seq'"),
    ("missing values", RAIN_TOPIC, rain(values=DROP), RejectReason.MALFORMED,
     "missing field 'values'"),
    ("missing values, has quality", RAIN_TOPIC, rain(values=DROP, quality="ok"),
     RejectReason.MALFORMED, "missing field 'values'"),
    ("missing station, has quality", RAIN_TOPIC, rain(station=DROP, quality="ok"),
     RejectReason.MALFORMED, "missing field 'station'"),
    ("extra field", RAIN_TOPIC, rain(battery=3.3), RejectReason.MALFORMED,
     "field(s) 'battery' not allowed for kind rain"),
    ("seismic body on rain", RAIN_TOPIC, seismic(station="HD-R01"), RejectReason.MALFORMED,
     "field(s) 'channel', 'samples', 'sr', 't0' not allowed for kind rain"),
    ("seq as text", RAIN_TOPIC, rain(seq="5"), RejectReason.MALFORMED,
     "seq: must be an integer >= 0, got '5'"),
    ("seq negative", RAIN_TOPIC, rain(seq=-1), RejectReason.MALFORMED,
     "seq: must be an integer >= 0, got -1"),
    ("seq bool", RAIN_TOPIC, rain(seq=True), RejectReason.MALFORMED,
     "seq: must be an integer >= 0, got True"),
    ("ts without offset", RAIN_TOPIC, rain(ts="2026-07-21T06:05:00"), RejectReason.MALFORMED,
     "ts: '2026-07-21T06:05:00' is not an RFC 3339 time with offset"),
    ("ts impossible date", RAIN_TOPIC, rain(ts="2026-13-21T06:05:00Z"), RejectReason.MALFORMED,
     "ts: '2026-13-21T06:05:00Z' is not an RFC 3339 time with offset"),
    ("ts in seconds", RAIN_TOPIC, rain(ts=1_784_613_900), RejectReason.MALFORMED,
     "ts: epoch ms 1784613900 outside year 2000..9999 (seconds instead of milliseconds?)"),
    ("ts float", RAIN_TOPIC, rain(ts=1_784_613_900_000.5), RejectReason.MALFORMED,
     "ts: must be an RFC 3339 string or integer epoch ms, got 1784613900000.5"),
    ("values not object", RAIN_TOPIC, rain(values=[1.0]), RejectReason.MALFORMED,
     "values: must be an object, got [1.0]"),
    ("value as text", RAIN_TOPIC, rain(values={"rain_mm": "1.0"}), RejectReason.MALFORMED,
     "values.rain_mm: must be a number, got '1.0'"),
    ("unknown value as text", RAIN_TOPIC, rain(values={"rain_mm": 1, "note": "x"}),
     RejectReason.MALFORMED, "values.note: must be a number, got 'x'"),
    ("station not text", RAIN_TOPIC, rain(station=7), RejectReason.MALFORMED,
     "station: must be a string, got 7"),
    ("quality not text", RAIN_TOPIC, rain(quality=1), RejectReason.MALFORMED,
     "quality: must be a string, got 1"),
    ("sr zero", SEISMIC_TOPIC, seismic(sr=0), RejectReason.MALFORMED,
     "sr: 0 Hz must be > 0 and <= 10000"),
    ("sr as text", SEISMIC_TOPIC, seismic(sr="100"), RejectReason.MALFORMED,
     "sr: must be a number, got '100'"),
    ("channel empty", SEISMIC_TOPIC, seismic(channel=""), RejectReason.MALFORMED,
     "channel: must be a string of 1..16 chars, got ''"),
    ("samples not array", SEISMIC_TOPIC, seismic(samples="0.1,0.2"), RejectReason.MALFORMED,
     "samples: must be an array, got '0.1,0.2'"),
    ("sample as text", SEISMIC_TOPIC, seismic(samples=[0.1, "0.2"]), RejectReason.MALFORMED,
     "samples: must be numbers, got '0.2'"),
    ("sample bool", SEISMIC_TOPIC, seismic(samples=[0.1, True]), RejectReason.MALFORMED,
     "samples: must be numbers, got True"),
    ("t0 missing", SEISMIC_TOPIC, seismic(t0=DROP), RejectReason.MALFORMED,
     "missing field 't0'"),
    ("values on seismic", SEISMIC_TOPIC, seismic(values={"accel_ms2": 1}), RejectReason.MALFORMED,
     "field(s) 'values' not allowed for kind seismic"),
    ("body names another station", RAIN_TOPIC, rain(station="HD-R02"),
     RejectReason.STATION_MISMATCH, "body station 'HD-R02' != topic station 'HD-R01'"),
    ("values empty", RAIN_TOPIC, rain(values={}), RejectReason.MISSING_VALUES,
     "values: empty (kind rain takes rain_mm)"),
    ("only unknown quantities", RAIN_TOPIC, rain(values={"rain_in": 1, "battery_v": 3.6}),
     RejectReason.MISSING_VALUES,
     "values: no quantity known for kind rain (got battery_v, rain_in; takes rain_mm)"),
    ("no samples", SEISMIC_TOPIC, seismic(samples=[]), RejectReason.MISSING_VALUES,
     "samples: empty"),
    ("NaN literal", RAIN_TOPIC, b'{"station": "HD-R01", "ts": 1784613900000, "seq": 1, '
     b'"values": {"rain_mm": NaN}}', RejectReason.NON_FINITE, "JSON literal NaN is not a number"),
    ("Infinity literal", RAIN_TOPIC, rain().replace(b"1.0", b"Infinity"),
     RejectReason.NON_FINITE, "JSON literal Infinity is not a number"),
    ("-Infinity literal", SEISMIC_TOPIC, seismic().replace(b"0.002", b"-Infinity"),
     RejectReason.NON_FINITE, "JSON literal -Infinity is not a number"),
    ("overflow to inf", RAIN_TOPIC, rain().replace(b"1.0", b"1e400"), RejectReason.NON_FINITE,
     "values.rain_mm: inf is not finite"),
    ("sample overflow to inf", SEISMIC_TOPIC, seismic().replace(b"0.002", b"-1e999"),
     RejectReason.NON_FINITE, "samples[2]: -inf is not finite"),
    ("below range", RAIN_TOPIC, rain(values={"rain_mm": -0.5}), RejectReason.OUT_OF_RANGE,
     "values.rain_mm: -0.5 outside [0, 300] for rain"),
    ("above range", "yujing/v1/chaoyang/gas/CY-G01",
     payload({"station": "CY-G01", "ts": TS_MS, "seq": 1,
              "values": {"ch4_pct_lel": 10, "pressure_kpa": 20000}}),
     RejectReason.OUT_OF_RANGE, "values.pressure_kpa: 20000 outside [0, 10000] for gas"),
    ("huge integer", RAIN_TOPIC, rain(values={"rain_mm": 10**400}), RejectReason.OUT_OF_RANGE,
     f"values.rain_mm: {str(10**400)[:57]}... outside [0, 300] for rain"),
    ("sample out of range", SEISMIC_TOPIC, seismic(samples=[0.1, -0.2, 150.0]),
     RejectReason.OUT_OF_RANGE, "samples[2]: 150.0 m/s² outside [-100, 100] (accel_ms2)"),
    ("huge integer sample", SEISMIC_TOPIC, seismic(samples=[0, 10**400]),
     RejectReason.OUT_OF_RANGE,
     f"samples[1]: {str(10**400)[:57]}... m/s² outside [-100, 100] (accel_ms2)"),
    ("from the future", RAIN_TOPIC, rain(ts=int((NOW + 301) * 1000)),
     RejectReason.FUTURE_TIMESTAMP,
     f"ts {NOW + 301:.3f} is 301.000 s ahead of now {NOW:.3f} (tolerance 300 s)"),
    ("seismic ts from the future", SEISMIC_TOPIC, seismic(ts=int((NOW + 600) * 1000)),
     RejectReason.FUTURE_TIMESTAMP,
     f"ts {NOW + 600:.3f} is 600.000 s ahead of now {NOW:.3f} (tolerance 300 s)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("topic", "body", "reason", "detail"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rejection(
    decoder: Decoder, topic: str, body: bytes, reason: RejectReason, detail: str
) -> None:
    with pytest.raises(PayloadRejected) as caught:
        decoder.decode(topic, body, NOW)
    assert (caught.value.reason, caught.value.detail) == (reason, detail)
    assert str(caught.value) == f"{reason.value}: {detail}"


def test_every_reason_but_unauthorised_is_covered() -> None:
    covered = {case[3] for case in CASES} | {RejectReason.DUPLICATE, RejectReason.TOO_LATE}
    # duplicate and too_late need history: see test_history.py; unauthorised is the broker's
    assert set(RejectReason) - covered == {RejectReason.UNAUTHORISED}


def test_size_is_checked_before_anything_else(decoder: Decoder) -> None:
    with pytest.raises(PayloadRejected) as caught:
        decoder.decode("not/a/topic", b"\xff" * (MAX_PAYLOAD_BYTES + 1), NOW)
    assert caught.value.reason is RejectReason.OVERSIZED


def test_a_rejection_changes_no_state(decoder: Decoder) -> None:
    before = decoder.snapshot()
    for _, topic, body, _, _ in CASES:
        with pytest.raises(PayloadRejected):
            decoder.decode(topic, body, NOW)
    assert decoder.snapshot() == before
