"""The notifier of the scale-out runtime, without Faust: deliveries from the notices topic go to
the same :class:`~alerting.Dispatcher` and notifiers as in the embedded runtime, and a record is
acknowledged to Kafka only when its delivery reached a final outcome (delivered, given up,
blocked by the drill interlock).

Delivery is at least once, as in the embedded runtime: a notifier killed between sending and its
offset commit sends again after restart, and receivers dedupe on the idempotency key
(``key#version`` plus ``@officer`` when addressed: :attr:`alerting.Delivery.idempotency_key`).
Within one process the stage also drops repeats itself: a delivery whose outbox key
``(alert key, version, officer, channel)`` already reached its outcome (an alerting agent that
replayed after a crash sends the same deliveries again) is acknowledged without sending.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence

from alerting import Delivery, Dispatcher, Notifier
from yujing.metrics import Metrics

__all__ = ["DispatchSettings", "NotifyStage"]

log = logging.getLogger(__name__)

OutboxKey = tuple[str, int, str, str]
Ack = Callable[[], object]


class DispatchSettings:
    """Retry policy of the dispatcher (from ``settings.alerting`` and the channels)."""

    def __init__(
        self,
        *,
        base_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        attempt_timeout_s: float = 60.0,
        max_attempts_by_channel: dict[str, int] | None = None,
    ) -> None:
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max(max_backoff_s, base_backoff_s)
        self.attempt_timeout_s = attempt_timeout_s
        self.max_attempts_by_channel = dict(max_attempts_by_channel or {})


class NotifyStage:
    """Queue deliveries on the dispatcher; call each record's ``ack`` at its final outcome."""

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        *,
        metrics: Metrics | None = None,
        dispatch: DispatchSettings | None = None,
        remember: int = 10_000,
    ) -> None:
        options = dispatch or DispatchSettings()
        self.dispatcher = Dispatcher(
            notifiers,
            metrics,
            base_backoff_s=options.base_backoff_s,
            max_backoff_s=options.max_backoff_s,
            attempt_timeout_s=options.attempt_timeout_s,
            max_attempts_by_channel=options.max_attempts_by_channel,
            on_delivered=self._delivered,
            on_failed=self._failed,
        )
        self.outcomes: OrderedDict[OutboxKey, str] = OrderedDict()
        """Final outcome per outbox key, the newest ``remember`` of them."""
        self._remember = remember
        self._waiting: dict[OutboxKey, list[Ack]] = {}
        self.repeats = 0

    async def start(self) -> None:
        await self.dispatcher.start()

    async def close(self, drain_s: float = 5.0) -> None:
        await self.dispatcher.drain(timeout=drain_s)
        await self.dispatcher.close()

    def offer(self, delivery: Delivery, ack: Ack) -> bool:
        """Queue ``delivery`` (False: a repeat, acknowledged at once or with the first copy)."""
        key = delivery.outbox_key
        if key in self.outcomes:
            self.repeats += 1
            ack()
            return False
        waiting = self._waiting.get(key)
        if waiting is not None:  # the same delivery is on its way: ack both at its outcome
            self.repeats += 1
            waiting.append(ack)
            return False
        self._waiting[key] = [ack]
        self.dispatcher.deliver(delivery)
        return True

    def pending(self) -> int:
        return len(self._waiting)

    def _delivered(self, delivery: Delivery, attempts: int) -> None:
        self._settle(delivery, "delivered")

    def _failed(self, delivery: Delivery, error: BaseException, attempts: int) -> None:
        self._settle(delivery, "failed")

    def _settle(self, delivery: Delivery, outcome: str) -> None:
        key = delivery.outbox_key
        self.outcomes[key] = outcome
        self.outcomes.move_to_end(key)
        while len(self.outcomes) > self._remember:
            self.outcomes.popitem(last=False)
        for ack in self._waiting.pop(key, []):
            try:
                ack()
            except Exception:  # an ack on a revoked partition: Kafka redelivers; log and go on
                log.exception("ack failed", extra={"idempotency_key": delivery.idempotency_key})
