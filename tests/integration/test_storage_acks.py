"""Acknowledgements reach the time-series database (issue 6): an officer acknowledges a page
through the real HTTP API; the storage writer, told by the alerting service, writes the
transition with who acknowledged and how long it took, to a real InfluxDB; the alert board's own
InfluxQL then shows it (status, officer, time to acknowledge, one page fewer waiting)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerting import AckLinks, AlertingService
from dashboards._kit import DATABASE
from tests.support.boards import panel_query
from tests.support.tsdb import InfluxDB1, V2WriteGateway, influxdb_for_writer
from tests.unit.alerting.conftest import TOKENS, level, pipeline
from yujing.api.server import ApiServer
from yujing.broker import free_port
from yujing.config.storage import StorageSettings
from yujing.contracts import Grade
from yujing.metrics import Metrics
from yujing.pipeline import StepResult
from yujing.storage import StorageWriter

GROUP = "district-a/flood/group"
STATUS_PANEL = "Alerts and acknowledgement"
ACK_PANEL = "Time to acknowledge, per alert"
WAITING_PANEL = "Pages waiting for acknowledgement"


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[tuple[InfluxDB1, V2WriteGateway]]:
    with influxdb_for_writer(tmp_path / "influxdb", DATABASE) as servers:
        yield servers


def storage_settings(url: str) -> StorageSettings:
    return StorageSettings(
        enabled=True, url=url, bucket=DATABASE, flush_interval_s=0.05, retry_base_s=0.05,
        retry_max_s=0.2, timeout_s=5.0,
    )  # fmt: skip


def board(server: InfluxDB1, title: str) -> list[dict[str, Any]]:
    """What the alert board's panel ``title`` shows with every hazard and district."""
    query = panel_query("yujing-alerts.json", title, {"hazard": ".*", "district": ".*"})
    return server.rows(query, DATABASE)


def waiting(server: InfluxDB1) -> int:
    found = board(server, WAITING_PANEL)
    return int(found[0]["alerts"]) if found else 0


def test_an_acknowledgement_by_api_is_stored_and_shown_on_the_alert_board(
    tmp_path: Path, influxdb: tuple[InfluxDB1, V2WriteGateway]
) -> None:
    server, gateway = influxdb
    port = free_port()
    links = AckLinks(f"http://127.0.0.1:{port}", TOKENS)
    paged_at = float(int(time.time()))
    now = [paged_at]
    metrics = Metrics()
    service = AlertingService(
        pipeline(links=links), tmp_path / "alerts.db", [], clock=lambda: now[0], metrics=metrics
    )
    writer = StorageWriter(storage_settings(gateway.url), metrics).start()
    service.observers.append(writer.submit_notices)  # what the runtime wires (docs/storage.md)
    api = ApiServer(
        service, host="127.0.0.1", port=port, tokens=TOKENS, clock=lambda: now[0], links=links
    )

    async def main() -> None:
        await service.start()
        await api.start()
        try:
            findings = [level("S003", Grade.RED, paged_at), level("S004", Grade.ORANGE, paged_at)]
            writer.submit(StepResult(notices=service.apply(findings, paged_at)))
            await asyncio.to_thread(wait_rows, server, "SELECT * FROM alert", 3)
            assert await asyncio.to_thread(waiting, server) == 3  # two stations and the group

            now[0] = paged_at + 42
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                headers = {"Authorization": f"Bearer {TOKENS['wang']}"}
                answer = await client.post("/api/v1/ack", json={"key": GROUP}, headers=headers)
            assert answer.json() == {"key": GROUP, "status": "acknowledged", "version": 2}
        finally:
            await api.stop()
            await service.close(drain_s=0.1)
            await asyncio.to_thread(writer.close, 5.0)

    asyncio.run(main())
    (ack,) = server.rows("SELECT * FROM alert WHERE \"reason\" = 'acknowledged'", DATABASE)
    assert (ack["area"], ack["rule"], ack["status"]) == ("district-a", "group", "acknowledged")
    assert (ack["officer"], ack["ack_s"], ack["version"]) == ("wang", 42.0, 2)
    assert ack["time"] == (paged_at + 42) * 1000

    status = {r["area"]: r for r in board(server, STATUS_PANEL)}
    group = status["district-a"]
    assert (group["status"], group["officer"], group["ack_s"]) == ("acknowledged", "wang", 42.0)
    assert status["S003"]["status"] == "firing" and status["S003"]["officer"] is None
    assert [r["ack_s"] for r in board(server, ACK_PANEL)] == [42.0]
    assert waiting(server) == 2  # the group's page is answered; its stations still fire


def wait_rows(server: InfluxDB1, query: str, n: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(server.rows(query, DATABASE)) < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {n} rows for {query!r} after {timeout_s} s")
        time.sleep(0.05)
