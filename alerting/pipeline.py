"""The alerting policy as one pure object: findings, acknowledgements and time in; transitions,
addressed deliveries and what was held back out. No I/O and no clock: the service
(:mod:`alerting.service`) journals each :class:`~alerting.model.Step` and only then sends it.

:meth:`AlertPipeline._run` is the policy; every notice takes this road::

    book (grade, dwell, flapping, versions)
      → mute       silences, maintenance windows, inhibition (a clear is never muted)
      → group      district × hazard groups, fed back into the book
      → route      machine channels by scope; officers by roster, with the duty kept
      → interlock  a drill never reaches a public channel

Time-driven work (:meth:`AlertPipeline.advance`): dwells that ran out, flapping that calmed,
silences that started or ended (regroup), acknowledgement deadlines that passed (escalate).
A tick costs what is due, not what is active: the book and the grouper keep their timers in
heaps, the inhibitor takes only the alerts that changed, and the tick regroups only the
groups that may have changed, unless muting may have changed for anyone (then all of them, as
every tick once did).

Each stage lives in its own module; :func:`build_pipeline` wires them from plain settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from alerting import escalation
from alerting.acklinks import AckLinks
from alerting.book import AlertBook, BookPolicy
from alerting.drill import DrillPolicy, InterlockStage
from alerting.escalation import Escalations
from alerting.grouping import Grouper, GroupPolicy, group_slot, is_group
from alerting.inhibition import GROUP_RULE, Inhibitor, InhibitRule
from alerting.model import Event, EventKind, Step, Suppressed, SuppressedReason
from alerting.routing import ChannelSpec, Roster, Router
from alerting.silences import Silence, SilenceBook
from alerting.slots import Slot
from yujing.contracts import Alert, AlertKey, Finding, Notice, NoticeReason

__all__ = ["AckResult", "AlertPipeline", "PipelineConfig", "build_pipeline"]

Row = tuple[str, str, Any]


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Everything the policy needs, as plain frozen data (built from settings and configs)."""

    book: BookPolicy = field(default_factory=BookPolicy)
    group: GroupPolicy = field(default_factory=GroupPolicy)
    inhibit: tuple[InhibitRule, ...] = (InhibitRule(),)
    drill: DrillPolicy = field(default_factory=DrillPolicy)
    roster: Roster = field(default_factory=Roster)
    channels: tuple[ChannelSpec, ...] = ()
    links: AckLinks | None = None


@dataclass(frozen=True, slots=True)
class AckResult:
    """What an acknowledgement did: ``acknowledged``, ``already`` (by someone before), or
    ``not_active`` (no such firing alert)."""

    status: str
    step: Step
    version: int = 0


class AlertPipeline:
    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.book = AlertBook(config.book)
        self.silences = SilenceBook()
        self.inhibitor = Inhibitor(config.inhibit)
        self.grouper = Grouper(config.group)
        self.duties = Escalations()
        self.router = Router(
            config.roster,
            list(config.channels),
            self.duties,
            officers_get_groups=config.group.enabled,
            links=config.links,
        )
        self.interlock = InterlockStage({c.name: c.is_public for c in config.channels})
        self._inhibitor_built = False  # False: rebuild it from every alert (after a load)
        self._regroup_all = True  # muting may have changed: the next tick regroups every group
        self._span: tuple[float, float] | None = None  # times groups were looked at since a tick

    # ---- inputs -----------------------------------------------------------------------------

    def apply(self, findings: Iterable[Finding], now: float) -> Step:
        """Grade a batch of findings at ``now``."""
        notices: list[Notice] = []
        for finding in findings:
            notices.extend(self.book.apply(self.config.drill.mark(finding), now))
        touched: set[Slot] = set()
        for notice in notices:
            alert = self.book.get(notice.key, is_drill=notice.is_drill)
            if alert is not None:
                touched.add(group_slot(alert))
            elif not is_group(notice.key):  # resolved: its group is named by district
                touched.add((AlertKey(notice.district, notice.hazard, GROUP_RULE), notice.is_drill))
        return self._run(notices, now, only=touched)

    def advance(self, now: float) -> Step:
        """Let time pass to ``now``."""
        self._look_at(now)
        if self.silences.advance(now) or self.silences.turned(*self._span or (now, now)):
            self._regroup_all = True
        self._span = (now, now)
        step = self._run(self.book.advance(now), now, only=None, tick=True)
        step.extend(self._escalate(now))
        return step

    def acknowledge(self, key: AlertKey, is_drill: bool, officer: str, now: float) -> AckResult:
        """``officer`` acknowledges the alert; every attempt is an event for the journal."""
        slot = (key, is_drill)
        alert = self.book.get(key, is_drill=is_drill)
        step = Step()
        if alert is None:
            step.events.append(Event(EventKind.ACK, str(key), officer, {"status": "not_active"}))
            return AckResult("not_active", step)
        duty = self.duties.get(slot)
        data: dict[str, Any] = {"grade": alert.grade.value, "drill": is_drill}
        if duty is not None and duty.paged_at is not None and duty.deadline is not None:
            data["ack_s"] = now - duty.paged_at
            data["paged_grade"] = duty.paged_grade.value
        notice = self.book.acknowledge(key, is_drill, officer, now)
        if notice is None:
            data["status"] = "already"
            step.events.append(Event(EventKind.ACK, str(key), officer, data))
            return AckResult("already", step, alert.version)
        data["status"] = "acknowledged"
        data["version"] = notice.version
        step.events.append(Event(EventKind.ACK, str(key), officer, data))
        if duty is not None:
            self.duties.put(slot, replace(duty, deadline=None))
        step.notices.append(notice)
        self.router.route(notice, now, step, skip=officer)
        self.interlock(step)
        return AckResult("acknowledged", step, notice.version)

    def feedback(
        self, key: AlertKey, is_drill: bool, officer: str, status: str, text: str, now: float
    ) -> Step:
        """Handling feedback from the field ("on site", "false alarm", …): journaled."""
        data = {"status": status, "text": text, "drill": is_drill, "at": now}
        return Step(events=[Event(EventKind.FEEDBACK, str(key), officer, data)])

    def add_silence(self, silence: Silence, now: float) -> Step:
        self.silences.add(silence)
        step = self._run([], now, only=None)
        step.events.append(
            Event(EventKind.SILENCE_ADDED, silence.id, silence.author, silence.to_json())
        )
        return step

    def expire_silence(self, silence_id: str, officer: str, now: float) -> Step | None:
        ended = self.silences.expire(silence_id, now, officer)
        if ended is None:
            return None
        step = self._run([], now, only=None)
        step.events.append(Event(EventKind.SILENCE_EXPIRED, silence_id, officer, {"at": now}))
        return step

    # ---- the policy -------------------------------------------------------------------------

    def _run(
        self, notices: Sequence[Notice], now: float, only: set[Slot] | None, *, tick: bool = False
    ) -> Step:
        """The policy over ``notices``; groups: those in ``only``, or all of them (``None``),
        or on a ``tick`` those that may have changed (every one when muting may have)."""
        step = Step(notices=list(notices))
        self._look_at(now)
        self._update_inhibitor()
        heard = [n for n in notices if not self._muted(n, now, step)]
        peaks: dict[Slot, list[Notice]] = {}
        for notice in heard:
            if not is_group(notice.key) and notice.grade.is_warning:
                group = AlertKey(notice.district, notice.hazard, GROUP_RULE)
                peaks.setdefault((group, notice.is_drill), []).append(notice)

        def is_muted(alert: Alert) -> bool:
            return self._mute_reason(alert, now) is not None

        if tick and not self._regroup_all:
            grouped = self.grouper.settle(self.book, is_muted, now, peaks)
        else:
            grouped = self.grouper.step(self.book, is_muted, now, only, peaks)
            if only is None:
                self._regroup_all = False
        step.notices.extend(grouped)
        for notice in [*heard, *grouped]:
            self.router.route(notice, now, step)
        self.interlock(step)
        for slot, reason in self.book.drain_held():
            step.suppressed.append(Suppressed(slot[0], 0, reason))
        return step

    def _look_at(self, now: float) -> None:
        """Widen the span of times at which groups were looked at since the last tick: a group
        looked at while a silence held must be looked at again once it no longer does."""
        span = self._span
        self._span = (now, now) if span is None else (min(span[0], now), max(span[1], now))

    def _update_inhibitor(self) -> None:
        """Give the inhibitor the alerts that changed; if its sources changed, any alert's
        muting may have, so the next tick regroups every group."""
        changed = self.book.drain_changed_slots()
        if not self._inhibitor_built:
            self._inhibitor_built = True
            moved = self.inhibitor.update(self.book.alerts())
        else:
            book = self.book
            moved = self.inhibitor.change((s, book.get(s[0], is_drill=s[1])) for s in changed)
        if moved:
            self._regroup_all = True

    def _mute_reason(self, alert: Alert, now: float) -> SuppressedReason | None:
        return self.silences.muted(alert, now) or self.inhibitor.muted(alert, now)

    def _muted(self, notice: Notice, now: float, step: Step) -> bool:
        if is_group(notice.key) or notice.reason is NoticeReason.RESOLVED:
            return False
        alert = self.book.get(notice.key, is_drill=notice.is_drill)
        reason = None if alert is None else self._mute_reason(alert, now)
        if reason is None:
            return False
        step.suppressed.append(Suppressed(notice.key, notice.version, reason))
        return True

    def _escalate(self, now: float) -> Step:
        step = Step()
        roster = self.config.roster
        for slot, duty in self.duties.due(now):
            reason = escalation.next_step(duty, now, max_reminders=roster.max_reminders)
            if reason is None:
                self.duties.put(slot, replace(duty, deadline=None))
                continue
            after = escalation.advance(
                duty, now, roster.ack_timeout_s, max_reminders=roster.max_reminders
            )
            if reason is NoticeReason.ESCALATED:
                message = (
                    f"not acknowledged within {roster.ack_timeout_s:g} s: escalated to "
                    f"{after.chain[after.level]}"
                )
            else:
                message = f"not acknowledged: reminder {after.rounds} of {roster.max_reminders}"
            notice = self.book.follow_up(slot[0], slot[1], reason, now, message)
            if notice is None:
                self.duties.drop(slot)
                continue
            self.duties.put(slot, after)
            step.notices.append(notice)
            self.router.route(notice, now, step)
        self.interlock(step)
        return step

    # ---- persistence ------------------------------------------------------------------------

    def changes(self) -> list[Row]:
        """Every state row changed since the last call, for the step's journal transaction."""
        return [
            *self.book.changes(),
            *self.silences.changes(),
            *self.grouper.changes(),
            *self.duties.changes(),
        ]

    def load(self, rows: Sequence[Row]) -> None:
        """Rebuild from journaled rows: the pipeline continues as if it had never stopped."""
        self.book.load(rows)
        self.silences.load(rows)
        self.grouper.load(rows)
        self.duties.load(rows)
        self._inhibitor_built = False
        self._regroup_all = True

    def rows(self) -> list[Row]:
        """The whole state (for a snapshot when no journal is used, e.g. replay)."""
        self.changes()
        return [
            *self.book.rows(),
            *self.silences.rows(),
            *self.grouper.rows(),
            *self.duties.rows(),
        ]


def build_pipeline(config: PipelineConfig) -> AlertPipeline:
    return AlertPipeline(config)
