"""Readings the quality gate distrusts are marked in storage (issue 6): a methane sensor stuck for
6 h through the real pipeline; the writer tags its readings ``suspect=stuck`` from the moment the
gate says so until it says the sensor is plausible again, in a real InfluxDB; the gas board's
"Suspect readings: hide" leaves exactly those out."""

from __future__ import annotations

import json
import time
from pathlib import Path

from dashboards._kit import DATABASE
from tests.support.boards import panel_query
from tests.support.services import wait_for
from tests.support.streams import build_pipeline, ms, registry_file
from tests.support.tsdb import influxdb_for_writer
from yujing.config.storage import StorageSettings
from yujing.contracts import Grade, Hazard
from yujing.metrics import Metrics
from yujing.pipeline import RawMessage
from yujing.storage import StorageWriter

INTERVAL_S = 600
ROUNDS = 56
STUCK_UNTIL = 44  # round at which G1 moves again (36 rounds = 6 h: the gate's stuck limit)


def station(sid: str, i: int) -> dict[str, object]:
    return {
        "id": sid, "kind": "gas", "district": "d1", "lat": 39.9 + i / 100, "lon": 116.4,
        "interval_s": INTERVAL_S, "rules": ["ch4"],
    }  # fmt: skip


def ch4(sid: str, k: int) -> float:
    if sid == "G1":
        return 7.0 if k < STUCK_UNTIL else 7.0 + 0.4 * (k - STUCK_UNTIL + 1)
    return 1.5 + 0.1 * (k % 4)


def test_readings_of_a_stuck_sensor_are_tagged_and_the_gas_board_can_hide_them(
    tmp_path: Path,
) -> None:
    pipeline = build_pipeline(registry_file(tmp_path / "cfg", [station("G1", 0), station("G2", 1)]))
    now = time.time()
    start = now - ROUNDS * INTERVAL_S
    judged: dict[int, Grade] = {}  # round → grade of G1's sensor/quality finding
    with influxdb_for_writer(tmp_path / "influxdb", DATABASE) as (server, gateway):
        settings = StorageSettings(
            enabled=True, url=gateway.url, bucket=DATABASE, flush_interval_s=0.05
        )
        writer = StorageWriter(settings, Metrics()).start()
        for k in range(ROUNDS):
            batch = [
                RawMessage(
                    f"yujing/v1/d1/gas/{sid}",
                    json.dumps(
                        {
                            "station": sid,
                            "ts": ms(start + k * INTERVAL_S),
                            "seq": k,
                            "values": {"ch4_pct_lel": ch4(sid, k)},
                        }
                    ).encode(),
                    now,
                )  # fmt: skip
                for sid in ("G1", "G2")
            ]
            result = pipeline.process(batch, now)
            writer.submit(result)  # what the embedded runtime does after each batch
            for finding in result.findings:
                if finding.hazard is Hazard.SENSOR and finding.rule == "quality":
                    judged[k] = finding.grade
        query = 'SELECT "seq", "suspect" FROM "reading" WHERE "station" = \'G1\''
        wait_for(lambda: len(server.rows(query, DATABASE)) == ROUNDS, 20, 0.05)
        writer.close(5.0)

        flagged, cleared = sorted(judged)
        assert (judged[flagged], judged[cleared]) == (Grade.BLUE, Grade.NONE)
        assert 36 <= flagged < STUCK_UNTIL <= cleared < ROUNDS  # 6 h flat, then it moves
        tagged = {int(r["seq"]): r["suspect"] for r in server.rows(query, DATABASE)}
        assert {k for k, tag in tagged.items() if tag} == set(range(flagged, cleared))
        assert {tag for tag in tagged.values() if tag} == {"stuck"}
        assert not [r for r in server.rows(query.replace("G1", "G2"), DATABASE) if r["suspect"]]

        def panel(suspect: str) -> list[float]:
            values = {"station": "G1", "suspect": suspect}
            text = panel_query("yujing-gas.json", "CH4", values, time_range="12h")
            return [r["mean"] for r in server.rows(text, DATABASE)]

        shown, hidden = panel(".*"), panel("^$")  # the board's "show" and "hide"
        assert len(shown) == ROUNDS and len(hidden) == ROUNDS - (cleared - flagged)
        assert 7.0 in hidden  # the readings before the gate judged stay visible
