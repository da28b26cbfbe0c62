"""The one interface every notification channel implements.

A notifier knows how to put one :class:`~alerting.model.Delivery` (a notice, and for officer
channels the officer and address) on one channel, and nothing else: no retries, no
queueing, no backoff (those live once, in :mod:`alerting.dispatch`, as Alertmanager keeps them in
its retry stage). It reports failure by raising :class:`DeliveryError` and says with
``retryable`` whether trying again can help (a timeout can; a rejected payload cannot).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from alerting.model import Delivery
from yujing.contracts import DeliveryError

__all__ = ["DeliveryError", "Notifier"]


@runtime_checkable
class Notifier(Protocol):
    """One channel. ``name`` labels metrics, logs and the journal, so it is unique per runtime.

    ``is_public`` is True for channels that reach the public (CAP feed, public SMS): the drill
    interlock never hands them a drill notice.
    """

    @property
    def name(self) -> str: ...

    @property
    def is_public(self) -> bool: ...

    async def send(self, delivery: Delivery) -> None:
        """Deliver once, or raise :class:`DeliveryError` (``retryable`` set)."""
        ...

    async def close(self) -> None:
        """Release connections. The dispatcher calls it once, after its workers stopped."""
        ...
