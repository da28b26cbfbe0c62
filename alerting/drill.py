"""Drills: exercises run through the real pipeline, marked ``is_drill`` end to end (CAP
``status=Exercise``), and an interlock that keeps them off public channels.

Which findings are drills (:class:`DrillPolicy`): all of them while the runtime is in drill mode
(``alerting.drill.enabled``), or those of the districts or stations listed for the exercise, or
any finding a detector already marked. A drill alert lives beside the real alert of its key in
the book (:mod:`alerting.book`), so an exercise can neither raise nor clear a real alert.

The interlock is enforced three times, so that no single misconfiguration (a route that lists
the public channel, a channel wrongly marked private in one place) can leak an exercise to the
public:

1. :class:`InterlockStage`, the pipeline's last stage, drops drill deliveries to public channels
   and records them as ``drill_public``;
2. the dispatcher refuses to queue them (``Dispatcher.deliver``);
3. :class:`GuardedNotifier` wraps every notifier and refuses them at the moment of sending.

>>> from yujing.contracts import Finding, Grade, Hazard
>>> policy = DrillPolicy(districts=frozenset({"district-b"}))
>>> f = Finding("S1", "district-b", Hazard.FLOOD, "level", Grade.RED, ts=0.0, station="S1")
>>> policy.mark(f).is_drill
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from alerting.model import Delivery, Step, Suppressed, SuppressedReason
from alerting.notifiers.base import Notifier
from yujing.contracts import DeliveryError, Finding, Notice

__all__ = ["DrillInterlockError", "DrillPolicy", "GuardedNotifier", "InterlockStage", "is_allowed"]


class DrillInterlockError(DeliveryError):
    """A drill notice was refused on a public channel (never retryable)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def is_allowed(notice: Notice, channel_is_public: bool) -> bool:
    """The interlock itself: a drill never goes to a public channel."""
    return not (notice.is_drill and channel_is_public)


@dataclass(frozen=True, slots=True)
class DrillPolicy:
    enabled: bool = False
    districts: frozenset[str] = frozenset()
    stations: frozenset[str] = frozenset()

    def mark(self, finding: Finding) -> Finding:
        if finding.is_drill:
            return finding
        if (
            self.enabled
            or finding.district in self.districts
            or (finding.station is not None and finding.station in self.stations)
            or finding.area in self.stations
        ):
            return replace(finding, is_drill=True)
        return finding


class InterlockStage:
    """Drops drill deliveries to public channels (``public``: channel name → is public)."""

    def __init__(self, public: Mapping[str, bool]) -> None:
        self._public = dict(public)

    def __call__(self, step: Step) -> None:
        kept: list[Delivery] = []
        for delivery in step.deliveries:
            # a channel this stage does not know is treated as public: fail closed
            public = self._public.get(delivery.channel, True)
            if is_allowed(delivery.notice, public):
                kept.append(delivery)
            else:
                step.suppressed.append(
                    Suppressed(
                        delivery.notice.key,
                        delivery.notice.version,
                        SuppressedReason.DRILL_PUBLIC,
                        delivery.channel,
                        delivery.officer,
                    )
                )
        step.deliveries = kept


class GuardedNotifier:
    """A notifier that refuses drill notices when its channel is public (not retryable)."""

    def __init__(self, inner: Notifier) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def is_public(self) -> bool:
        return self.inner.is_public

    async def send(self, delivery: Delivery) -> None:
        if not is_allowed(delivery.notice, self.inner.is_public):
            raise DrillInterlockError(
                f"drill interlock: {delivery.idempotency_key} refused on public channel "
                f"{self.inner.name}"
            )
        await self.inner.send(delivery)

    async def close(self) -> None:
        await self.inner.close()
