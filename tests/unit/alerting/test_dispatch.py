"""Dispatcher with in-process channels (console streams); HTTP channels: tests/integration."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC

import pytest

from alerting import ConsoleNotifier, Dispatcher, Outcome
from alerting.model import Delivery
from yujing.contracts import AlertKey, AlertState, Grade, Hazard, Notice, NoticeReason
from yujing.metrics import Metrics

KEY = AlertKey("S003", Hazard.FLOOD, "level")


def notice(version: int, grade: Grade = Grade.RED) -> Notice:
    return Notice(
        key=KEY,
        version=version,
        reason=NoticeReason.FIRED if version == 1 else NoticeReason.UPGRADED,
        grade=grade,
        previous_grade=Grade.NONE,
        state=AlertState.FIRING,
        district="district-a",
        ts=1_780_000_000.0 + version,
        value=5.0,
        threshold=4.5,
        quantity="level_m",
        stations=("S003",),
    )


def count(metrics: Metrics, channel: str, outcome: Outcome) -> float:
    labels = {"channel": channel, "outcome": outcome.value}
    return metrics.registry.get_sample_value("yujing_notifications_total", labels) or 0.0


def depth(metrics: Metrics, channel: str) -> float | None:
    return metrics.registry.get_sample_value("yujing_queue_depth", {"queue": f"notify:{channel}"})


def test_delivers_in_order_counts_and_reports_to_the_outbox_seam() -> None:
    stream = io.StringIO()
    metrics = Metrics()
    delivered: list[tuple[str, str]] = []

    async def scenario() -> None:
        dispatcher = Dispatcher(
            [ConsoleNotifier(stream, color=False, tz=UTC)],
            metrics,
            on_delivered=lambda d, attempts: delivered.append((d.idempotency_key, d.channel)),
        )
        for version in (1, 2, 3):  # submitted before start: kept, sent once started
            dispatcher.submit(notice(version))
        assert dispatcher.pending() == {"console": 3}
        assert depth(metrics, "console") == 3
        await dispatcher.start()
        assert await dispatcher.drain(5.0)
        await dispatcher.close()

    asyncio.run(scenario())
    assert [line.split("(v")[1][0] for line in stream.getvalue().splitlines()] == ["1", "2", "3"]
    assert delivered == [(f"{KEY}#{v}", "console") for v in (1, 2, 3)]
    assert count(metrics, "console", Outcome.DELIVERED) == 3
    assert count(metrics, "console", Outcome.FAILED) == 0
    assert depth(metrics, "console") == 0
    latency = metrics.registry.get_sample_value(
        "yujing_notification_latency_seconds_count", {"channel": "console"}
    )
    assert latency == 3


def test_a_broken_channel_fails_without_retry_and_the_other_still_delivers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, good = io.StringIO(), io.StringIO()
    broken.close()
    metrics = Metrics()
    failed: list[tuple[str, str, object]] = []

    async def scenario() -> None:
        dispatcher = Dispatcher(
            [
                ConsoleNotifier(broken, color=False, name="wall-screen"),
                ConsoleNotifier(good, color=False, name="console"),
            ],
            metrics,
            on_failed=lambda d, error, attempts: failed.append(
                (d.idempotency_key, d.channel, getattr(error, "retryable", None))
            ),
        )
        await dispatcher.start()
        dispatcher.submit(notice(1))
        assert await dispatcher.drain(5.0)
        await dispatcher.close()

    with caplog.at_level(logging.INFO, logger="alerting.dispatch"):
        asyncio.run(scenario())
    assert failed == [(f"{KEY}#1", "wall-screen", False)]
    assert count(metrics, "wall-screen", Outcome.FAILED) == 1
    assert count(metrics, "wall-screen", Outcome.RETRY) == 0
    assert count(metrics, "console", Outcome.DELIVERED) == 1
    assert len(good.getvalue().splitlines()) == 1
    gave_up = [r for r in caplog.records if r.getMessage() == "delivery failed, giving up"]
    fields = [(getattr(r, "channel", None), getattr(r, "idempotency_key", None)) for r in gave_up]
    assert fields == [("wall-screen", f"{KEY}#1")]


def test_a_failing_callback_does_not_stop_the_channel() -> None:
    stream = io.StringIO()

    def journal_down(delivery: Delivery, attempts: int) -> None:
        raise OSError("disk full")

    async def scenario() -> None:
        dispatcher = Dispatcher([ConsoleNotifier(stream, color=False)], on_delivered=journal_down)
        await dispatcher.start()
        dispatcher.submit(notice(1))
        dispatcher.submit(notice(2))
        assert await dispatcher.drain(5.0)
        await dispatcher.close()

    asyncio.run(scenario())
    assert len(stream.getvalue().splitlines()) == 2


def test_a_full_queue_fails_the_notice_on_that_channel_only() -> None:
    metrics = Metrics()

    async def scenario() -> None:
        dispatcher = Dispatcher([ConsoleNotifier(io.StringIO(), color=False)], metrics, max_queue=2)
        for version in (1, 2, 3):  # not started: nothing drains the queue
            dispatcher.submit(notice(version))
        assert dispatcher.pending() == {"console": 2}
        assert not await dispatcher.drain(0.05)
        await dispatcher.close()

    asyncio.run(scenario())
    assert count(metrics, "console", Outcome.FAILED) == 1


def test_submit_after_close_is_an_error() -> None:
    async def scenario() -> None:
        dispatcher = Dispatcher([ConsoleNotifier(io.StringIO(), color=False)])
        await dispatcher.start()
        await dispatcher.close()
        await dispatcher.close()  # idempotent
        with pytest.raises(RuntimeError, match="after close"):
            dispatcher.submit(notice(1))

    asyncio.run(scenario())


def test_configuration_errors_name_the_problem() -> None:
    twins = [ConsoleNotifier(io.StringIO()), ConsoleNotifier(io.StringIO())]
    with pytest.raises(ValueError, match="two notifiers are named 'console'"):
        Dispatcher(twins)
    one = [ConsoleNotifier(io.StringIO())]
    with pytest.raises(ValueError, match="names no notifier"):
        Dispatcher(one, max_attempts_by_channel={"sms": 3})
    with pytest.raises(ValueError, match="max_attempts 0"):
        Dispatcher(one, max_attempts=0)
    with pytest.raises(ValueError, match="base_backoff_s"):
        Dispatcher(one, base_backoff_s=5.0, max_backoff_s=1.0)
    assert Dispatcher(one).channels == ["console"]
