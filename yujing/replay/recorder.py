"""The alerting stage of a replay: the production policy (:class:`alerting.AlertPipeline`, built
from the same settings as the live runtime: book, grouping, inhibition, roster routing,
escalation, drill interlock) with every channel replaced by a recorder.

:class:`RecordingGrader` has the methods of :class:`yujing.pipeline.Grader`. Each call runs
the pure pipeline, as :class:`alerting.PolicyGrader` does, and keeps what the journal would have
kept: every notice with the virtual time it left (``now``), the deliveries it was addressed to
(channel, officer) and what was held back, and why. Nothing is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from alerting import AlertPipeline, Delivery
from alerting.model import BROADCAST, Step, Suppressed
from yujing.contracts import Alert, Finding, Notice

__all__ = ["NoticeRecord", "RecordingGrader"]

SNAPSHOT_FORMAT = 3


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """One notice as the replay saw it leave: at ``sent`` (virtual clock), to ``deliveries``."""

    sent: float
    notice: Notice
    deliveries: tuple[Delivery, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()

    @property
    def officers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d.officer for d in self.deliveries if d.officer != BROADCAST))

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d.channel for d in self.deliveries))

    def to_json(self) -> dict[str, Any]:
        n = self.notice
        return {
            "sent": round(self.sent, 3),
            "key": str(n.key),
            "version": n.version,
            "reason": n.reason.value,
            "grade": n.grade.value,
            "previous_grade": n.previous_grade.value,
            "state": n.state.value,
            "district": n.district,
            "ts": n.ts,
            "source_ts": n.source_ts,
            "value": n.value,
            "threshold": n.threshold,
            "quantity": n.quantity,
            "stations": list(n.stations),
            "is_drill": n.is_drill,
            "message": n.message,
            "deliveries": [
                {"channel": d.channel, "officer": d.officer or None, "address": d.address or None}
                for d in self.deliveries
            ],
            "suppressed": [
                {
                    "reason": s.reason.value,
                    "channel": s.channel or None,
                    "officer": s.officer or None,
                }
                for s in self.suppressed
            ],
        }


@dataclass(slots=True)
class RecordingGrader:
    """A :class:`yujing.pipeline.Grader` that records instead of sending."""

    pipeline: AlertPipeline
    records: list[NoticeRecord] = field(default_factory=list)

    def apply(self, findings: Sequence[Finding], now: float) -> list[Notice]:
        if not findings:
            return []
        return self._record(self.pipeline.apply(findings, now), now)

    def advance(self, now: float) -> list[Notice]:
        return self._record(self.pipeline.advance(now), now)

    def alerts(self) -> list[Alert]:
        return self.pipeline.book.alerts()

    def snapshot(self) -> dict[str, Any] | None:
        return {"format": SNAPSHOT_FORMAT, "rows": self.pipeline.rows()}

    def restore(self, state: dict[str, Any]) -> None:
        if state.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"alerting snapshot: format {state.get('format')!r} is not 3")
        self.pipeline.load([(part, ident, data) for part, ident, data in state["rows"]])

    def _record(self, step: Step, now: float) -> list[Notice]:
        self.pipeline.changes()  # nobody journals in a replay: keep the change log empty
        if not step.notices:
            return []
        by_notice: dict[tuple[str, int], list[Delivery]] = {}
        for delivery in step.deliveries:
            by_notice.setdefault((str(delivery.notice.key), delivery.notice.version), []).append(
                delivery
            )
        held: dict[tuple[str, int], list[Suppressed]] = {}
        for item in step.suppressed:
            held.setdefault((str(item.key), item.version), []).append(item)
        for notice in step.notices:
            ident = (str(notice.key), notice.version)
            self.records.append(
                NoticeRecord(
                    now, notice, tuple(by_notice.get(ident, ())), tuple(held.get(ident, ()))
                )
            )
        return list(step.notices)
