"""Officer and machine channels against real servers started here: an SMS gateway and an
Alertmanager endpoint (real HTTP), an SMTP server (aiosmtpd) plain and with STARTTLS + login."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from alerting import AlertmanagerNotifier, EmailNotifier, SmsNotifier
from alerting.model import Delivery
from tests.support.services import HttpReceiver, wait_for
from yujing.broker import free_port
from yujing.contracts import (
    AlertKey,
    AlertState,
    DeliveryError,
    Grade,
    Hazard,
    Notice,
    NoticeReason,
)

KEY = AlertKey("haidian", Hazard.FLOOD, "group")


def notice(
    version: int = 1,
    reason: NoticeReason = NoticeReason.FIRED,
    grade: Grade = Grade.RED,
    previous: Grade = Grade.NONE,
    *,
    is_drill: bool = False,
) -> Notice:
    return Notice(
        key=KEY,
        version=version,
        reason=reason,
        grade=grade,
        previous_grade=previous,
        state=AlertState.RESOLVED if grade is Grade.NONE else AlertState.FIRING,
        district="haidian",
        ts=1_780_000_000.0,
        value=5.2,
        threshold=5.0,
        quantity="level_m",
        message="2 stations: HD-W003 red, HD-W004 orange",
        is_drill=is_drill,
        stations=("HD-W003", "HD-W004"),
    )


def to_officer(n: Notice, channel: str, address: str) -> Delivery:
    return Delivery(n, channel, "li.wei", address, "李伟", "http://duty.example/ack/abc.def")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ---- SMS gateway ------------------------------------------------------------------------------


def test_sms_json_request_shape_auth_and_idempotency(http_receiver: HttpReceiver) -> None:
    sms = SmsNotifier(
        "sms",
        http_receiver.url + "/v1/send",
        fields={"mobile": "{phone}", "content": "{text}", "sign": "市应急局"},
        token="provider-key-123",
    )

    async def go() -> None:
        await sms.send(to_officer(notice(), "sms", "+8613800000101"))
        await sms.close()

    run(go())
    [request] = http_receiver.requests
    assert request.path == "/v1/send"
    assert request.headers["Authorization"] == "Bearer provider-key-123"
    assert request.headers["Idempotency-Key"] == "haidian/flood/group#1@li.wei"
    body = request.json()
    assert body["mobile"] == "+8613800000101" and body["sign"] == "市应急局"
    assert body["content"] == (
        "【红色洪水预警·发布】haidian HD-W003, HD-W004 (level_m 5.2 ≥ 5.0)。"
        "确认请点 http://duty.example/ack/abc.def"
    )


def test_sms_form_encoding_and_drill_tag(http_receiver: HttpReceiver) -> None:
    sms = SmsNotifier(
        "sms", http_receiver.url, body_format="form", text_template="{grade_zh} {district}"
    )

    async def go() -> None:
        await sms.send(to_officer(notice(is_drill=True), "sms", "+86138"))
        await sms.close()

    run(go())
    [request] = http_receiver.requests
    form = parse_qs(request.body.decode())
    assert form["to"] == ["+86138"]
    assert form["text"] == ["【演练 EXERCISE】红色 haidian"]  # the tag even without {tag}


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (429, True), (400, False)])
def test_sms_gateway_errors(http_receiver: HttpReceiver, status: int, retryable: bool) -> None:
    http_receiver.status = status
    sms = SmsNotifier("sms", http_receiver.url)

    async def go() -> None:
        try:
            with pytest.raises(DeliveryError) as caught:
                await sms.send(to_officer(notice(), "sms", "+86138"))
            assert caught.value.retryable is retryable
        finally:
            await sms.close()

    run(go())


def test_sms_settings_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"fields.to: .*unknown fields \['telephone'\]"):
        SmsNotifier("sms", "http://127.0.0.1:9/x", fields={"to": "{telephone}"})


# ---- SMTP -------------------------------------------------------------------------------------


@dataclass
class Inbox:
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        data = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        self.messages.append(parsed)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"mail-secret"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


@pytest.fixture
def smtp_plain() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the ``openssl`` command, as on any Debian)."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed for the STARTTLS test: apt-get install openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    extra = ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(["openssl", *command.split(), *extra], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def smtp_tls(certificate: tuple[Path, Path]) -> Iterator[tuple[Controller, Inbox]]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=inbox.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    yield controller, inbox
    controller.stop()


def test_email_plain_smtp_carries_text_link_and_stable_message_id(
    smtp_plain: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp_plain
    mailer = EmailNotifier(
        "email", "127.0.0.1", controller.port, "yujing@city.example.org", starttls=False
    )
    delivery = to_officer(notice(), "email", "li.wei@duty.example.org")
    run(mailer.send(delivery))
    run(mailer.send(delivery))  # a re-send after a crash: same Message-ID
    first, second = inbox.messages
    assert first["To"] == "li.wei@duty.example.org"
    assert first["Subject"].startswith("[yujing] 红色洪水预警 发布: haidian")
    assert first["X-Yujing-Idempotency-Key"] == "haidian/flood/group#1@li.wei"
    assert first["Message-ID"] == second["Message-ID"]
    body = first.get_content()
    assert "HD-W003, HD-W004" in body and "http://duty.example/ack/abc.def" in body


def test_email_starttls_with_login(
    smtp_tls: tuple[Controller, Inbox], certificate: tuple[Path, Path]
) -> None:
    controller, inbox = smtp_tls
    mailer = EmailNotifier(
        "email",
        "127.0.0.1",
        controller.port,
        "yujing@city.example.org",
        starttls=True,
        username="yujing",
        password="mail-secret",
        ca_file=certificate[0],
    )
    run(mailer.send(to_officer(notice(is_drill=True), "email", "li.wei@duty.example.org")))
    [message] = inbox.messages
    assert inbox.logins == ["yujing"]
    assert message["Subject"].startswith("【演练 EXERCISE】")
    assert message["X-Yujing-Exercise"] == "true"


def test_email_refuses_an_unverified_certificate_without_retry(
    smtp_tls: tuple[Controller, Inbox],
) -> None:
    controller, _ = smtp_tls
    mailer = EmailNotifier("email", "127.0.0.1", controller.port, "yujing@city.example.org")
    with pytest.raises(DeliveryError) as caught:
        run(mailer.send(to_officer(notice(), "email", "li@x.org")))
    assert caught.value.retryable is False


def test_email_without_starttls_against_a_server_requiring_it_is_refused(
    smtp_tls: tuple[Controller, Inbox],
) -> None:
    controller, _ = smtp_tls
    mailer = EmailNotifier("email", "127.0.0.1", controller.port, "y@x.org", starttls=False)
    with pytest.raises(DeliveryError) as caught:
        run(mailer.send(to_officer(notice(), "email", "li@x.org")))
    assert caught.value.retryable is False  # 530 "must issue STARTTLS first"


def test_email_to_a_closed_port_is_retryable() -> None:
    mailer = EmailNotifier(
        "email", "127.0.0.1", free_port(), "y@x.org", starttls=False, timeout_s=2
    )
    with pytest.raises(DeliveryError) as caught:
        run(mailer.send(to_officer(notice(), "email", "li@x.org")))
    assert caught.value.retryable is True


# ---- Alertmanager -----------------------------------------------------------------------------


def test_alertmanager_push_fire_upgrade_resolve(http_receiver: HttpReceiver) -> None:
    am = AlertmanagerNotifier(
        "am",
        http_receiver.url,
        repush_s=0,
        wall_clock=lambda: 1_780_000_100.0,
        generator_url="http://duty.example",
    )

    async def go() -> None:
        await am.send(Delivery(notice(1, NoticeReason.FIRED, Grade.ORANGE, Grade.NONE), "am"))
        await am.send(Delivery(notice(2, NoticeReason.UPGRADED, Grade.RED, Grade.ORANGE), "am"))
        await am.send(Delivery(notice(3, NoticeReason.RESOLVED, Grade.NONE, Grade.RED), "am"))
        await am.close()

    run(go())
    assert [r.path for r in http_receiver.requests] == ["/api/v2/alerts"] * 3
    fired, upgraded, resolved = (json.loads(r.body) for r in http_receiver.requests)
    [alert] = fired
    assert alert["labels"] == {
        "alertname": "yujing_flood",
        "key": "haidian/flood/group",
        "area": "haidian",
        "district": "haidian",
        "hazard": "flood",
        "rule": "group",
        "grade": "orange",
        "severity": "orange",
    }
    assert alert["startsAt"] == "2026-05-28T20:26:40.000Z" and "endsAt" not in alert
    assert alert["generatorURL"] == "http://duty.example"
    old, new = upgraded  # the orange alert ends, the red one fires (grade is a label)
    assert (old["labels"]["grade"], old["endsAt"]) == ("orange", "2026-05-28T20:28:20.000Z")
    assert new["labels"]["grade"] == "red" and "endsAt" not in new
    assert new["startsAt"] == alert["startsAt"]  # the same episode
    [ended] = resolved
    assert ended["labels"]["grade"] == "red" and ended["endsAt"]


def test_alertmanager_repushes_firing_alerts_and_marks_drills(http_receiver: HttpReceiver) -> None:
    am = AlertmanagerNotifier("am", http_receiver.url, repush_s=0.05)

    async def go() -> None:
        await am.send(Delivery(notice(1, is_drill=True), "am"))
        await asyncio.to_thread(wait_for, lambda: len(http_receiver.requests) >= 3, 5)
        await am.close()

    run(go())
    for request in http_receiver.requests:
        [alert] = json.loads(request.body)
        assert alert["labels"]["exercise"] == "true" and alert["labels"]["grade"] == "red"
