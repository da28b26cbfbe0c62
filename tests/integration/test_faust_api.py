"""The scale-out worker's HTTP API (issue 7) in Faust's test harness: real HTTP on a free port,
real Faust streams and tables, the agents' output read from the in-process log. An officer's
acknowledgement becomes a command record on the findings topic, the alert agent that owns the
district applies it to its book and the API answers what the book said; silences reach every
partition's book; the storage writer puts the acknowledgement, with the officer and the time to
acknowledge, into a real InfluxDB."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from dashboards._kit import DATABASE
from tests.support.tsdb import InfluxDB1, influxdb_for_writer
from tests.unit.faust.harness import Worker, worker
from tests.unit.faust.helpers import REPO, parts_for, settings_for
from yujing.broker import free_port
from yujing.contracts import AlertKey
from yujing.runtime.faust.records import Command, Op, RecordType, decode_command, record_type
from yujing.runtime.kafka import MemoryLog

STATION = "CY-CH-001"  # NH3 at a cold store in chaoyang; no neighbour agreement needed
TOPIC = f"yujing/v1/chaoyang/chem/{STATION}"
GROUP = "chaoyang/toxic_gas/group"
TOKENS = {"chen.jie": "chen-token-0123456789", "sun.hao": "sun-token-0123456789"}


def auth(officer: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[officer]}"}


def nh3(seq: int, ts: float, ppm: float) -> bytes:
    return json.dumps(
        {"station": STATION, "ts": int(ts * 1000), "seq": seq, "values": {"nh3_ppm": ppm}}
    ).encode()


async def served(run: Worker, call: Awaitable[httpx.Response]) -> httpx.Response:
    """An API call answered while the agents run (the books answer when they apply it)."""
    task = asyncio.ensure_future(call)
    async with asyncio.timeout(20):
        while not task.done():
            await run.drain()
            await asyncio.sleep(0.01)
    return task.result()


def commands(run: Worker) -> list[tuple[int, Command]]:
    """(partition, command) of every command record the worker's API sent."""
    topic = run.app.findings.get_topic_name()
    return [
        (-1 if r.partition is None else r.partition, decode_command(r.value))
        for r in run.log.confirmed(topic)
        if record_type(r.header_map) is RecordType.COMMAND
    ]


def test_acknowledgements_and_silences_through_the_workers_api_reach_the_books_and_storage(
    tmp_path: Path,
) -> None:
    port = free_port()
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(yaml.safe_dump(TOKENS))
    with influxdb_for_writer(tmp_path / "influxdb", DATABASE) as (server, gateway):
        settings = settings_for(
            tmp_path,
            api={"port": port, "tokens_file": tokens},
            alerting={"roster": REPO / "configs" / "roster.yaml"},
            storage={"enabled": True, "url": gateway.url, "bucket": DATABASE,
                     "flush_interval_s": 0.05},
        )  # fmt: skip
        outcome = asyncio.run(scenario(settings, port))
        ack_s = outcome["ack_s"]
        query = "SELECT * FROM alert WHERE \"reason\" = 'acknowledged'"
        stored = wait_rows(server, query, 2)
    group = next(r for r in stored if r["rule"] == "group")
    assert (group["area"], group["officer"], group["status"]) == ("chaoyang", "chen.jie",
                                                                  "acknowledged")  # fmt: skip
    assert 40.0 <= group["ack_s"] == ack_s < 60.0  # paged 40 s before the button was pressed
    station = next(r for r in stored if r["rule"] == "nh3")
    assert (station["area"], station["officer"]) == (STATION, "sun.hao")


async def scenario(settings: Any, port: int) -> dict[str, Any]:
    parts = parts_for(settings)
    async with worker(settings, parts, MemoryLog()) as run:
        app = run.app
        assert app.api is not None and app.storage is not None
        app.storage.start()
        await app.api.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                return await drive(run, client)
        finally:
            await app.api.stop()
            await asyncio.to_thread(app.storage.close, 5.0)


async def drive(run: Worker, client: httpx.AsyncClient) -> dict[str, Any]:
    app = run.app
    paged = time.time() - 40.0
    for seq in (1, 2):  # 2 of 3 readings past red (300 ppm): red at the station and its group
        await run.reading(TOPIC, nh3(seq, paged - 2 + seq, 350.0), paged - 2 + seq)
    await run.tick(paged)
    red = [a for a in app.alerts.alerts() if a.grade.value == "red"]
    assert {str(a.key) for a in red} == {GROUP, f"{STATION}/toxic_gas/nh3"}

    post: Callable[..., Awaitable[httpx.Response]] = client.post
    answer = await served(run, post("/api/v1/ack", json={"key": GROUP}, headers=auth("chen.jie")))
    assert (answer.status_code, answer.json()) == (
        200, {"key": GROUP, "status": "acknowledged", "version": 2}
    )  # fmt: skip
    (partition, command), *_ = commands(run)  # one record, to the district's partition only
    assert (command.op, command.officer, command.key) == (Op.ACK, "chen.jie", GROUP)
    assert len(commands(run)) == 1 and partition == run.app.desk.targets(AlertKey.parse(GROUP))[0]
    again = await served(run, post("/api/v1/ack", json={"key": GROUP}, headers=auth("sun.hao")))
    assert again.json()["status"] == "already"
    gone = await served(run, post("/api/v1/ack", json={"key": "nowhere/flood/level"},
                                  headers=auth("sun.hao")))  # fmt: skip
    assert gone.status_code == 404  # asked of every partition: none has it

    # a book this process does not answer for in time: accepted, applied when it gets there
    app.desk.answer_timeout_s = 0.05
    key = f"{STATION}/toxic_gas/nh3"
    queued = await post("/api/v1/ack", json={"key": key}, headers=auth("sun.hao"))
    assert (queued.status_code, queued.json()["status"]) == (202, "queued")
    await run.drain()
    views = (await client.get("/api/v1/alerts", headers=auth("chen.jie"))).json()["alerts"]
    assert {v["key"]: v["state"] for v in views} == {GROUP: "acknowledged", key: "acknowledged"}
    app.desk.answer_timeout_s = 5.0

    body = {"station": STATION, "duration_s": 3600, "comment": "sensor swap"}
    made = await served(run, post("/api/v1/silences", json=body, headers=auth("chen.jie")))
    assert made.status_code == 201
    silence_id = made.json()["id"]
    n = app.settings.kafka.partitions
    assert sorted(p for p, c in commands(run) if c.op is Op.SILENCE) == list(range(n))
    await run.drain()
    listed = (await client.get("/api/v1/silences", headers=auth("sun.hao"))).json()["silences"]
    assert [s["id"] for s in listed] == [silence_id]
    ended = await served(
        run, client.delete(f"/api/v1/silences/{silence_id}", headers=auth("sun.hao"))
    )
    assert ended.status_code == 200 and ended.json()["expired_by"] == "sun.hao"
    unknown = await served(run, client.delete("/api/v1/silences/nope", headers=auth("sun.hao")))
    assert unknown.status_code == 404

    metrics = app.metrics.registry
    ack_s = metrics.get_sample_value("yujing_alert_ack_seconds_sum", {"grade": "red"})
    assert metrics.get_sample_value("yujing_alert_reached_total", {"grade": "red"}) == 1
    return {"ack_s": ack_s}


def wait_rows(server: InfluxDB1, query: str, n: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while len(found := server.rows(query, DATABASE)) < n:
        assert time.monotonic() < deadline, f"fewer than {n} rows of {query!r}"
        time.sleep(0.05)
    return found
