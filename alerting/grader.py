"""The pure grader for runtimes without a journal (replay, tests): the whole alerting policy,
with its state in the runtime's snapshot instead of a journal. The embedded runtime uses
:class:`alerting.service.AlertingService`, which has the same methods and journals instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerting.pipeline import AlertPipeline, PipelineConfig
from yujing.contracts import Alert, Finding, Notice

__all__ = ["PolicyGrader"]

SNAPSHOT_FORMAT = 3


class PolicyGrader:
    """``apply``/``advance`` return every transition (station, area and district groups)."""

    def __init__(self, pipeline: AlertPipeline | None = None) -> None:
        self.pipeline = pipeline or AlertPipeline(PipelineConfig())

    def apply(self, findings: Sequence[Finding], now: float) -> list[Notice]:
        if not findings:
            return []
        notices = self.pipeline.apply(findings, now).notices
        self.pipeline.changes()  # no journal here: the snapshot carries the state
        return notices

    def advance(self, now: float) -> list[Notice]:
        notices = self.pipeline.advance(now).notices
        self.pipeline.changes()
        return notices

    def alerts(self) -> list[Alert]:
        return self.pipeline.book.alerts()

    def snapshot(self) -> dict[str, Any] | None:
        return {"format": SNAPSHOT_FORMAT, "rows": self.pipeline.rows()}

    def restore(self, state: dict[str, Any]) -> None:
        if state.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"alerting snapshot: format {state.get('format')!r} is not 3")
        self.pipeline.load([(part, ident, data) for part, ident, data in state["rows"]])
