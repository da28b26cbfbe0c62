"""The HTTP API on a real port, with a real service and journal behind it: tokens, ack by API
and by the SMS link (GET shows a page, only POST acknowledges), feedback, silences CRUD, the
alerts view, health, the CAP feed; and the ``yujing silence|ack|report`` commands against it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from alerting import AckLinks, AlertingService, CapFeedNotifier, ChannelSpec, Journal
from alerting.notifiers.cap import PUBLISHED
from tests.unit.alerting.conftest import CHANNELS, DAY, TOKENS, level, pipeline
from yujing.api.server import ApiServer
from yujing.broker import free_port
from yujing.cli import app
from yujing.contracts import Grade
from yujing.metrics import Metrics

GROUP = "district-a/flood/group"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Served:
    """Service + API on their own event loop thread (the runtime's shape, without MQTT)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.clock = Clock(DAY)
        self.metrics = Metrics()
        links = AckLinks(self.url, TOKENS)
        feed = CapFeedNotifier(
            "cap", folder / "cap", is_public=False, base_url=f"{self.url}/cap/cap"
        )
        channels = (*CHANNELS[:3], ChannelSpec("cap", scope="group", reasons=PUBLISHED))
        self.journal = folder / "alerts.db"
        self.service = AlertingService(
            pipeline(links=links, channels=channels),
            self.journal,
            [feed],
            clock=self.clock,
            metrics=self.metrics,
        )
        self.api = ApiServer(
            self.service,
            host="127.0.0.1",
            port=self.port,
            tokens=TOKENS,
            clock=self.clock,
            links=links,
            cap_feeds={"cap": folder / "cap"},
            metrics=self.metrics,
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` on the loop thread (the service is single-threaded, like the runtime)."""

        async def wrapper() -> Any:
            result = fn(*args)
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(10)

    def __enter__(self) -> Served:
        self.thread.start()
        self.call(self.service.start)
        self.call(self.api.start)
        return self

    def __exit__(self, *exc: object) -> None:
        self.call(self.api.stop)
        self.call(self.service.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with Served(tmp_path) as s:
        t = DAY
        s.call(s.service.apply, [level("S003", Grade.RED, t), level("S004", Grade.ORANGE, t)], t)
        yield s


def auth(officer: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[officer]}"}


def test_tokens_are_required_and_checked(served: Served) -> None:
    assert httpx.get(f"{served.url}/healthz").json()["status"] == "ok"
    assert httpx.get(f"{served.url}/api/v1/alerts").status_code == 401
    bad = httpx.get(f"{served.url}/api/v1/alerts", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    alerts = httpx.get(f"{served.url}/api/v1/alerts", headers=auth("li")).json()["alerts"]
    group = next(a for a in alerts if a["key"] == GROUP)
    assert group["stations"] == ["S003", "S004"] and group["duty"]["audience"] == ["li", "zhao"]


def test_ack_by_api_stops_escalation_and_is_journaled(served: Served) -> None:
    served.clock.t = DAY + 42
    answer = httpx.post(f"{served.url}/api/v1/ack", json={"key": GROUP}, headers=auth("wang"))
    assert answer.json() == {"key": GROUP, "status": "acknowledged", "version": 2}
    again = httpx.post(f"{served.url}/api/v1/ack", json={"key": GROUP}, headers=auth("li"))
    assert again.json()["status"] == "already"
    gone = httpx.post(f"{served.url}/api/v1/ack", json={"key": "X/flood/level"}, headers=auth("li"))
    assert gone.status_code == 404
    assert (
        httpx.post(f"{served.url}/api/v1/ack", json={"kei": 1}, headers=auth("li")).status_code
        == 400
    )
    assert served.call(served.service.advance, DAY + 5000) == []  # no escalation
    events = Journal(served.journal).query(
        "SELECT kind, officer, data FROM events WHERE kind = 'ack'"
    )
    assert [(k, o, json.loads(d)["status"]) for k, o, d in events] == [
        ("ack", "wang", "acknowledged"),
        ("ack", "li", "already"),
        ("ack", "li", "not_active"),
    ]
    assert json.loads(events[0][2])["ack_s"] == 42


def test_ack_link_get_shows_a_page_and_only_post_acknowledges(served: Served) -> None:
    [url] = {
        row[0]
        for row in Journal(served.journal).query(
            "SELECT json_extract(delivery, '$.ack_url') FROM outbox WHERE officer = 'li'"
        )
    }
    page = httpx.get(url)
    assert page.status_code == 200 and "Acknowledge as li" in page.text
    assert served.call(served.service.pipeline.book.get, *_group_key())  # still firing
    done = httpx.post(url)
    assert "已确认" in done.text
    assert httpx.get(url[:-3] + "abc").status_code == 404  # a forged code


def _group_key() -> tuple[Any, ...]:
    from yujing.contracts import AlertKey

    return (AlertKey.parse(GROUP),)


def test_feedback_and_silences_crud(served: Served) -> None:
    fb = httpx.post(
        f"{served.url}/api/v1/feedback",
        headers=auth("li"),
        json={"key": GROUP, "status": "on_site", "text": "pumps running"},
    )
    assert fb.status_code == 201
    made = httpx.post(
        f"{served.url}/api/v1/silences",
        headers=auth("li"),
        json={"station": "S004", "duration_s": 3600, "comment": "calibration", "maintenance": True},
    )
    assert made.status_code == 201
    silence = made.json()
    assert silence["author"] == "li" and silence["is_maintenance"]
    listed = httpx.get(f"{served.url}/api/v1/silences", headers=auth("wang")).json()["silences"]
    assert [s["id"] for s in listed] == [silence["id"]]
    served.call(served.service.advance, DAY + 1)
    alerts = httpx.get(f"{served.url}/api/v1/alerts", headers=auth("li")).json()["alerts"]
    assert next(a for a in alerts if a["key"] == GROUP)["stations"] == ["S003"]
    served.clock.t = DAY + 60
    ended = httpx.delete(f"{served.url}/api/v1/silences/{silence['id']}", headers=auth("wang"))
    assert ended.json()["expired_by"] == "wang" and ended.json()["ends_at"] == DAY + 60
    assert (
        httpx.delete(
            f"{served.url}/api/v1/silences/{silence['id']}", headers=auth("wang")
        ).status_code
        == 404
    )
    assert httpx.get(f"{served.url}/api/v1/silences", headers=auth("li")).json()["silences"] == []
    bad = httpx.post(f"{served.url}/api/v1/silences", headers=auth("li"), json={"duration_s": 60})
    assert bad.status_code == 400  # matches nothing


def test_cap_feed_is_served(served: Served) -> None:
    feed = httpx.get(f"{served.url}/cap/cap/feed.xml")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(
        "application/atom+xml"
    )
    href = feed.text.split('href="')[1].split('"')[0]
    message = httpx.get(href)
    assert message.headers["content-type"].startswith("application/cap+xml")
    assert b"<msgType>Alert</msgType>" in message.content
    assert httpx.get(f"{served.url}/cap/cap/..%2Fsecret.xml").status_code == 404


def test_cli_silence_ack_and_report(served: Served, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKENS["chen"] + "\n")
    runner = CliRunner()
    common = ["--api", served.url, "--token-file", str(token)]
    added = runner.invoke(
        app,
        [
            "silence",
            "add",
            "--district",
            "district-b",
            "--for",
            "2h",
            "--comment",
            "drill prep",
            *common,
        ],
    )
    assert added.exit_code == 0, added.output
    silence_id = added.output.split()[1]
    listed = runner.invoke(app, ["silence", "list", *common])
    assert silence_id in listed.output and "district=district-b" in listed.output
    expired = runner.invoke(app, ["silence", "expire", silence_id, *common])
    assert expired.exit_code == 0 and "expired" in expired.output
    acked = runner.invoke(app, ["ack", GROUP, *common])
    assert acked.output.strip() == f"{GROUP}: acknowledged (version 2)"
    nobody = runner.invoke(app, ["ack", GROUP, "--api", served.url])
    assert nobody.exit_code == 2  # no token
    # the report reads the journal itself
    settings = tmp_path / "yujing.yaml"
    settings.write_text(f"state_dir: {tmp_path}\nalerting: {{journal_path: {served.journal}}}\n")
    report = runner.invoke(
        app, ["report", "--config", str(settings), "--since", "100000d", "--json"]
    )
    figures = json.loads(report.output)
    assert figures["grades"]["red"]["pages"] == 1
    assert figures["grades"]["red"]["acknowledged"] == 1
