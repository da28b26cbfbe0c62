"""The notifier worker (``yujing worker --role notifier``) in Faust's test harness, delivering to
a real HTTP receiver through the embedded runtime's webhook notifier and dispatcher: a record is
acknowledged (its offset may be committed) only once its delivery reached a final outcome, the
receiver gets the embedded runtime's idempotency key, and a delivery sent again by an alerting
agent that replayed goes out once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alerting import Delivery
from tests.support.services import HttpReceiver
from tests.unit.faust.helpers import parts_for, settings_for
from yujing.contracts import AlertKey, AlertState, Grade, Hazard, Notice, NoticeReason
from yujing.runtime.faust.notifier import NotifierApp
from yujing.runtime.faust.records import encode_delivery
from yujing.runtime.kafka import MemoryLog


def delivery(version: int) -> Delivery:
    notice = Notice(
        AlertKey("CY-GS-006", Hazard.GAS_LEAK, "ch4"), version, NoticeReason.FIRED, Grade.ORANGE,
        Grade.NONE, AlertState.FIRING, "chaoyang", 1_800_000_000.0 + version, value=30.0,
        threshold=25.0, quantity="ch4_pct_lel", stations=("CY-GS-006",),
    )  # fmt: skip
    return Delivery(notice, "duty-room")


async def until(condition: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    async with asyncio.timeout(timeout_s):
        while not (value := condition()):
            await asyncio.sleep(0.01)
        return value


def test_a_delivery_is_acknowledged_to_kafka_only_at_its_outcome_and_sent_once(
    tmp_path: Path, http_receiver: HttpReceiver
) -> None:
    settings = settings_for(
        tmp_path,
        notify={"console": False, "webhooks": [{"name": "duty-room", "url": http_receiver.url,
                                                 "max_attempts": 50}]},
        alerting={"retry_base_s": 0.02, "retry_max_s": 0.05},
    )  # fmt: skip
    app = NotifierApp(settings, parts=parts_for(settings), producer=MemoryLog())
    http_receiver.status = 503  # the receiver is down at first

    async def main() -> None:
        await app.stage.start()
        try:
            async with app.notify.test_context() as notify:
                value, headers = encode_delivery(delivery(1), 0.0)
                first = await notify.put(value, key=b"k", headers=dict(headers))
                await until(
                    lambda: app.metrics.registry.get_sample_value(
                        "yujing_notifications_total", {"channel": "duty-room", "outcome": "retry"}
                    )
                )
                assert not first.message.acked  # retrying: the offset must not be committed
                http_receiver.status = 200
                await until(lambda: first.message.acked)
                again = await notify.put(value, key=b"k", headers=dict(headers))
                assert again.message.acked and notify.results[1] is False  # not sent again
                value, headers = encode_delivery(delivery(2), 0.0)
                second = await notify.put(value, key=b"k", headers=dict(headers))
                await until(lambda: second.message.acked)
        finally:
            await app.stage.close(drain_s=1.0)

    asyncio.run(main())
    keys = [r.headers.get("Idempotency-Key") for r in http_receiver.requests]
    assert keys == ["CY-GS-006/gas_leak/ch4#1", "CY-GS-006/gas_leak/ch4#2"]
