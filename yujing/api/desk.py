"""What the HTTP API asks of a runtime's alerting, whichever runtime it is.

The embedded runtime answers from its one :class:`~alerting.AlertingService` at once
(:class:`ServiceDesk`). The Faust runtime's alert books live in the partitions of the findings
topic, possibly on other workers: its desk (:mod:`yujing.runtime.faust.desk`) sends each command
as a record to the partitions concerned and answers with what their books said, or with
``queued`` when no answer came in time (the command is in Kafka and will be applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from alerting import AlertingService, Silence
from yujing.contracts import AlertKey

__all__ = ["QUEUED", "AlertDesk", "Answer", "ServiceDesk"]

QUEUED = "queued"


@dataclass(frozen=True, slots=True)
class Answer:
    """The outcome of an acknowledgement (``acknowledged``, ``already``, ``not_active``) or of
    expiring a silence (``expired``, ``unknown``); ``queued``: accepted, outcome not known yet."""

    status: str
    version: int | None = None
    silence: Silence | None = None


class AlertDesk(Protocol):
    async def acknowledge(
        self, key: AlertKey, officer: str, now: float, *, is_drill: bool
    ) -> Answer: ...

    async def feedback(
        self, key: AlertKey, officer: str, status: str, text: str, now: float, *, is_drill: bool
    ) -> None: ...

    async def add_silence(self, silence: Silence, now: float) -> None: ...
    async def expire_silence(self, silence_id: str, officer: str, now: float) -> Answer: ...
    def silences(self, now: float, *, include_expired: bool) -> list[Silence]: ...
    def alert_views(self) -> list[dict[str, Any]]: ...
    def health(self) -> dict[str, Any]: ...

    def describe(self, key: AlertKey, is_drill: bool) -> str:
        """One line about the alert for the acknowledgement page."""
        ...


class ServiceDesk:
    """The embedded runtime's desk: the service itself (journaled before it answers)."""

    def __init__(self, service: AlertingService) -> None:
        self.service = service

    async def acknowledge(
        self, key: AlertKey, officer: str, now: float, *, is_drill: bool
    ) -> Answer:
        result = self.service.acknowledge(key, officer, now, is_drill=is_drill)
        return Answer(result.status, result.version)

    async def feedback(
        self, key: AlertKey, officer: str, status: str, text: str, now: float, *, is_drill: bool
    ) -> None:
        self.service.feedback(key, officer, status, text, now, is_drill=is_drill)

    async def add_silence(self, silence: Silence, now: float) -> None:
        self.service.add_silence(silence, now)

    async def expire_silence(self, silence_id: str, officer: str, now: float) -> Answer:
        ended = self.service.expire_silence(silence_id, officer, now)
        return Answer("unknown") if ended is None else Answer("expired", silence=ended)

    def silences(self, now: float, *, include_expired: bool) -> list[Silence]:
        return self.service.silences(now, include_expired=include_expired)

    def alert_views(self) -> list[dict[str, Any]]:
        return self.service.alert_views()

    def health(self) -> dict[str, Any]:
        return self.service.health()

    def describe(self, key: AlertKey, is_drill: bool) -> str:
        alert = self.service.pipeline.book.get(key, is_drill=is_drill)
        if alert is None:
            return "not active any more"
        return f"{alert.grade.value}, {alert.state.value}"
