"""``yujing worker --role notifier``: deliveries from the notices topic to the channels, through
the Faust-free :class:`~.notify.NotifyStage` (the embedded runtime's dispatcher and notifiers).
Its own app id (``<kafka.app_id>-notifier``), so its consumer group reads every partition."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from mode import CrashingSupervisor

from yujing.clock import WallClock
from yujing.config import Settings
from yujing.metrics import Metrics
from yujing.runtime.alerting import build_alerting
from yujing.runtime.embedded import RuntimeParts, load_parts
from yujing.runtime.faust.notify import DispatchSettings, NotifyStage
from yujing.runtime.faust.plumbing import Agents, FaustProducer, faust_app
from yujing.runtime.faust.records import RecordType, decode_delivery
from yujing.runtime.kafka import Producer

__all__ = ["NotifierApp", "dispatch_settings"]

log = logging.getLogger(__name__)


class NotifierApp(Agents):
    """``yujing worker --role notifier``: deliveries from the notices topic to the channels."""

    def __init__(
        self,
        settings: Settings,
        *,
        parts: RuntimeParts | None = None,
        metrics: Metrics | None = None,
        producer: Producer | None = None,
        stage: NotifyStage | None = None,
    ) -> None:
        metrics = metrics or Metrics()
        app_id = f"{settings.kafka.app_id}-notifier"
        super().__init__(settings, faust_app(settings, app_id), metrics)
        self.producer: Producer = producer or FaustProducer([self.dead])
        if stage is None:
            parts = parts or load_parts(settings)
            built = build_alerting(settings, parts.registry, clock=WallClock(), metrics=metrics)
            stage = NotifyStage(
                built.service.notifiers, metrics=metrics, dispatch=dispatch_settings(settings)
            )
        self.stage = stage
        self.notify = self.app.agent(
            self.notices, name="notify", supervisor_strategy=CrashingSupervisor
        )(self._notify)
        self.app.task(self._start_dispatcher)
        self.app.on_before_shutdown.connect(cast(Any, self._stop_dispatcher))

    async def _start_dispatcher(self) -> None:
        await self.stage.start()

    async def _stop_dispatcher(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        await self.stage.close(drain_s=5.0)

    async def _notify(self, stream: Any) -> AsyncIterator[bool | None]:
        async for event in stream.noack().events():
            yield await self.on_delivery(event)

    async def on_delivery(self, event: Any) -> bool | None:
        """Queue one delivery; its record is acknowledged at the delivery's final outcome."""
        try:
            delivery, _ = decode_delivery(event.value)
        except Exception as exc:
            await (await self.record_failed(self.producer, "notify", event, exc))
            event.ack()
            return None
        queued = self.stage.offer(delivery, event.ack)
        self.alive("notify", RecordType.DELIVERY.value)
        if not queued:
            self.metrics.agent_replayed.labels("notify").inc()
        return queued


def dispatch_settings(settings: Settings) -> DispatchSettings:
    """Retry policy and per-channel attempts, as the embedded runtime's service gets them."""
    notify, cfg = settings.notify, settings.alerting
    attempts: dict[str, int] = {}
    for hook in notify.webhooks:
        attempts[hook.name] = hook.max_attempts
    for sms in notify.sms:
        attempts[sms.name] = sms.max_attempts
    for mail in notify.email:
        attempts[mail.name] = mail.max_attempts
    for push in notify.alertmanager:
        attempts[push.name] = push.max_attempts
    return DispatchSettings(
        base_backoff_s=cfg.retry_base_s,
        max_backoff_s=cfg.retry_max_s,
        attempt_timeout_s=cfg.attempt_timeout_s,
        max_attempts_by_channel=attempts,
    )
