"""Dispatcher over real webhooks: retry and recovery, no retry on 4xx, ordering, a dead channel
never delaying a healthy one, and the drill interlock on public channels."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from alerting import Dispatcher, Outcome, WebhookNotifier
from tests.support.services import HttpReceiver
from yujing.contracts import (
    AlertKey,
    AlertState,
    DeliveryError,
    Grade,
    Hazard,
    Notice,
    NoticeReason,
)
from yujing.metrics import Metrics

KEY = AlertKey("S003", Hazard.FLOOD, "level")
BASE_S, MAX_S = 0.05, 0.2  # fast backoff for tests


def notice(version: int, *, is_drill: bool = False) -> Notice:
    return Notice(
        key=KEY,
        version=version,
        reason=NoticeReason.FIRED if version == 1 else NoticeReason.UPGRADED,
        grade=Grade.RED,
        previous_grade=Grade.NONE if version == 1 else Grade.ORANGE,
        state=AlertState.FIRING,
        district="district-a",
        ts=1_780_000_000.0 + version,
        value=5.2,
        threshold=5.0,
        quantity="level_m",
        stations=("S003",),
        is_drill=is_drill,
    )


def count(metrics: Metrics, channel: str, outcome: Outcome) -> float:
    labels = {"channel": channel, "outcome": outcome.value}
    return metrics.registry.get_sample_value("yujing_notifications_total", labels) or 0.0


async def eventually(condition: Callable[[], object], timeout_s: float = 5.0) -> None:
    """Wait for ``condition`` without blocking the event loop; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.01)


@pytest.fixture
def second_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def hung_url() -> Iterator[str]:
    """A port that accepts TCP connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


def test_503_then_recovery_is_delivered_after_retries(http_receiver: HttpReceiver) -> None:
    metrics = Metrics()
    delivered: list[str] = []

    async def scenario() -> None:
        dispatcher = Dispatcher(
            [WebhookNotifier("duty", http_receiver.url, b"k")],
            metrics,
            on_delivered=lambda d, attempts: delivered.append(d.idempotency_key),
            base_backoff_s=BASE_S,
            max_backoff_s=MAX_S,
        )
        await dispatcher.start()
        http_receiver.status = 503
        dispatcher.submit(notice(1))
        await eventually(lambda: count(metrics, "duty", Outcome.RETRY) >= 2)
        assert http_receiver.requests == []
        http_receiver.status = 200
        assert await dispatcher.drain(5.0)
        await dispatcher.close()

    asyncio.run(scenario())
    assert [r.json()["idempotency_key"] for r in http_receiver.requests] == [f"{KEY}#1"]
    assert delivered == [f"{KEY}#1"]
    assert count(metrics, "duty", Outcome.DELIVERED) == 1
    assert count(metrics, "duty", Outcome.FAILED) == 0


def test_400_is_not_retried(http_receiver: HttpReceiver) -> None:
    metrics = Metrics()
    failures: list[BaseException] = []

    async def scenario() -> None:
        dispatcher = Dispatcher(
            [WebhookNotifier("duty", http_receiver.url)],
            metrics,
            on_failed=lambda d, error, attempts: failures.append(error),
            base_backoff_s=BASE_S,
            max_backoff_s=MAX_S,
        )
        await dispatcher.start()
        http_receiver.status = 400
        dispatcher.submit(notice(1))
        assert await dispatcher.drain(5.0)
        await dispatcher.close()

    asyncio.run(scenario())
    assert count(metrics, "duty", Outcome.RETRY) == 0
    assert count(metrics, "duty", Outcome.FAILED) == 1
    assert count(metrics, "duty", Outcome.DELIVERED) == 0
    [error] = failures
    assert isinstance(error, DeliveryError) and error.retryable is False


def test_retries_stop_at_the_bound_and_the_channel_carries_on(http_receiver: HttpReceiver) -> None:
    metrics = Metrics()

    async def scenario() -> None:
        dispatcher = Dispatcher(
            [WebhookNotifier("duty", http_receiver.url)],
            metrics,
            max_attempts=5,
            max_attempts_by_channel={"duty": 3},
            base_backoff_s=BASE_S,
            max_backoff_s=MAX_S,
        )
        await dispatcher.start()
        http_receiver.status = 503
        dispatcher.submit(notice(1))
        assert await dispatcher.drain(5.0)
        assert (count(metrics, "duty", Outcome.RETRY), count(metrics, "duty", Outcome.FAILED)) == (
            2,
            1,
        )
        http_receiver.status = 200
        dispatcher.submit(notice(2))
        assert await dispatcher.drain(5.0)
        await dispatcher.close()

    asyncio.run(scenario())
    assert [r.json()["version"] for r in http_receiver.requests] == [2]


def test_order_per_alert_is_kept_through_retries(http_receiver: HttpReceiver) -> None:
    metrics = Metrics()

    async def scenario() -> None:
        dispatcher = Dispatcher(
            [WebhookNotifier("duty", http_receiver.url)],
            metrics,
            rng=random.Random(3),
            base_backoff_s=BASE_S,
            max_backoff_s=MAX_S,
        )
        await dispatcher.start()
        http_receiver.status = 503
        for version in range(1, 6):
            dispatcher.submit(notice(version))
        await eventually(lambda: count(metrics, "duty", Outcome.RETRY) >= 1)
        http_receiver.status = 200
        assert await dispatcher.drain(5.0)
        await dispatcher.close()

    asyncio.run(scenario())
    assert [r.json()["version"] for r in http_receiver.requests] == [1, 2, 3, 4, 5]


def test_dead_channels_do_not_delay_a_healthy_one(
    http_receiver: HttpReceiver, second_receiver: HttpReceiver, hung_url: str
) -> None:
    second_receiver.stop()  # its port is now closed: connection refused
    metrics = Metrics()
    healthy_after_s: list[float] = []

    async def scenario() -> None:
        dispatcher = Dispatcher(
            [
                WebhookNotifier("stopped", second_receiver.url, timeout_s=2.0),
                WebhookNotifier("hung", hung_url, timeout_s=2.0),
                WebhookNotifier("duty", http_receiver.url),
            ],
            metrics,
            base_backoff_s=0.2,
            max_backoff_s=1.0,
        )
        await dispatcher.start()
        started = time.monotonic()
        for version in (1, 2, 3):
            dispatcher.submit(notice(version))
        await eventually(lambda: count(metrics, "duty", Outcome.DELIVERED) == 3)
        healthy_after_s.append(time.monotonic() - started)
        # the dead ones are still at it: nothing delivered, nothing given up, all still queued
        pending = dispatcher.pending()
        assert (pending["stopped"], pending["hung"], pending["duty"]) == (3, 3, 0)
        for dead in ("stopped", "hung"):
            assert count(metrics, dead, Outcome.DELIVERED) == 0
            assert count(metrics, dead, Outcome.FAILED) == 0
        await eventually(lambda: count(metrics, "stopped", Outcome.RETRY) >= 1)
        assert not await dispatcher.drain(0.1)
        await dispatcher.close()

    asyncio.run(scenario())
    assert [r.json()["version"] for r in http_receiver.requests] == [1, 2, 3]
    assert count(metrics, "duty", Outcome.DELIVERED) == 3
    assert healthy_after_s[0] < 2.0  # before the hung channel's first attempt even timed out


def test_drill_notices_never_reach_a_public_channel(
    http_receiver: HttpReceiver, second_receiver: HttpReceiver
) -> None:
    metrics = Metrics()

    async def scenario() -> None:
        dispatcher = Dispatcher(
            [
                WebhookNotifier("duty", http_receiver.url),
                WebhookNotifier("public-feed", second_receiver.url, is_public=True),
            ],
            metrics,
        )
        await dispatcher.start()
        dispatcher.submit(notice(1, is_drill=True))
        dispatcher.submit(notice(2))
        assert await dispatcher.drain(5.0)
        await dispatcher.close()

    asyncio.run(scenario())
    assert [(b["version"], b["is_drill"]) for b in http_receiver.bodies()] == [
        (1, True),
        (2, False),
    ]
    assert [(b["version"], b["is_drill"]) for b in second_receiver.bodies()] == [(2, False)]
    assert count(metrics, "public-feed", Outcome.DRILL_BLOCKED) == 1
