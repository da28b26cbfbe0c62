"""kill -9 in the middle of a storm, restart, and count: every delivery exactly once per
(alert key, version, officer, channel) at the receivers, nothing missing, no clear lost.

The runtime runs as a real subprocess (``yujing run``) against the test's mosquitto, a webhook
receiver and an SMS gateway (real HTTP servers in this process, which outlive the crash). A storm
of gas readings (24 stations, 3 districts, each rising blue → orange → red and clearing) is
published over MQTT while the runtime works; when the orange upgrades are going out (and district
d3's orange page has reached its officer), the process gets SIGKILL, the storm goes on into the
broker's persistent session, and a new process is started on the same state folder.
Acknowledgement deadlines are 2 s: d3's page must escalate 2 s after it was sent, not 2 s after
the restart (its deadline is in the journal).

Expected station notices come from the same readings replayed through an in-process
``Pipeline`` (replay equals live). What the receivers got is compared with the journal's outbox:
same set of (key, version, officer, channel), every row delivered. A delivery in flight at the
kill may reach its receiver twice (HTTP cannot be exactly once without the receiver's help:
receivers dedupe on ``Idempotency-Key``, docs/webhook.md); the test counts such re-sends and
bounds them by the number of channels.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from alerting import AlertPipeline, PipelineConfig, PolicyGrader
from tests.support.runtime import ChildRuntime as Runtime
from tests.support.runtime import Sender, write_settings
from tests.support.services import HttpReceiver, wait_for
from yujing.broker import Broker, free_port
from yujing.config import load_settings
from yujing.pipeline import Pipeline, RawMessage
from yujing.runtime import load_parts

DISTRICTS = ("d1", "d2", "d3")
STATIONS: list[dict[str, Any]] = [
    {
        "id": f"G{d}{i:02d}",
        "kind": "gas",
        "district": DISTRICTS[d],
        "lat": 40.0 + i / 100,
        "lon": 116.3 + d / 10,
        "interval_s": 3600,
        "rules": ["ch4"],
    }
    for d in range(3)
    for i in range(8)
] + [{"id": "P0", "kind": "gas", "district": "d0", "lat": 40, "lon": 116, "interval_s": 3600}]
# per station: (event-time offset s, %LEL); pairs because a level is confirmed by a 2nd reading
STORM = [
    (0, 0.0),
    (10, 0.0),
    (20, 15.0),
    (30, 15.0),
    (40, 30.0),
    (50, 30.0),
    (60, 60.0),
    (70, 60.0),
    (80, 0.0),
    (90, 0.0),
    (400, 0.0),
    (410, 0.0),
]
STEPS = len(STORM) // 2
TOKENS = {"o1": "token-o1-0123456789", "o2": "token-o2-0123456789", "boss": "token-boss-01234567"}


def messages(t0: float, districts: tuple[str, ...] = DISTRICTS) -> list[list[tuple[str, bytes]]]:
    """The storm of ``districts`` in publishing steps: every station's next pair of readings."""
    out: list[list[tuple[str, bytes]]] = []
    for step in range(STEPS):
        batch = []
        for station in STATIONS[:-1]:
            if station["district"] not in districts:
                continue
            for seq in (2 * step, 2 * step + 1):
                offset, pct = STORM[seq]
                body = {
                    "station": station["id"],
                    "ts": int((t0 + offset) * 1000),
                    "seq": seq,
                    "values": {"ch4_pct_lel": pct},
                }
                topic = f"yujing/v1/{station['district']}/gas/{station['id']}"
                batch.append((topic, json.dumps(body).encode()))
        out.append(batch)
    return out


def configure(folder: Path, broker: Broker, hook: HttpReceiver, gateway: HttpReceiver) -> Path:
    roster = folder / "roster.yaml"
    roster.write_text(
        yaml.safe_dump(
            {
                "ack_timeout_s": 2.0,
                "max_reminders": 1,
                "officers": {
                    "o1": {"phone": "+8601"},
                    "o2": {"phone": "+8602"},
                    "boss": {"phone": "+8609"},
                },
                "leaders": {d: "boss" for d in DISTRICTS},
                "routes": [{"chain": ["o1", "o2"]}],
            }
        )
    )
    tokens = folder / "tokens.yaml"
    tokens.write_text(yaml.safe_dump(TOKENS))
    return write_settings(
        folder,
        broker_url=broker.url,
        stations=STATIONS,
        extra={
            "mqtt": {"client_id": f"crash-runtime-{free_port()}"},
            "alerting": {
                "roster": str(roster),
                "area_down_dwell_s": 1.0,
                "group": {"wait_s": 0.5, "interval_s": 1.0},
                "inhibit": [],
                "retry_base_s": 0.05,
                "retry_max_s": 0.2,
            },
            "api": {"port": free_port(), "tokens_file": str(tokens)},
            "notify": {
                "console": False,
                "webhooks": [
                    {"name": "hook", "url": hook.url, "scope": "all", "max_attempts": 100}
                ],
                "sms": [{"name": "sms", "url": gateway.url, "max_attempts": 100}],
            },
        },
    )


def expected_station_notices(settings: Path, storm: list[list[tuple[str, bytes]]]) -> set[str]:
    """Replay the storm through the same pipeline in process: station and area notices."""
    parsed = load_settings(settings)
    parts = load_parts(parsed)
    grader = PolicyGrader(AlertPipeline(PipelineConfig(inhibit=())))
    pipeline = Pipeline(parts.registry, parts.ladders, parts.limits, parsed.ingest, grader=grader)
    found: set[str] = set()
    now = time.time()
    for step in storm:
        result = pipeline.process([RawMessage(t, p, now) for t, p in step], now)
        found |= {n.idempotency_key for n in result.notices if n.key.rule != "group"}
    return found


def received(hook: HttpReceiver, gateway: HttpReceiver) -> list[tuple[str, int, str, str]]:
    """(key, version, officer, channel) of every request the receivers accepted, in order."""
    out = []
    for request in hook.requests:
        key, version = request.headers["Idempotency-Key"].rsplit("#", 1)
        out.append((key, int(version), "", "hook"))
    for request in gateway.requests:
        head, officer = request.headers["Idempotency-Key"].rsplit("@", 1)
        key, version = head.rsplit("#", 1)
        out.append((key, int(version), officer, "sms"))
    return out


def outbox(journal: Path) -> list[tuple[str, int, str, str, str]]:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        return list(db.execute("SELECT key, version, officer, channel, status FROM outbox"))


def test_kill_9_mid_storm_then_exactly_once_and_nothing_missing(
    tmp_path: Path, mosquitto: Broker
) -> None:
    hook, gateway = HttpReceiver().start(), HttpReceiver().start()
    settings = configure(tmp_path, mosquitto, hook, gateway)
    journal = tmp_path / "state" / "alerts.db"
    t0 = time.time() - 900
    storm = messages(t0)
    # d1 and d2 storm on through the crash; d3 holds at orange until its page has escalated
    # after the restart: the witness that the acknowledgement deadline survived the kill
    going, held = messages(t0, ("d1", "d2")), messages(t0, ("d3",))
    expected = expected_station_notices(settings, storm)
    assert len(expected) == 4 * 24  # fired blue, up orange, up red, resolved: each station
    runtime = Runtime(settings, tmp_path / "runtime.log").start()
    sender = Sender(mosquitto.host, mosquitto.port)
    d3_page = ("d3/gas_leak/group", "o1")
    try:
        probe = iter(range(10_000))
        wait_for(lambda: _probe(sender, next(probe)) and runtime.ingested("gas"), 15)  # subscribed
        for index in range(3):  # none, blue, orange everywhere
            for topic, payload in going[index] + held[index]:
                sender.raw(topic, payload)

        def paged() -> bool:
            return any((k, o) == d3_page for k, _, o, _ in received(hook, gateway))

        wait_for(lambda: paged() and len(hook.requests) >= 36, 20)
        runtime.kill()  # SIGKILL mid-storm: no cleanup, no flush, deliveries in flight
        killed_at = len(received(hook, gateway))
        for batch in going[3:]:  # the storm goes on while nothing runs
            for topic, payload in batch:
                sender.raw(topic, payload)
        restarted = Runtime(settings, tmp_path / "runtime.log").start()
        ready_at = time.time()
        try:

            def escalated() -> bool:
                return any(
                    (k, o) == ("d3/gas_leak/group", "o2") for k, _, o, _ in received(hook, gateway)
                )

            def stations_done() -> bool:
                return expected <= {f"{k}#{v}" for k, v, _, _ in received(hook, gateway)}

            wait_for(escalated, 20)
            for batch in held[3:]:
                for topic, payload in batch:
                    sender.raw(topic, payload)
            wait_for(stations_done, 60)
            wait_for(lambda: _quiet(journal), 60)  # groups resolved, every outbox row delivered
        finally:
            restarted.stop()
    finally:
        runtime.stop()
        sender.close()
        hook.stop()
        gateway.stop()

    got = received(hook, gateway)
    counts = Counter(got)
    unique = set(counts)
    resent = sum(c - 1 for c in counts.values())
    rows = outbox(journal)
    journaled = {(k, v, o, c) for k, v, o, c, _ in rows}
    statuses = Counter(s for *_, s in rows)
    station_keys = {f"{k}#{v}" for k, v, _, c in unique if c == "hook" and not k.endswith("/group")}
    page_at, escalated_at = _d3_page_and_escalation(journal)
    summary = {
        "expected_station_notices": len(expected),
        "received_station_notices": len(station_keys),
        "outbox_rows": len(rows),
        "deliveries_received_unique": len(unique),
        "deliveries_received_total": len(got),
        "resent_after_crash": resent,
        "received_before_kill": killed_at,
        "sms_deliveries": sum(1 for *_, c in unique if c == "sms"),
        "d3_escalation_after_page_s": round(escalated_at - page_at, 2),
        "d3_escalation_after_restart_s": round(escalated_at - ready_at, 2),
    }
    (tmp_path / "crash-summary.json").write_text(json.dumps(summary, indent=2))
    print("crash test:", json.dumps(summary))
    assert station_keys == expected  # nothing missing, nothing extra: no clear lost
    assert unique == journaled  # the receivers got exactly what the journal decided
    assert statuses == Counter({"delivered": len(rows)})
    assert resent <= 2  # at most the one request in flight per channel at the kill
    assert killed_at < len(unique)  # the kill really was mid-storm
    # the deadline was journaled at the page (2 s), not restarted by the new process
    assert escalated_at - page_at >= 2.0
    assert escalated_at < ready_at + 2.0


def _d3_page_and_escalation(journal: Path) -> tuple[float, float]:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        escalated_at = db.execute(
            "SELECT MIN(at) FROM transitions WHERE key = 'd3/gas_leak/group' "
            "AND reason = 'escalated'"
        ).fetchone()[0]
        page_at = db.execute(
            "SELECT MAX(at) FROM events WHERE kind = 'page' AND key = 'd3/gas_leak/group' "
            "AND at < ?",
            (escalated_at,),
        ).fetchone()[0]
    return float(page_at), float(escalated_at)


def _probe(sender: Sender, seq: int) -> bool:
    """Publish one quiet reading of the probe station (True: published)."""
    body = {
        "station": "P0",
        "ts": int((time.time() - 1) * 1000),
        "seq": seq,
        "values": {"ch4_pct_lel": 0.0},
    }
    sender.reading("d0", "gas", "P0", body)
    return True


def _quiet(journal: Path) -> bool:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        pending = db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
        groups = db.execute(
            "SELECT COUNT(*) FROM state WHERE part = 'book.entry' AND id LIKE '%/group' "
            "AND json_extract(data, '$.alert.grade') != 'none'"
        ).fetchone()[0]
        duties = db.execute("SELECT COUNT(*) FROM state WHERE part = 'duty'").fetchone()[0]
    return bool(pending == 0 and groups == 0 and duties == 0)
