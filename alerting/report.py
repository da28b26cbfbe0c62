"""Delivery and acknowledgement report from the journal (``yujing report``).

Measured against the targets of DESIGN §5 and the duty rules:

- **time to deliver**: outbox row written → delivery confirmed, per grade and channel; target
  ≤ 300 s for every delivery of an orange or red alert;
- **reach rate**: pages that needed an acknowledgement (orange/red fired or upgraded) that were
  acknowledged within the reach target (300 s); target ≥ 95 % for orange and red. A page that was
  superseded (a higher grade re-paged) before anyone acknowledged counts as not reached;
- **time to acknowledge**: page → acknowledgement;
- **escalations** and reminders, per grade; deliveries failed or still pending, per channel.

Drills are reported apart (``--drill``) and never mixed into the real figures.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from alerting.journal import Journal

__all__ = ["DELIVER_TARGET_S", "REACH_TARGET", "Report", "build_report", "format_report"]

DELIVER_TARGET_S = 300.0
REACH_TARGET = 0.95
TARGET_GRADES = ("orange", "red")
GRADES = ("red", "orange", "yellow", "blue", "none")


def _quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile.

    >>> _quantile([1.0, 2.0, 3.0, 4.0], 0.5), _quantile([], 0.5) is None
    (2.0, True)
    """
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(slots=True)
class GradeFigures:
    deliveries: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    deliver_s: list[float] = field(default_factory=list)
    pages: int = 0
    acks: int = 0
    reached: int = 0
    ack_s: list[float] = field(default_factory=list)
    escalations: int = 0
    reminders: int = 0

    def summary(self, reach_target_s: float) -> dict[str, Any]:
        within = sum(1 for s in self.deliver_s if s <= DELIVER_TARGET_S)
        return {
            "deliveries": self.deliveries,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": self.pending,
            "deliver_p50_s": _quantile(self.deliver_s, 0.5),
            "deliver_p95_s": _quantile(self.deliver_s, 0.95),
            "deliver_max_s": max(self.deliver_s, default=None),
            "delivered_within_target": (within / self.deliveries) if self.deliveries else None,
            "pages": self.pages,
            "acknowledged": self.acks,
            "reached": self.reached,
            "reach_rate": (self.reached / self.pages) if self.pages else None,
            "ack_p50_s": _quantile(self.ack_s, 0.5),
            "ack_p95_s": _quantile(self.ack_s, 0.95),
            "escalations": self.escalations,
            "reminders": self.reminders,
            "reach_target_s": reach_target_s,
        }


@dataclass(slots=True)
class Report:
    since: float
    until: float | None
    drill: bool
    grades: dict[str, dict[str, Any]]
    channels: dict[str, dict[str, int]]
    targets_met: dict[str, bool]

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "drill": self.drill,
            "grades": self.grades,
            "channels": self.channels,
            "targets_met": self.targets_met,
        }


def build_report(
    journal: Journal,
    *,
    since: float = 0.0,
    until: float | None = None,
    drill: bool = False,
    reach_target_s: float = 300.0,
) -> Report:
    end = math.inf if until is None else until
    figures = {grade: GradeFigures() for grade in GRADES}
    channels: dict[str, dict[str, int]] = {}
    for channel, grade, status, created, done_at in journal.query(
        "SELECT channel, grade, status, created, done_at FROM outbox "
        "WHERE is_drill = ? AND created >= ? AND created <= ?",
        (int(drill), since, end),
    ):
        fig = figures[grade]
        fig.deliveries += 1
        per = channels.setdefault(channel, {"delivered": 0, "failed": 0, "pending": 0})
        if status == "delivered":
            fig.delivered += 1
            per["delivered"] += 1
            fig.deliver_s.append(max(0.0, done_at - created))
        elif status == "pending":
            fig.pending += 1
            per["pending"] += 1
        else:
            fig.failed += 1
            per["failed"] += 1
    for grade, reason in journal.query(
        "SELECT grade, reason FROM transitions WHERE is_drill = ? AND at >= ? AND at <= ? "
        "AND reason IN ('escalated', 'reminder')",
        (int(drill), since, end),
    ):
        if reason == "escalated":
            figures[grade].escalations += 1
        else:
            figures[grade].reminders += 1
    for kind, data_text in journal.query(
        "SELECT kind, data FROM events WHERE kind IN ('page', 'ack') AND at >= ? AND at <= ?",
        (since, end),
    ):
        data = json.loads(data_text)
        if bool(data.get("drill", False)) != drill:
            continue
        if kind == "page":
            figures[data["grade"]].pages += 1
        elif data.get("status") == "acknowledged" and "ack_s" in data:
            fig = figures[data["paged_grade"]]
            fig.acks += 1
            fig.ack_s.append(data["ack_s"])
            if data["ack_s"] <= reach_target_s:
                fig.reached += 1
    grades = {
        g: figures[g].summary(reach_target_s)
        for g in GRADES
        if figures[g].deliveries or figures[g].pages
    }
    targets: dict[str, bool] = {}
    for grade in TARGET_GRADES:
        summary = grades.get(grade)
        if summary is None:
            continue
        if summary["deliveries"]:
            targets[f"{grade}: delivered within {DELIVER_TARGET_S:g} s"] = (
                summary["delivered_within_target"] == 1.0
            )
        if summary["pages"]:
            targets[f"{grade}: reach rate ≥ {REACH_TARGET:.0%}"] = (
                summary["reach_rate"] >= REACH_TARGET
            )
    return Report(since, until, drill, grades, channels, targets)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def format_report(report: Report) -> str:
    lines = [f"yujing delivery and acknowledgement report{' (DRILLS)' if report.drill else ''}"]
    header = (
        f"{'grade':<7}{'sent':>6}{'ok':>6}{'fail':>6}{'wait':>6}{'p50 s':>8}{'p95 s':>8}"
        f"{'max s':>8}{'pages':>7}{'acked':>7}{'reach':>8}{'ack p50':>9}{'escal.':>7}"
    )
    lines.append(header)
    for grade, g in report.grades.items():
        lines.append(
            f"{grade:<7}{g['deliveries']:>6}{g['delivered']:>6}{g['failed']:>6}{g['pending']:>6}"
            f"{_s(g['deliver_p50_s']):>8}{_s(g['deliver_p95_s']):>8}{_s(g['deliver_max_s']):>8}"
            f"{g['pages']:>7}{g['acknowledged']:>7}{_pct(g['reach_rate']):>8}"
            f"{_s(g['ack_p50_s']):>9}{g['escalations'] + g['reminders']:>7}"
        )
    if not report.grades:
        lines.append("(nothing journaled in this period)")
    lines.append("")
    lines.append(
        "channels: "
        + (
            ", ".join(
                f"{name} {c['delivered']} ok / {c['failed']} failed / {c['pending']} pending"
                for name, c in sorted(report.channels.items())
            )
            or "-"
        )
    )
    for target, met in report.targets_met.items():
        lines.append(f"{'✓' if met else '✗'} {target}")
    return "\n".join(lines)
