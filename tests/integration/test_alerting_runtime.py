"""End to end in one process: MQTT readings → embedded runtime → SMS gateway (real HTTP) →
the officer's acknowledgement link → escalation stops; and the drill interlock with a roster
that (wrongly) routes exercises to a public channel."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.runtime import Sender, running, write_settings
from tests.support.services import HttpReceiver, wait_for
from yujing.broker import Broker, free_port

STATIONS: list[dict[str, Any]] = [
    {
        "id": f"G{i}",
        "kind": "gas",
        "district": "d1",
        "lat": 40.0 + i / 100,
        "lon": 116.3,
        "interval_s": 3600,
    }
    for i in (1, 2)
]
TOKENS = {
    "li": "token-li-0123456789",
    "wang": "token-wang-0123456789",
    "zhao": "token-zhao-012345678",
}


def roster(folder: Path, *, ack_timeout_s: float, channels: list[str] | None = None) -> Path:
    route: dict[str, Any] = {"grades": ["orange", "red"], "chain": ["li", "wang"]}
    if channels:
        route["channels"] = channels
    path = folder / "roster.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "ack_timeout_s": ack_timeout_s,
                "officers": {
                    "li": {"name": "李伟", "phone": "+861"},
                    "wang": {"name": "王芳", "phone": "+862"},
                    "zhao": {"name": "赵敏", "phone": "+869"},
                },
                "leaders": {"d1": "zhao"},
                "routes": [route],
            },
            allow_unicode=True,
        )
    )
    return path


def settings(folder: Path, broker: Broker, gateway: HttpReceiver, **extra: Any) -> Path:
    tokens = folder / "tokens.yaml"
    tokens.write_text(yaml.safe_dump(TOKENS))
    base: dict[str, Any] = {
        "alerting": {"roster": str(extra.pop("roster")), "group": {"wait_s": 0}},
        "api": {"port": free_port(), "tokens_file": str(tokens)},
        "notify": {"console": False, "sms": [{"name": "sms", "url": gateway.url + "/send"}]},
    }
    for key, value in extra.items():
        base.setdefault(key, {}).update(value)
    return write_settings(folder, broker_url=broker.url, stations=STATIONS, extra=base)


def gas(sender: Sender, station: str, seq: int, pct: float) -> None:
    """Two readings at ``pct`` (seq, seq + 1): the detectors confirm a level on the second."""
    now = time.time()
    for n in (0, 1):
        body = {
            "station": station,
            "ts": int((now - 5 + n) * 1000),
            "seq": seq + n,
            "values": {"ch4_pct_lel": pct},
        }
        sender.reading("d1", "gas", station, body)


def sms(gateway: HttpReceiver) -> list[tuple[str, str, str]]:
    """(idempotency key, phone, text) of every SMS the gateway accepted."""
    return [
        (r.headers["Idempotency-Key"], r.json()["to"], r.json()["text"]) for r in gateway.requests
    ]


def test_page_escalate_and_acknowledge_by_link(tmp_path: Path, mosquitto: Broker) -> None:
    gateway = HttpReceiver().start()
    try:
        path = settings(tmp_path, mosquitto, gateway, roster=roster(tmp_path, ack_timeout_s=1.0))
        with running(path) as rt:
            sender = Sender(mosquitto.host, mosquitto.port)
            gas(sender, "G1", 0, 60.0)  # red at once
            first = wait_for(lambda: len(sms(gateway)) >= 2 and sms(gateway), 15)
            assert {(k, phone) for k, phone, _ in first} == {
                ("d1/gas_leak/group#1@li", "+861"),  # first of the chain
                ("d1/gas_leak/group#1@zhao", "+869"),  # red: the district leader at once
            }
            text = first[0][2]
            assert text.startswith("【红色燃气泄漏预警·发布】d1 G1 (ch4_pct_lel 60.0 ≥ 50.0)")
            # nobody answers within 1 s: escalated to wang, li and zhao reminded
            wait_for(lambda: any(k.endswith("#2@wang") for k, _, _ in sms(gateway)), 15)
            link = next(t for k, _, t in sms(gateway) if k.endswith("#2@wang")).split()[-1]
            assert link.startswith("http://127.0.0.1:")
            assert "确认" in httpx.get(link).text  # the page: nothing acknowledged yet
            assert "已确认" in httpx.post(link).text
            # the acknowledgement goes to everyone already paged (li and zhao), each its own send
            acked = wait_for(
                lambda: (
                    (a := sorted(k for k, _, t in sms(gateway) if "已确认" in t))
                    and len(a) >= 2
                    and a
                ),
                15,
            )
            assert acked == ["d1/gas_leak/group#3@li", "d1/gas_leak/group#3@zhao"]
            # acknowledged: no deadline is left, so nothing more can escalate
            api = f"http://127.0.0.1:{rt.settings.api.port}/api/v1/alerts"
            token = {"Authorization": f"Bearer {TOKENS['li']}"}
            alerts = httpx.get(api, headers=token).json()["alerts"]
            group = next(a for a in alerts if a["key"] == "d1/gas_leak/group")
            assert group["state"] == "acknowledged" and group["acked_by"] == "wang"
            assert group["duty"]["ack_deadline"] is None
            assert group["duty"]["audience"] == ["li", "zhao", "wang"]
            assert rt.metric("yujing_alert_pages_total", grade="red") == 1
            assert rt.metric("yujing_alert_escalations_total", grade="red", reason="escalated") == 1
            assert rt.metric("yujing_alert_ack_seconds_count", grade="red") == 1
            sender.close()
    finally:
        gateway.stop()
    keys = [k for k, _, _ in sms(gateway)]
    assert len(keys) == len(set(keys))  # nobody got the same notice twice


def test_a_drill_never_reaches_a_public_channel_even_when_routed_there(
    tmp_path: Path, mosquitto: Broker
) -> None:
    private, public, hook = HttpReceiver().start(), HttpReceiver().start(), HttpReceiver().start()
    try:
        path = settings(
            tmp_path,
            mosquitto,
            private,
            roster=roster(tmp_path, ack_timeout_s=300, channels=["sms", "public-sms"]),
            alerting={"drill": {"stations": ["G2"]}},
            notify={
                "sms": [
                    {"name": "sms", "url": private.url},
                    {"name": "public-sms", "url": public.url, "public": True},
                ],
                "webhooks": [
                    {"name": "public-hook", "url": hook.url, "public": True, "scope": "all"}
                ],
            },
        )
        with running(path) as rt:
            sender = Sender(mosquitto.host, mosquitto.port)
            gas(sender, "G2", 0, 60.0)  # a drill station
            wait_for(lambda: len(private.requests) >= 2, 15)
            gas(sender, "G1", 0, 30.0)  # a real orange afterwards: reaches everyone
            wait_for(lambda: len(public.requests) >= 1 and len(hook.requests) >= 2, 15)
            assert rt.metric("yujing_alert_suppressed_total", reason="drill_public") >= 3
            sender.close()
    finally:
        for receiver in (private, public, hook):
            receiver.stop()
    assert all("【演练 EXERCISE】" in r.json()["text"] for r in private.requests[:2])
    assert all("演练" not in r.json()["text"] for r in public.requests)
    assert all(not json.loads(r.body)["is_drill"] for r in hook.requests)
    assert {json.loads(r.body)["key"] for r in hook.requests} == {
        "G1/gas_leak/ch4",
        "d1/gas_leak/group",
    }
