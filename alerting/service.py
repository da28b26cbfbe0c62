"""The alerting service: the pure pipeline, its journal and the dispatcher, journal first.

Every call that changes anything — a batch of findings, a tick, an acknowledgement, a silence —
runs the pure :class:`~alerting.pipeline.AlertPipeline`, writes what it decided (state rows,
transitions, outbox rows, events) to the :class:`~alerting.journal.Journal` in one transaction,
and only then queues the new outbox rows on the :class:`~alerting.dispatch.Dispatcher`. The
dispatcher's final outcome marks each row.

:meth:`AlertingService.start` rebuilds the pipeline from the journal and queues every pending
outbox row again, in the order the rows were written (so per alert and channel the order of
versions holds). Deadlines are absolute times in the journal, so escalation resumes where it was.

The service is the runtime's grader (``yujing.pipeline.Grader``): ``apply`` and ``advance`` return
the notices, for the pipeline's metrics and logs. Notices made by officers' commands
(acknowledgements, silences) reach no StepResult, so they go to
:attr:`AlertingService.observers` instead (the storage writer: docs/storage.md). It reads a
clock only to stamp outcomes (``clock.now()`` in the frame of ``now``); decisions take ``now``
from the caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from alerting.codec import alert_to_json
from alerting.dispatch import Dispatcher
from alerting.drill import DrillInterlockError
from alerting.journal import Journal, OutboxRow, Sync
from alerting.model import Delivery, EventKind, Step
from alerting.notifiers.base import Notifier
from alerting.pipeline import AckResult, AlertPipeline
from alerting.silences import Silence
from yujing.contracts import Alert, AlertKey, Finding, Notice, NoticeReason
from yujing.metrics import Metrics

__all__ = ["AlertingService", "CommandObserver", "DispatchOptions", "ack_seconds", "alert_views"]

logger = logging.getLogger(__name__)


class CommandObserver(Protocol):
    """Told of the notices an officer's command made (after they are journaled), with the
    officer and, for an acknowledgement, the seconds since the page (``ack_s``)."""

    def __call__(
        self, notices: Sequence[Notice], *, officer: str = "", ack_s: float | None = None
    ) -> None: ...


def ack_seconds(step: Step) -> float | None:
    """Page → acknowledgement of the acknowledgement in ``step`` (None: none, or never paged)."""
    for event in step.events:
        if event.kind is EventKind.ACK and event.data.get("status") == "acknowledged":
            ack_s = event.data.get("ack_s")
            return None if ack_s is None else float(ack_s)
    return None


def alert_views(pipeline: AlertPipeline) -> list[dict[str, Any]]:
    """Active alerts with what the API shows about each (duty, stations, flapping…)."""
    out = []
    for alert in pipeline.book.alerts():
        view = alert_to_json(alert)
        del view["findings"]
        view.update(pipeline.book.details(alert.key, is_drill=alert.is_drill) or {})
        duty = pipeline.duties.get((alert.key, alert.is_drill))
        if duty is not None:
            view["duty"] = {
                "audience": list(duty.audience),
                "ack_deadline": duty.deadline,
                "escalation_level": duty.level,
            }
        out.append(view)
    return out


@dataclass(frozen=True, slots=True)
class DispatchOptions:
    max_attempts: int = 5
    base_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    attempt_timeout_s: float = 60.0
    max_attempts_by_channel: tuple[tuple[str, int], ...] = ()


class AlertingService:
    def __init__(
        self,
        pipeline: AlertPipeline,
        journal_path: Path,
        notifiers: Sequence[Notifier],
        *,
        clock: Callable[[], float],
        metrics: Metrics | None = None,
        sync: Sync = "full",
        dispatch: DispatchOptions | None = None,
        reach_target_s: float = 300.0,
    ) -> None:
        self.pipeline = pipeline
        self.journal_path = journal_path
        self.metrics = metrics
        self.notifiers = list(notifiers)
        self._clock = clock
        self._sync: Sync = sync
        self._reach_target_s = reach_target_s
        options = dispatch or DispatchOptions()
        self.dispatcher = Dispatcher(
            self.notifiers,
            metrics,
            max_attempts=options.max_attempts,
            base_backoff_s=options.base_backoff_s,
            max_backoff_s=options.max_backoff_s,
            attempt_timeout_s=options.attempt_timeout_s,
            max_attempts_by_channel=dict(options.max_attempts_by_channel),
            on_delivered=self._delivered,
            on_failed=self._failed,
        )
        self._journal: Journal | None = None
        self._inflight: dict[tuple[str, int, str, str], tuple[int, float]] = {}
        self.resumed = 0  # outbox rows queued again at start (after a crash)
        self.observers: list[CommandObserver] = []
        """Told of every command's notices; an observer's failure never fails the command."""

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            raise RuntimeError("alerting service: start() first")
        return self._journal

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the journal, rebuild the pipeline, start the channels, resume the outbox."""
        journal = Journal(self.journal_path, sync=self._sync)
        self._journal = journal
        self.pipeline.load(journal.state_rows())
        await self.dispatcher.start()
        pending = journal.pending()
        for row in pending:
            self._queue(row)
        self.resumed = len(pending)
        if pending:
            logger.warning("outbox resumed after restart", extra={"deliveries": len(pending)})
        for notifier in self.notifiers:
            seed = getattr(notifier, "seed", None)
            if callable(seed):
                seed(self.pipeline.book.alerts())
        self._refresh_gauges()

    async def close(self, drain_s: float = 5.0) -> None:
        await self.dispatcher.drain(timeout=drain_s)
        await self.dispatcher.close()
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    # ---- the grader seam (yujing.pipeline) --------------------------------------------------

    def apply(self, findings: Sequence[Finding], now: float) -> list[Notice]:
        if not findings:
            return []
        return self._commit(self.pipeline.apply(findings, now), now)

    def advance(self, now: float) -> list[Notice]:
        return self._commit(self.pipeline.advance(now), now)

    def alerts(self) -> list[Alert]:
        return self.pipeline.book.alerts()

    def snapshot(self) -> dict[str, Any] | None:
        return None  # the journal is the state; nothing goes into the runtime's snapshot

    def restore(self, state: dict[str, Any]) -> None:
        return None

    # ---- officers and operators -------------------------------------------------------------

    def acknowledge(
        self, key: AlertKey, officer: str, now: float, *, is_drill: bool = False
    ) -> AckResult:
        result = self.pipeline.acknowledge(key, is_drill, officer, now)
        self._tell(self._commit(result.step, now), officer, ack_seconds(result.step))
        return result

    def feedback(
        self,
        key: AlertKey,
        officer: str,
        status: str,
        text: str,
        now: float,
        *,
        is_drill: bool = False,
    ) -> None:
        self._commit(self.pipeline.feedback(key, is_drill, officer, status, text, now), now)

    def add_silence(self, silence: Silence, now: float) -> None:
        self._tell(self._commit(self.pipeline.add_silence(silence, now), now), silence.author)

    def expire_silence(self, silence_id: str, officer: str, now: float) -> Silence | None:
        step = self.pipeline.expire_silence(silence_id, officer, now)
        if step is None:
            return None
        self._tell(self._commit(step, now), officer)
        return self.pipeline.silences.get(silence_id)

    def silences(self, now: float, *, include_expired: bool = False) -> list[Silence]:
        return self.pipeline.silences.listing(now, include_expired=include_expired)

    def alert_views(self) -> list[dict[str, Any]]:
        return alert_views(self.pipeline)

    def health(self) -> dict[str, Any]:
        return {
            "journal": str(self.journal_path),
            "open": self._journal is not None,
            "pending": self.dispatcher.pending(),
            "alerts": len(self.pipeline.book.alerts()),
        }

    # ---- journal first ----------------------------------------------------------------------

    def _commit(self, step: Step, now: float) -> list[Notice]:
        rows = self.pipeline.changes()
        if not step and not rows:
            return []
        started = time.perf_counter()
        created = self.journal.commit(step, rows, now)
        metrics = self.metrics
        if metrics is not None:
            metrics.journal_seconds.observe(time.perf_counter() - started)
            self._observe(step, metrics)
        for row in created:
            self._queue(row)
        if step.notices:
            self._refresh_gauges()
        return step.notices

    def _tell(self, notices: Sequence[Notice], officer: str, ack_s: float | None = None) -> None:
        if not notices:
            return
        for observer in self.observers:
            try:
                observer(notices, officer=officer, ack_s=ack_s)
            except Exception:  # the command is journaled; an observer (storage) must not undo it
                logger.exception("command observer failed", extra={"notices": len(notices)})

    def _queue(self, row: OutboxRow) -> None:
        self._inflight[row.delivery.outbox_key] = (row.id, row.created)
        self.dispatcher.deliver(row.delivery)

    def _delivered(self, delivery: Delivery, attempts: int) -> None:
        row_id, created = self._inflight.pop(delivery.outbox_key, (None, None))
        if row_id is None or created is None:
            return
        at = self._clock()
        self.journal.mark(row_id, "delivered", attempts, at)
        if self.metrics is not None:
            self.metrics.alert_deliver_seconds.labels(
                delivery.notice.grade.value, delivery.channel
            ).observe(max(0.0, at - created))

    def _failed(self, delivery: Delivery, error: BaseException, attempts: int) -> None:
        row_id, _ = self._inflight.pop(delivery.outbox_key, (None, None))
        if row_id is None:
            return
        status = "blocked" if isinstance(error, DrillInterlockError) else "failed"
        self.journal.mark(row_id, status, attempts, self._clock(), str(error)[:500])

    def _observe(self, step: Step, metrics: Metrics) -> None:
        for suppressed in step.suppressed:
            metrics.alert_suppressed.labels(suppressed.reason.value).inc()
        for notice in step.notices:
            if notice.reason in (NoticeReason.ESCALATED, NoticeReason.REMINDER):
                metrics.alert_escalations.labels(notice.grade.value, notice.reason.value).inc()
        for event in step.events:
            if event.kind is EventKind.PAGE:
                metrics.alert_pages.labels(event.data["grade"]).inc()
            elif event.kind is EventKind.ACK and event.data.get("status") == "acknowledged":
                ack_s = event.data.get("ack_s")
                grade = event.data.get("paged_grade")
                if ack_s is not None and grade is not None:
                    metrics.alert_ack_seconds.labels(grade).observe(ack_s)
                    if ack_s <= self._reach_target_s:
                        metrics.alert_reached.labels(grade).inc()

    def _refresh_gauges(self) -> None:
        if self.metrics is None:
            return
        counts: dict[tuple[str, str], int] = {}
        for alert in self.pipeline.book.alerts():
            label = (alert.key.hazard.value, alert.grade.value)
            counts[label] = counts.get(label, 0) + 1
        gauge = self.metrics.alerts_active
        gauge.clear()
        for (hazard, grade), count in counts.items():
            gauge.labels(hazard, grade).set(count)
