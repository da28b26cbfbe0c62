"""The alert book: one alert per (area, hazard, rule), and a notice for every transition.

The detectors' ladders already applied hysteresis and dwell, so the book trusts each finding's
grade and only turns grade changes into lifecycle transitions (Kapacitor's state-changes-only,
STYLE §5). Each key has exactly one source of findings (its detector), applied in arrival order.

=================  ====================  ==================================================
finding grade      alert for the key     result
=================  ====================  ==================================================
blue..red          none                  FIRED, version = last version of the key + 1
higher             firing at a grade     UPGRADED
lower warning      firing at a grade     DOWNGRADED
same               firing at that grade  nothing (no duplicate notice); ``last_ts`` moves
none               firing                RESOLVED; the key is free again
unknown            firing                nothing sent; the alert keeps its grade and is
                                         marked blind (:meth:`AlertBook.blind_since`)
none / unknown     none                  nothing
=================  ====================  ==================================================

Why ``unknown`` sends nothing: "we cannot see" is never a clear (DESIGN §3), so the alert stays
at its grade and cannot step down until the detector sees again. The loss of sight itself is the
sensor-health hazard's alert (``Hazard.SENSOR``), so a second notice here would page twice for
one fault; and the contract has no reason for it (``REMINDER`` is kept for repeat reminders). The
mark is kept so that views, escalation and a later notice reason can use it.

Versions count transitions per key and never restart, even after a resolve: the idempotency key
``"{key}#{version}"`` must never be reused, or receivers would drop a new alert as a duplicate.

Drills live beside real alerts: a drill finding only ever touches the drill alert of its key, so
an exercise can neither raise nor clear a real alert. Both share the key's version counter, so
idempotency keys stay unique.

Walk-through (a flood level rule):

>>> from yujing.contracts import AlertKey, Finding, Grade, Hazard
>>> book = AlertBook()
>>> def level(grade, ts, value=None):
...     return Finding("S003", "district-a", Hazard.FLOOD, "level", grade, ts=ts, value=value,
...                    threshold=4.5, quantity="level_m", station="S003")
>>> def show(notices):
...     return [(n.reason.value, n.previous_grade.value, n.grade.value, n.version) for n in notices]
>>> show(book.apply(level(Grade.YELLOW, 10.0)))
[('fired', 'none', 'yellow', 1)]
>>> show(book.apply(level(Grade.YELLOW, 20.0)))     # same grade: no duplicate
[]
>>> show(book.apply(level(Grade.RED, 30.0)))
[('upgraded', 'yellow', 'red', 2)]
>>> show(book.apply(level(Grade.UNKNOWN, 40.0)))    # cannot see: stays red, marked blind
[]
>>> book.get(AlertKey("S003", Hazard.FLOOD, "level")).grade, book.blind_since(
...     AlertKey("S003", Hazard.FLOOD, "level"))
(<Grade.RED: 'red'>, 40.0)
>>> show(book.apply(level(Grade.NONE, 50.0)))
[('resolved', 'red', 'none', 3)]
>>> show(book.apply(level(Grade.BLUE, 60.0)))       # the version sequence continues
[('fired', 'none', 'blue', 4)]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from alerting.codec import alert_from_json, alert_to_json
from yujing.contracts import (
    Alert,
    AlertKey,
    AlertState,
    Finding,
    Grade,
    Notice,
    NoticeReason,
)

__all__ = ["SNAPSHOT_FORMAT", "AlertBook"]

SNAPSHOT_FORMAT = 1

# (alert key, is_drill): drills never share a slot with the real alert of the same key
_Slot = tuple[AlertKey, bool]


@dataclass(slots=True)
class _Entry:
    alert: Alert
    blind_since: float | None = None


class AlertBook:
    """Lifecycle state machine from findings to notices. Pure: no I/O, no clock, no logging.

    ``max_findings`` bounds the findings kept on each alert (the newest transitions win).
    """

    def __init__(self, *, max_findings: int = 8) -> None:
        if max_findings < 1:
            raise ValueError(f"max_findings: {max_findings} must be at least 1")
        self._max_findings = max_findings
        self._active: dict[_Slot, _Entry] = {}
        self._versions: dict[AlertKey, int] = {}
        self._now: float | None = None

    # ---- transitions ------------------------------------------------------------------------

    def apply(self, finding: Finding) -> list[Notice]:
        """Apply one finding; return the notices of the transition it causes (zero or one)."""
        slot = (finding.alert_key, finding.is_drill)
        entry = self._active.get(slot)
        grade = finding.grade
        if entry is None:
            return [self._fire(slot, finding)] if grade.is_warning else []
        alert = entry.alert
        if grade is Grade.UNKNOWN:
            if entry.blind_since is None:
                entry.blind_since = finding.ts
            return []
        entry.blind_since = None
        if grade is alert.grade:
            entry.alert = replace(alert, last_ts=max(alert.last_ts, finding.ts))
            return []
        if grade is Grade.NONE:
            del self._active[slot]
            version = self._bump(slot[0])
            return [
                _notice(NoticeReason.RESOLVED, alert.grade, AlertState.RESOLVED, version, finding)
            ]
        if grade.rank > alert.grade.rank:
            # a higher grade is news even to whoever acknowledged the lower one
            reason, state = NoticeReason.UPGRADED, AlertState.FIRING
        else:
            reason, state = NoticeReason.DOWNGRADED, alert.state
        version = self._bump(slot[0])
        entry.alert = replace(
            alert,
            grade=grade,
            state=state,
            version=version,
            last_ts=max(alert.last_ts, finding.ts),
            findings=(*alert.findings, finding)[-self._max_findings :],
            district=finding.district,
        )
        return [_notice(reason, alert.grade, state, version, finding)]

    def advance(self, now: float) -> list[Notice]:
        """Let time pass to ``now``. Nothing is time-driven yet: this is the seam for
        acknowledgement deadlines, escalation and reminders. Time never goes backwards."""
        self._now = now if self._now is None else max(self._now, now)
        return []

    def _fire(self, slot: _Slot, finding: Finding) -> Notice:
        version = self._bump(slot[0])
        self._active[slot] = _Entry(
            Alert(
                key=slot[0],
                district=finding.district,
                grade=finding.grade,
                state=AlertState.FIRING,
                version=version,
                first_ts=finding.ts,
                last_ts=finding.ts,
                findings=(finding,),
                is_drill=finding.is_drill,
            )
        )
        return _notice(NoticeReason.FIRED, Grade.NONE, AlertState.FIRING, version, finding)

    def _bump(self, key: AlertKey) -> int:
        version = self._versions.get(key, 0) + 1
        self._versions[key] = version
        return version

    # ---- views ------------------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        """Active alerts (real and drill), ordered by key, real before drill."""
        return [self._active[slot].alert for slot in sorted(self._active)]

    def get(self, key: AlertKey, *, is_drill: bool = False) -> Alert | None:
        entry = self._active.get((key, is_drill))
        return None if entry is None else entry.alert

    def blind_since(self, key: AlertKey, *, is_drill: bool = False) -> float | None:
        """Event time since which the active alert's detector reports ``unknown``, else None."""
        entry = self._active.get((key, is_drill))
        return None if entry is None else entry.blind_since

    def last_version(self, key: AlertKey) -> int:
        """The last version used for ``key`` (0 if never seen); the next transition gets +1."""
        return self._versions.get(key, 0)

    # ---- persistence ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain JSON. Versions of resolved keys are kept on purpose."""
        return {
            "format": SNAPSHOT_FORMAT,
            "now": self._now,
            "versions": {str(key): v for key, v in sorted(self._versions.items())},
            "alerts": [
                {
                    "alert": alert_to_json(self._active[slot].alert),
                    "blind_since": self._active[slot].blind_since,
                }
                for slot in sorted(self._active)
            ],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the state with one from :meth:`snapshot`; the book then continues exactly as
        the one that was snapshotted (same versions, no repeated notice)."""
        if state.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(
                f"alert book snapshot: format {state.get('format')!r} is not {SNAPSHOT_FORMAT}"
            )
        versions = {AlertKey.parse(k): int(v) for k, v in state["versions"].items()}
        active: dict[_Slot, _Entry] = {}
        for item in state["alerts"]:
            alert = alert_from_json(item["alert"])
            if alert.version > versions.get(alert.key, 0):
                raise ValueError(
                    f"alert book snapshot: {alert.key} is at version "
                    f"{alert.version} above its counter {versions.get(alert.key, 0)}"
                )
            active[(alert.key, alert.is_drill)] = _Entry(alert, item.get("blind_since"))
        self._versions = versions
        self._active = active
        self._now = state.get("now")


def _notice(
    reason: NoticeReason, previous: Grade, state: AlertState, version: int, finding: Finding
) -> Notice:
    return Notice(
        key=finding.alert_key,
        version=version,
        reason=reason,
        grade=finding.grade,
        previous_grade=previous,
        state=state,
        district=finding.district,
        ts=finding.ts,
        value=finding.value,
        threshold=finding.threshold,
        quantity=finding.quantity,
        message=finding.message,
        source_ts=finding.source_ts,
        is_drill=finding.is_drill,
        stations=() if finding.station is None else (finding.station,),
    )
