"""Delivery: one queue and one worker per channel, retries with backoff, per-channel metrics.

Why one worker per channel: a dead SMS gateway retrying for a minute must not hold back the
webhook to the duty room (DESIGN §5 "a dead channel never blocks the others"). Within a
channel, one worker takes notices first in, first out, so a receiver sees an alert's versions
in order (v2 UPGRADED never overtakes v1 FIRED); the price is that a retrying notice holds back
the ones behind it on that channel only, which is what ordering means.

Retry policy (lives only here; notifiers just say ``retryable``): attempt ``n`` failed with a
retryable error → wait ``backoff_s(n)`` = half of ``min(max_backoff_s, base_backoff_s·2^(n-1))``
plus a random part up to the other half (jitter spreads retries of many notices so a recovering
receiver is not hit by all of them at once), up to ``max_attempts`` attempts; then the notice
is given up on that channel (``failed``). A non-retryable error fails at once.

What is queued is a :class:`~alerting.model.Delivery`: a notice for one channel and, on officer
channels, one officer. :meth:`Dispatcher.deliver` queues one (the service does, for each outbox
row, after the row is journaled); :meth:`Dispatcher.submit` fans a notice out to every channel
as a broadcast delivery (tests and tools).

Drill interlock, last lines (:mod:`alerting.drill`): a drill delivery is never queued on a
public channel, and every notifier is wrapped in a guard that refuses one at the moment of
sending, whatever the routing upstream decided.

Outbox seams: ``on_delivered(delivery, attempts)`` and ``on_failed(delivery, error, attempts)``
are called after each final outcome, so the journal marks the row delivered or failed.
:meth:`Dispatcher.deliver` is called from the event loop's thread (asyncio queues are not
thread-safe).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from alerting.drill import DrillInterlockError, GuardedNotifier, is_allowed
from alerting.model import Delivery
from alerting.notifiers.base import Notifier
from yujing.contracts import DeliveryError, Notice
from yujing.metrics import Metrics

__all__ = ["Dispatcher", "Outcome", "backoff_s"]

logger = logging.getLogger(__name__)

OnDelivered = Callable[[Delivery, int], None]
OnFailed = Callable[[Delivery, BaseException, int], None]


class Outcome(enum.StrEnum):
    """Values of the ``outcome`` label of ``metrics.deliveries`` (and of log fields)."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    DRILL_BLOCKED = "drill_blocked"


def backoff_s(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Wait after failed attempt number ``attempt`` (1-based): "equal jitter" exponential.

    >>> rng = random.Random(7)
    >>> all(0.25 <= backoff_s(1, 0.5, 30.0, rng) <= 0.5 for _ in range(100))   # after the first
    True
    >>> all(1.0 <= backoff_s(3, 0.5, 30.0, rng) <= 2.0 for _ in range(100))    # after the third
    True
    >>> all(15.0 <= backoff_s(20, 0.5, 30.0, rng) <= 30.0 for _ in range(100))  # capped
    True
    """
    ceiling = min(max_s, base_s * 2.0 ** (attempt - 1))
    return ceiling / 2 + rng.uniform(0.0, ceiling / 2)


@dataclass(slots=True)
class _Job:
    delivery: Delivery
    submitted: float  # dispatcher clock, for delivery latency


@dataclass(slots=True)
class _Channel:
    notifier: Notifier
    max_attempts: int
    queue: asyncio.Queue[_Job]
    busy: bool = False
    task: asyncio.Task[None] | None = field(default=None)

    @property
    def pending(self) -> int:
        """Notices not yet delivered or given up: waiting plus the one being tried."""
        return self.queue.qsize() + (1 if self.busy else 0)


class Dispatcher:
    """Fans every submitted notice out to every notifier, each on its own queue and worker.

    ``clock`` (monotonic seconds) only measures delivery latency; ``rng`` makes jitter
    reproducible. ``max_attempts_by_channel`` overrides ``max_attempts`` per notifier name
    (``WebhookSettings.max_attempts``). ``max_queue`` bounds each channel's backlog: beyond it
    a notice fails on that channel at once (counted, logged, ``on_failed``) rather than
    growing memory without bound while a channel is down.
    """

    def __init__(
        self,
        notifiers: Iterable[Notifier],
        metrics: Metrics | None = None,
        *,
        max_attempts: int = 5,
        base_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        max_attempts_by_channel: Mapping[str, int] | None = None,
        attempt_timeout_s: float = 60.0,
        max_queue: int = 10_000,
        on_delivered: OnDelivered | None = None,
        on_failed: OnFailed | None = None,
        rng: random.Random | None = None,
    ) -> None:
        overrides = dict(max_attempts_by_channel or {})
        for label, attempts in [("max_attempts", max_attempts), *overrides.items()]:
            if attempts < 1:
                raise ValueError(f"dispatcher: {label} {attempts} must be at least 1")
        if not 0 < base_backoff_s <= max_backoff_s:
            raise ValueError(
                f"dispatcher: need 0 < base_backoff_s ({base_backoff_s}) "
                f"<= max_backoff_s ({max_backoff_s})"
            )
        self._channels: list[_Channel] = []
        for notifier in notifiers:
            if any(c.notifier.name == notifier.name for c in self._channels):
                raise ValueError(f"dispatcher: two notifiers are named {notifier.name!r}")
            self._channels.append(
                _Channel(
                    GuardedNotifier(notifier),
                    overrides.pop(notifier.name, max_attempts),
                    asyncio.Queue(maxsize=max_queue),
                )
            )
        if overrides:
            raise ValueError(f"dispatcher: max_attempts_by_channel names no notifier: {overrides}")
        self._by_name = {c.notifier.name: c for c in self._channels}
        self._metrics = metrics
        self._base_backoff_s = base_backoff_s
        self._max_backoff_s = max_backoff_s
        self._clock = clock
        self._attempt_timeout_s = attempt_timeout_s
        self._on_delivered = on_delivered
        self._on_failed = on_failed
        self._rng = rng if rng is not None else random.Random()
        self._started = False
        self._closed = False

    @property
    def channels(self) -> list[str]:
        return [c.notifier.name for c in self._channels]

    def pending(self) -> dict[str, int]:
        """Per channel, notices not yet delivered or given up."""
        return {c.notifier.name: c.pending for c in self._channels}

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Start one worker per channel. Notices submitted before are kept and sent now."""
        if self._closed:
            raise RuntimeError("dispatcher: start() after close()")
        if self._started:
            return
        self._started = True
        for channel in self._channels:
            channel.task = asyncio.create_task(
                self._work(channel), name=f"notify:{channel.notifier.name}"
            )

    async def drain(self, timeout: float) -> bool:
        """Wait until every channel's queue is empty and idle; False if ``timeout`` seconds
        passed first (a channel still retrying). Does not stop anything."""
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(c.queue.join() for c in self._channels))
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Stop the workers (a notice mid-retry is abandoned) and close the notifiers.
        Call :meth:`drain` first to let queued notices go out."""
        if self._closed:
            return
        self._closed = True
        left = {c.notifier.name: c.pending for c in self._channels}  # before cancel clears busy
        tasks = [c.task for c in self._channels if c.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in self._channels:
            if left[channel.notifier.name]:
                logger.warning(
                    "notices left undelivered at close",
                    extra={"channel": channel.notifier.name, "count": left[channel.notifier.name]},
                )
            try:
                await channel.notifier.close()
            except Exception:
                logger.exception("notifier close failed", extra={"channel": channel.notifier.name})

    # ---- submit -----------------------------------------------------------------------------

    def submit(self, notice: Notice) -> None:
        """Queue ``notice`` on every channel as a broadcast delivery."""
        for channel in self._channels:
            self.deliver(Delivery(notice, channel.notifier.name))

    def deliver(self, delivery: Delivery) -> None:
        """Queue ``delivery`` on its channel. Never blocks; a delivery that cannot be queued
        (unknown channel, full queue, drill on a public channel) fails at once."""
        if self._closed:
            raise RuntimeError("dispatcher: deliver() after close()")
        channel = self._by_name.get(delivery.channel)
        if channel is None:
            error = DeliveryError(f"no channel named {delivery.channel!r}", retryable=False)
            self._fail(delivery.channel, delivery, error, attempts=0)
            return
        if not is_allowed(delivery.notice, channel.notifier.is_public):
            error = DrillInterlockError(f"drill interlock: refused on {delivery.channel}")
            self._fail(delivery.channel, delivery, error, attempts=0)
            return
        try:
            channel.queue.put_nowait(_Job(delivery, self._clock()))
        except asyncio.QueueFull:
            error = DeliveryError(f"queue of {delivery.channel} is full", retryable=False)
            self._fail(delivery.channel, delivery, error, attempts=0)
            return
        self._gauge(channel)

    # ---- worker -----------------------------------------------------------------------------

    async def _work(self, channel: _Channel) -> None:
        """The channel's one loop. It only ends when cancelled: a worker that died quietly
        would leave its channel silent while the others keep working (STYLE §4)."""
        while True:
            job = await channel.queue.get()
            channel.busy = True
            try:
                await self._deliver(channel, job)
            except Exception:
                logger.exception(
                    "delivery worker error",
                    extra={
                        "channel": channel.notifier.name,
                        "idempotency_key": job.delivery.idempotency_key,
                    },
                )
            finally:
                channel.busy = False
                channel.queue.task_done()
                self._gauge(channel)

    async def _deliver(self, channel: _Channel, job: _Job) -> None:
        notifier, delivery = channel.notifier, job.delivery
        for attempt in range(1, channel.max_attempts + 1):
            try:
                async with asyncio.timeout(self._attempt_timeout_s):
                    await notifier.send(delivery)
            except DeliveryError as exc:
                error: BaseException = exc
                retryable = exc.retryable
            except TimeoutError as exc:
                error, retryable = exc, True
            except Exception as exc:  # a notifier bug: log it, and retry as for any failure
                logger.exception(
                    "notifier raised an unexpected error", extra={"channel": notifier.name}
                )
                error, retryable = exc, True
            else:
                self._delivered(channel, job, attempt)
                return
            if not retryable or attempt == channel.max_attempts:
                self._fail(notifier.name, delivery, error, attempts=attempt)
                return
            delay_s = backoff_s(attempt, self._base_backoff_s, self._max_backoff_s, self._rng)
            self._count(notifier.name, Outcome.RETRY)
            logger.warning(
                "delivery failed, will retry",
                extra={
                    "channel": notifier.name,
                    "idempotency_key": delivery.idempotency_key,
                    "attempt": attempt,
                    "delay_s": round(delay_s, 3),
                    "error": str(error),
                },
            )
            await asyncio.sleep(delay_s)

    def _delivered(self, channel: _Channel, job: _Job, attempts: int) -> None:
        name = channel.notifier.name
        latency_s = max(0.0, self._clock() - job.submitted)
        self._count(name, Outcome.DELIVERED)
        if self._metrics is not None:
            self._metrics.delivery_latency.labels(channel=name).observe(latency_s)
        logger.info(
            "notice delivered",
            extra={
                "channel": name,
                "idempotency_key": job.delivery.idempotency_key,
                "attempts": attempts,
                "latency_s": round(latency_s, 4),
            },
        )
        if self._on_delivered is not None:
            _call_safely(self._on_delivered, job.delivery, attempts)

    def _fail(self, name: str, delivery: Delivery, error: BaseException, *, attempts: int) -> None:
        blocked = isinstance(error, DrillInterlockError)
        self._count(name, Outcome.DRILL_BLOCKED if blocked else Outcome.FAILED)
        log = logger.warning if blocked else logger.error
        log(
            "drill delivery blocked from public channel"
            if blocked
            else "delivery failed, giving up",
            extra={
                "channel": name,
                "idempotency_key": delivery.idempotency_key,
                "attempts": attempts,
                "error": str(error),
            },
        )
        if self._on_failed is not None:
            _call_safely(self._on_failed, delivery, error, attempts)

    def _count(self, channel: str, outcome: Outcome) -> None:
        if self._metrics is not None:
            self._metrics.deliveries.labels(channel=channel, outcome=outcome).inc()

    def _gauge(self, channel: _Channel) -> None:
        if self._metrics is not None:
            queue = f"notify:{channel.notifier.name}"
            self._metrics.queue_depth.labels(queue=queue).set(channel.pending)


def _call_safely(callback: Callable[..., None], *args: object) -> None:
    """A failing callback (say, a journal write) must not kill the channel's worker."""
    try:
        callback(*args)
    except Exception:
        logger.exception("delivery callback failed", extra={"callback": repr(callback)})
