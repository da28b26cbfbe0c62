"""WebhookNotifier against a real HTTP receiver (and real dead endpoints) on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from alerting import WebhookNotifier
from alerting.model import Delivery
from tests.support.services import HttpReceiver
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

SECRET = b"duty-room-shared-secret"
SENT_AT = 1_780_000_123.456


def notice(value: float | None = 5.2) -> Notice:
    return Notice(
        key=AlertKey("S003", Hazard.FLOOD, "level"),
        version=2,
        reason=NoticeReason.UPGRADED,
        grade=Grade.RED,
        previous_grade=Grade.ORANGE,
        state=AlertState.FIRING,
        district="district-a",
        ts=1_780_000_100.0,
        value=value,
        threshold=5.0,
        quantity="level_m",
        message="水位 5.2 m，超保证水位",
        source_ts=1_780_000_099.5,
        stations=("S003",),
    )


def send(notifier: WebhookNotifier, n: Notice) -> None:
    async def once() -> None:
        try:
            await notifier.send(Delivery(n, notifier.name))
        finally:
            await notifier.close()

    asyncio.run(once())


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A port that accepts TCP connections and never answers: a hung receiver."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


def test_posts_the_notice_with_idempotency_key_and_a_verifiable_signature(
    http_receiver: HttpReceiver,
) -> None:
    webhook = WebhookNotifier(
        "duty-room", http_receiver.url + "/yujing", SECRET, wall_clock=lambda: SENT_AT
    )
    send(webhook, notice())

    [request] = http_receiver.requests
    headers = lower(request.headers)
    assert request.path == "/yujing"
    assert headers["content-type"] == "application/json"
    assert headers["idempotency-key"] == "S003/flood/level#2"
    assert request.json() == {**notice().to_json(), "sent_at": SENT_AT}
    # verify as a receiver would, from the exact bytes received, in constant time
    expected = "sha256=" + hmac.new(SECRET, request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-yujing-signature"], expected)
    assert float(headers["x-yujing-timestamp"]) == request.json()["sent_at"]
    # a different secret or a changed byte does not verify
    forged = hmac.new(b"other", request.body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(headers["x-yujing-signature"], "sha256=" + forged)
    tampered = request.body.replace(b'"red"', b'"blue"', 1)
    retyped = "sha256=" + hmac.new(SECRET, tampered, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(headers["x-yujing-signature"], retyped)


def test_without_a_secret_nothing_is_signed(http_receiver: HttpReceiver) -> None:
    send(WebhookNotifier("plain", http_receiver.url), notice())
    headers = lower(http_receiver.requests[0].headers)
    assert "x-yujing-signature" not in headers and "x-yujing-timestamp" not in headers
    assert headers["idempotency-key"] == "S003/flood/level#2"


def test_each_attempt_is_stamped_and_signed_afresh(http_receiver: HttpReceiver) -> None:
    stamps = iter([SENT_AT, SENT_AT + 2.0])
    webhook = WebhookNotifier("duty", http_receiver.url, SECRET, wall_clock=lambda: next(stamps))

    async def twice() -> None:
        await webhook.send(Delivery(notice(), webhook.name))
        await webhook.send(Delivery(notice(), webhook.name))
        await webhook.close()

    asyncio.run(twice())
    first, second = http_receiver.requests
    assert [r.json()["sent_at"] for r in (first, second)] == [SENT_AT, SENT_AT + 2.0]
    assert lower(first.headers)["idempotency-key"] == lower(second.headers)["idempotency-key"]
    assert lower(first.headers)["x-yujing-signature"] != lower(second.headers)["x-yujing-signature"]


def test_non_finite_values_are_sent_as_null(http_receiver: HttpReceiver) -> None:
    send(WebhookNotifier("duty", http_receiver.url), notice(value=float("nan")))
    body = http_receiver.requests[0].body
    assert json.loads(body)["value"] is None
    assert b"NaN" not in body


STATUSES = {
    500: True,
    502: True,
    503: True,
    429: True,
    408: True,
    400: False,
    401: False,
    404: False,
    422: False,
    301: False,
}


def test_status_codes_say_whether_to_retry(http_receiver: HttpReceiver) -> None:
    webhook = WebhookNotifier("duty", http_receiver.url)
    seen: dict[int, bool] = {}

    async def each_status() -> None:
        for status in STATUSES:
            http_receiver.status = status
            with pytest.raises(DeliveryError) as caught:
                await webhook.send(Delivery(notice(), webhook.name))
            assert f"HTTP {status}" in str(caught.value)
            seen[status] = caught.value.retryable
        await webhook.close()

    asyncio.run(each_status())
    assert seen == STATUSES


def test_a_closed_port_is_retryable_and_the_error_hides_url_secrets() -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/T0KEN-PATH?token=hunter2"
    with pytest.raises(DeliveryError) as caught:
        send(WebhookNotifier("duty", url), notice())
    assert caught.value.retryable is True
    assert "ConnectError" in str(caught.value)
    assert "hunter2" not in str(caught.value) and "T0KEN" not in str(caught.value)
    assert "T0KEN" not in repr(WebhookNotifier("duty", url))


def test_a_hung_receiver_times_out_as_retryable(blackhole: str) -> None:
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        send(WebhookNotifier("duty", blackhole, timeout_s=0.3), notice())
    assert caught.value.retryable is True
    assert "Timeout" in str(caught.value)
    assert time.monotonic() - started < 5.0


def test_a_shared_client_is_left_open_for_its_owner(http_receiver: HttpReceiver) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient() as client:
            webhook = WebhookNotifier("duty", http_receiver.url, client=client)
            await webhook.send(Delivery(notice(), webhook.name))
            await webhook.close()
            assert not client.is_closed
            await webhook.send(Delivery(notice(), webhook.name))  # still usable by its owner

    asyncio.run(scenario())
    assert len(http_receiver.requests) == 2


@pytest.mark.parametrize("url", ["ftp://example.org/x", "not a url", "http:///path-only"])
def test_bad_urls_fail_at_construction(url: str) -> None:
    with pytest.raises(ValueError, match="webhook duty: url"):
        WebhookNotifier("duty", url)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret is empty"):
        WebhookNotifier("duty", "http://127.0.0.1:9/", b"")
