"""The embedded runtime against a real mosquitto and a real HTTP receiver: readings of every
family become the exact graded notices; bad payloads are rejected, counted and dead-lettered
without disturbing the good readings around them."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.runtime import Sender, running, write_settings
from tests.support.services import HttpReceiver, wait_for
from yujing.broker import Broker

STATIONS: list[dict[str, Any]] = [
    {"id": "R1", "kind": "rain", "district": "d1", "lat": 40.0, "lon": 116.3, "interval_s": 60},
    {
        "id": "W1",
        "kind": "water_level",
        "district": "d1",
        "lat": 40.0,
        "lon": 116.3,
        "interval_s": 60,
        "params": {"warning_level_m": 3.0, "guaranteed_level_m": 4.0, "record_level_m": 4.6},
    },
    {"id": "P1", "kind": "ponding", "district": "d1", "lat": 40.0, "lon": 116.3, "interval_s": 60},
    {"id": "G1", "kind": "gas", "district": "d2", "lat": 40.0, "lon": 116.3, "interval_s": 10},
    {
        "id": "C1",
        "kind": "chem",
        "district": "d2",
        "lat": 40.0,
        "lon": 116.3,
        "interval_s": 10,
        "rules": ["nh3"],
    },
    {
        "id": "T1",
        "kind": "chem",
        "district": "d2",
        "lat": 40.0,
        "lon": 116.3,
        "interval_s": 10,
        "rules": ["tank_pressure"],
        "params": {"pressure_high_kpa": 800, "pressure_highhigh_kpa": 850},
    },
    {"id": "S1", "kind": "seismic", "district": "d2", "lat": 40.0, "lon": 116.3, "interval_s": 1},
]


def ms(t: float) -> int:
    return int(t * 1000)


def seismic_body(seq: int, t0: float, peak: float, channel: str = "HNN") -> dict[str, Any]:
    samples = [0.01 * math.sin(i) for i in range(100)]
    samples[40] = peak
    return {
        "station": "S1",
        "ts": ms(t0),
        "seq": seq,
        "channel": channel,
        "sr": 100,
        "t0": ms(t0),
        "samples": samples,
    }


def notices(receiver: HttpReceiver) -> set[tuple[str, str, str, int]]:
    return {(b["key"], b["reason"], b["grade"], b["version"]) for b in receiver.bodies()}


@pytest.fixture
def settings_path(tmp_path: Path, mosquitto: Broker, http_receiver: HttpReceiver) -> Path:
    return write_settings(
        tmp_path, broker_url=mosquitto.url, stations=STATIONS, webhook_urls=[http_receiver.url]
    )


def send_storm(sender: Sender, t: float) -> None:
    """One escalating episode per family, event times just before ``t``. Gas levels are
    confirmed by 2 of the last 3 readings (configs/ladders/gas.yaml), so some come twice; a
    minute apart, so the rate rule (60 s window, 4 points) stays quiet whatever the batching."""
    for seq, pct in enumerate([5.0, 12.0, 12.0, 30.0, 55.0, 55.0]):
        sender.reading(
            "d2",
            "gas",
            "G1",
            {
                "station": "G1",
                "ts": ms(t - 400 + seq * 60),
                "seq": seq,
                "values": {"ch4_pct_lel": pct},
            },
        )
    sender.reading(
        "d1",
        "rain",
        "R1",
        {"station": "R1", "ts": ms(t - 120), "seq": 0, "values": {"rain_mm": 0.0}},
    )
    sender.reading(
        "d1",
        "rain",
        "R1",
        {"station": "R1", "ts": ms(t - 60), "seq": 1, "values": {"rain_mm": 25.0}},
    )
    sender.reading(
        "d1",
        "water_level",
        "W1",
        {"station": "W1", "ts": ms(t - 30), "seq": 0, "values": {"level_m": 3.1}},
    )
    sender.reading(
        "d1",
        "ponding",
        "P1",
        {"station": "P1", "ts": ms(t - 30), "seq": 0, "values": {"depth_cm": 30.0}},
    )
    for seq in (0, 1):  # toxic gas too is confirmed by 2 of the last 3 (configs/ladders/chem.yaml)
        sender.reading(
            "d2",
            "chem",
            "C1",
            {"station": "C1", "ts": ms(t - 30 + seq * 10), "seq": seq,
             "values": {"nh3_ppm": 90.0}},
        )  # fmt: skip
    sender.reading(
        "d2",
        "chem",
        "T1",
        {"station": "T1", "ts": ms(t - 30), "seq": 0, "values": {"pressure_kpa": 900.0}},
    )
    sender.reading("d2", "seismic", "S1", seismic_body(0, t - 5, 2.0))


EXPECTED = {
    ("G1/gas_leak/ch4", "fired", "blue", 1),
    ("G1/gas_leak/ch4", "upgraded", "orange", 2),
    ("G1/gas_leak/ch4", "upgraded", "red", 3),
    ("R1/rainstorm/short_heavy_rain", "fired", "blue", 1),
    ("W1/flood/level", "fired", "yellow", 1),
    ("P1/ponding/depth", "fired", "orange", 1),
    ("C1/toxic_gas/nh3", "fired", "orange", 1),
    ("T1/tank/tank_pressure", "fired", "red", 1),
    ("S1/earthquake/intensity", "fired", "red", 1),
}


def test_every_family_alerts_end_to_end(
    settings_path: Path, mosquitto: Broker, http_receiver: HttpReceiver
) -> None:
    with running(settings_path) as rt:
        sender = Sender(mosquitto.host, mosquitto.port)
        send_storm(sender, time.time())
        wait_for(lambda: notices(http_receiver) >= EXPECTED, 20)
        assert notices(http_receiver) == EXPECTED  # nothing else: no duplicates, no noise
        bodies = {b["key"]: b for b in http_receiver.bodies() if b["version"] == 1}
        assert bodies["W1/flood/level"]["threshold"] == pytest.approx(3.0)
        assert bodies["W1/flood/level"]["value"] == pytest.approx(3.1)
        assert rt.metric("yujing_readings_ingested_total", kind="gas") == 6
        assert (
            rt.metric("yujing_notices_total", hazard="gas_leak", grade="red", reason="upgraded")
            == 1
        )
        assert rt.metric("yujing_end_to_end_latency_seconds_count", hazard="earthquake") == 1
        # the webhook saw the idempotency key of each transition
        keys = [r.headers.get("Idempotency-Key") for r in http_receiver.requests]
        assert "G1/gas_leak/ch4#3" in keys
        sender.close()


BAD: list[tuple[str, bytes | str, str]] = [
    ("yujing/v1/d2/gas/G1", b"{not json", "malformed"),
    ("yujing/v1/d2/gas/G1", b"x" * 300_000, "oversized"),
    (
        "yujing/v1/d2/gas/NOPE",
        {"station": "NOPE", "seq": 0, "values": {"ch4_pct_lel": 1}},
        "unknown_station",
    ),
    (
        "yujing/v1/d2/rain/G1",
        {"station": "G1", "seq": 0, "values": {"rain_mm": 1}},
        "kind_mismatch",
    ),
    ("yujing/v1/d2/gas/G1", {"station": "G1", "seq": 90, "values": {}}, "missing_values"),
    (
        "yujing/v1/d2/gas/G1",
        b'{"station":"G1","ts":TS,"seq":91,"values":{"ch4_pct_lel":NaN}}',
        "non_finite",
    ),
    (
        "yujing/v1/d2/gas/G1",
        {"station": "G1", "seq": 92, "values": {"ch4_pct_lel": 180}},
        "out_of_range",
    ),
    (
        "yujing/v1/d2/gas/G1",
        {"station": "G1", "seq": 93, "values": {"ch4_pct_lel": 1}, "ts_offset": 86400},
        "future_timestamp",
    ),
    (
        "yujing/v1/d2/gas/G1",
        # the exact retransmission of seq 1 (same event time, t - 30)
        {"station": "G1", "seq": 1, "values": {"ch4_pct_lel": 12}, "ts_offset": -20},
        "duplicate",
    ),
    (
        "yujing/v1/d2/snow/G1",
        {"station": "G1", "seq": 94, "values": {"ch4_pct_lel": 1}},
        "bad_topic",
    ),
]


def test_bad_payloads_are_rejected_counted_and_dead_lettered(
    settings_path: Path, mosquitto: Broker, http_receiver: HttpReceiver
) -> None:
    with running(settings_path) as rt:
        sender = Sender(mosquitto.host, mosquitto.port)
        t = time.time()
        # good readings before the bad ones (2 of the last 3 confirm a level) ...
        for seq, pct in enumerate([5.0, 12.0, 12.0]):
            sender.reading(
                "d2",
                "gas",
                "G1",
                {
                    "station": "G1",
                    "ts": ms(t - 40 + seq * 10),
                    "seq": seq,
                    "values": {"ch4_pct_lel": pct},
                },
            )
        for topic, body, _ in BAD:
            if isinstance(body, dict):
                body = dict(body)
                body["ts"] = ms(t - 10 + body.pop("ts_offset", 0))
                payload = json.dumps(body).encode()
            else:
                payload = (
                    body.replace("TS", str(ms(t - 10))).encode()
                    if isinstance(body, str)
                    else body.replace(b"TS", str(ms(t - 10)).encode())
                )
            sender.raw(topic, payload)
        # ... and after them
        for seq in (3, 4):
            sender.reading(
                "d2",
                "gas",
                "G1",
                {
                    "station": "G1",
                    "ts": ms(t - 7 + seq),
                    "seq": seq,
                    "values": {"ch4_pct_lel": 55.0},
                },
            )
        wait_for(lambda: ("G1/gas_leak/ch4", "upgraded", "red", 2) in notices(http_receiver), 20)
        assert notices(http_receiver) == {
            ("G1/gas_leak/ch4", "fired", "blue", 1),
            ("G1/gas_leak/ch4", "upgraded", "red", 2),
        }
        for _, _, reason in BAD:
            assert rt.metric("yujing_readings_rejected_total", reason=reason) == 1, reason
        letters = [
            json.loads(line)
            for line in rt.settings.ingest.dead_letter_path.read_text().splitlines()
        ]
        assert sorted(x["reason"] for x in letters) == sorted(r for _, _, r in BAD)
        assert all(x["detail"] for x in letters)
        sender.close()
