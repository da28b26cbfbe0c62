"""AlertingService against real HTTP receivers: journal before send, a restart that rebuilds the
book and resumes the outbox (exactly the undelivered rows), a channel outage where everything
arrives afterwards in order per alert, and a dead channel that never delays the others."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from alerting import AlertingService, ChannelSpec, DispatchOptions, Journal, WebhookNotifier
from alerting.pipeline import AlertPipeline
from tests.support.services import HttpReceiver
from tests.unit.alerting.conftest import DAY, level, pipeline
from yujing.broker import free_port
from yujing.contracts import AlertKey, Grade, Hazard
from yujing.metrics import Metrics

FAST = DispatchOptions(max_attempts=200, base_backoff_s=0.02, max_backoff_s=0.1)


async def eventually(condition: Callable[[], object], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.01)


def hooks_pipeline(*names: str) -> AlertPipeline:
    return pipeline(channels=tuple(ChannelSpec(n, scope="all") for n in names))


def service(
    journal: Path, hooks: dict[str, str], metrics: Metrics | None = None
) -> AlertingService:
    notifiers = [WebhookNotifier(name, url, timeout_s=2.0) for name, url in hooks.items()]
    return AlertingService(
        hooks_pipeline(*hooks), journal, notifiers, clock=time.time, metrics=metrics, dispatch=FAST
    )


def keys(receiver: HttpReceiver) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in receiver.requests]


def test_restart_rebuilds_the_book_and_resends_exactly_the_undelivered(tmp_path: Path) -> None:
    journal = tmp_path / "alerts.db"
    port = free_port()
    down_url = f"http://127.0.0.1:{port}/hook"  # nothing listens yet: connection refused
    t = DAY

    async def before_crash() -> None:
        metrics = Metrics()
        first = service(journal, {"duty": down_url}, metrics)
        await first.start()
        first.apply([level("S003", Grade.ORANGE, t), level("S004", Grade.RED, t)], t)
        first.advance(t + 10)
        labels = {"channel": "duty", "outcome": "retry"}
        await eventually(  # a few failed attempts
            lambda: (
                (metrics.registry.get_sample_value("yujing_notifications_total", labels) or 0) >= 3
            )
        )
        # the crash: the process is gone; nothing more is marked (journal closed unflushed)
        await first.dispatcher.close()
        first.journal.close()

    asyncio.run(before_crash())
    rows = Journal(journal).query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
    assert rows == [("pending", 3)]  # 2 station notices + the district group, all journaled

    receiver = HttpReceiver(port=port).start()
    try:

        async def after_restart() -> list[str]:
            second = service(journal, {"duty": down_url})
            await second.start()
            assert second.resumed == 3
            await eventually(lambda: len(receiver.requests) == 3)
            # the book came back: same alerts, versions continue, no re-fire for known grades
            assert [str(a.key) for a in second.alerts()] == [
                "S003/flood/level",
                "S004/flood/level",
                "district-a/flood/group",
            ]
            assert second.apply([level("S004", Grade.RED, t + 20)], t + 20) == []
            [up] = second.apply([level("S003", Grade.RED, t + 30)], t + 30)
            assert up.version == 2
            await eventually(lambda: len(receiver.requests) == 4)
            # the group's acknowledgement deadline came back too (red at t, deadline t + 300)
            [escalated] = second.advance(t + 300)
            assert escalated.reason.value == "escalated"
            await second.close()
            return keys(receiver)

        got = asyncio.run(after_restart())
    finally:
        receiver.stop()
    assert sorted(got[:3]) == [
        "S003/flood/level#1",
        "S004/flood/level#1",
        "district-a/flood/group#1",
    ]
    assert got[3:] == ["S003/flood/level#2", "district-a/flood/group#2"][: len(got) - 3]
    statuses = Journal(journal).query("SELECT DISTINCT status FROM outbox")
    assert statuses == [("delivered",)]


def test_outage_then_everything_arrives_in_order_and_the_other_channel_never_waits(
    tmp_path: Path,
) -> None:
    flaky, healthy = HttpReceiver().start(), HttpReceiver().start()
    flaky.status = 503
    metrics = Metrics()
    t = DAY
    sequence = [Grade.YELLOW, Grade.ORANGE, Grade.RED, Grade.ORANGE, Grade.NONE]

    def per_key(receiver: HttpReceiver) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for body in receiver.bodies():
            out.setdefault(body["key"], []).append(body["version"])
        return out

    async def scenario() -> None:
        svc = service(tmp_path / "a.db", {"flaky": flaky.url, "healthy": healthy.url}, metrics)
        await svc.start()
        for step, grade in enumerate(sequence):
            now = t + step
            svc.apply([level(s, grade, now) for s in ("S1", "S2", "S3")], now)
        expected = 3 * len(sequence)
        await eventually(lambda: len(healthy.requests) >= expected)  # while flaky is down
        assert len(flaky.requests) == 0

        def retries() -> float:
            labels = {"channel": "flaky", "outcome": "retry"}
            return metrics.registry.get_sample_value("yujing_notifications_total", labels) or 0

        await eventually(lambda: retries() >= 5)  # down for a while: five failed attempts
        assert len(flaky.requests) == 0
        flaky.status = 200  # the receiver is back
        await eventually(lambda: len(flaky.requests) >= expected)
        await svc.close()

    try:
        asyncio.run(scenario())
    finally:
        flaky.stop()
        healthy.stop()
    for receiver in (flaky, healthy):
        versions = per_key(receiver)
        station_keys = {k: v for k, v in versions.items() if not k.endswith("/group")}
        assert station_keys == {f"{s}/flood/level": [1, 2, 3, 4, 5] for s in ("S1", "S2", "S3")}
    assert Journal(tmp_path / "a.db").query(
        "SELECT status, COUNT(*) FROM outbox WHERE channel = 'flaky' GROUP BY status"
    ) == [("delivered", 16)]  # 15 station notices and the district group's red


def test_the_journal_has_every_transition_before_any_send(tmp_path: Path) -> None:
    """A step's rows are committed before the dispatcher even sees them (journal first)."""
    receiver = HttpReceiver().start()
    seen_pending: list[int] = []

    async def scenario() -> None:
        svc = service(tmp_path / "j.db", {"duty": receiver.url})
        await svc.start()
        original = svc.dispatcher.deliver

        def spy(delivery):  # type: ignore[no-untyped-def]
            count = Journal(tmp_path / "j.db").query(
                "SELECT COUNT(*) FROM outbox WHERE key = ? AND version = ?",
                (str(delivery.notice.key), delivery.notice.version),
            )[0][0]
            seen_pending.append(count)
            original(delivery)

        svc.dispatcher.deliver = spy  # type: ignore[method-assign]
        svc.apply([level("S1", Grade.RED, DAY)], DAY)
        await eventually(lambda: len(receiver.requests) == 2)
        await svc.close()

    try:
        asyncio.run(scenario())
    finally:
        receiver.stop()
    assert seen_pending == [1, 1]
    transitions = Journal(tmp_path / "j.db").query("SELECT key, version, reason FROM transitions")
    assert transitions == [
        ("S1/flood/level", 1, "fired"),
        ("district-a/flood/group", 1, "fired"),
    ]


def test_acknowledgement_and_silence_survive_a_restart(tmp_path: Path) -> None:
    from alerting import Silence

    t = DAY
    journal = tmp_path / "s.db"

    async def first_life() -> None:
        svc = AlertingService(pipeline(), journal, [], clock=time.time)
        await svc.start()
        svc.apply([level("S1", Grade.ORANGE, t)], t)
        svc.advance(t + 10)
        group = AlertKey("district-a", Hazard.FLOOD, "group")
        assert svc.acknowledge(group, "li", t + 20).status == "acknowledged"
        svc.add_silence(Silence("m1", t, t + 3600, "li", station="S9", is_maintenance=True), t)
        await svc.close()

    async def second_life() -> None:
        svc = AlertingService(pipeline(), journal, [], clock=time.time)
        await svc.start()
        assert svc.advance(t + 1000) == []  # acknowledged: no escalation after the restart
        assert [s.id for s in svc.silences(t + 30)] == ["m1"]
        assert svc.apply([level("S9", Grade.RED, t + 40)], t + 40)[0].key.area == "S9"
        views = {v["key"]: v for v in svc.alert_views()}
        assert views["district-a/flood/group"]["state"] == "acknowledged"
        assert views["district-a/flood/group"]["stations"] == ["S1"]  # S9 is in maintenance
        await svc.close()

    asyncio.run(first_life())
    asyncio.run(second_life())
    kinds = Journal(journal).query("SELECT kind FROM events ORDER BY seq")
    assert [k for (k,) in kinds if k != "suppressed"] == ["page", "ack", "silence_added"]
