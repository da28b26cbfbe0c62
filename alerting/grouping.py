"""District groups: the alerts of many stations for one district and hazard, as one alert.

Officers are paged about places, not sensors: when twenty gauges of one district pass their
flood levels, the duty officer gets one notice listing them, acknowledges once, and is escalated
once. The group is an ordinary alert in the book with key ``(district, hazard, "group")`` whose
grade is the highest grade among its members, so the book's rules apply to it unchanged: up at
once, down only after the area dwell, flap suppression, versions, acknowledgement.

Members are the active, unmuted alerts of the district and hazard (a silenced or inhibited alert
pages nobody). Timing, after Alertmanager's ``group_wait`` and ``group_interval``:

- a group's first notice waits ``wait_s`` after its first member appeared, so a storm's first
  minute makes one notice with the list rather than one per station; a **red** member fires the
  group at once (an early warning does not wait);
- a higher grade goes out at once (UPGRADED, with the list at that moment);
- stations that join at the same grade go out as a REMINDER with the whole list, at most once per
  ``interval_s``;
- members leaving lower the group's grade, which steps down after the area dwell.

The group's ``stations`` (on its notices) are the member areas, highest grade first.

Which groups a step looks at: a batch of findings, the groups its notices touched (``only``);
a tick, every group whose members may have changed since it was last looked at (the book notes
the places of its transitions, :meth:`AlertBook.drain_changed_places`), whose timer (``wait_s``,
``interval_s``) is due, or that took a member's peak last time (the peak is gone now). Any
other group would do nothing: its inputs are those it was last brought up to date with. When
muting may have changed for anyone (a silence started or ended, the inhibiting alerts changed),
the pipeline asks for every group instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from alerting.book import AlertBook, Place
from alerting.inhibition import GROUP_RULE
from alerting.slots import Slot, parse_slot, slot_id
from alerting.timers import DueQueue, early
from yujing.contracts import Alert, AlertKey, Finding, Grade, Notice, NoticeReason, max_grade

__all__ = ["GroupPolicy", "Grouper", "group_slot", "is_group"]

PART = "group"
LIST_IN_MESSAGE = 12  # stations named in a group notice's message; the full list is `stations`


@dataclass(frozen=True, slots=True)
class GroupPolicy:
    enabled: bool = True
    wait_s: float = 10.0
    interval_s: float = 300.0

    def __post_init__(self) -> None:
        if self.wait_s < 0 or self.interval_s < 0:
            raise ValueError("group wait_s and interval_s must not be negative")


@dataclass(frozen=True, slots=True)
class _GroupState:
    waiting_since: float | None = None  # first member seen; the group has not fired yet
    list_sent_at: float | None = None  # when the member list last went out


def is_group(key: AlertKey) -> bool:
    return key.rule == GROUP_RULE


def group_slot(alert: Alert) -> Slot:
    return AlertKey(alert.district, alert.key.hazard, GROUP_RULE), alert.is_drill


def _place_group(place: Place) -> Slot:
    """The group slot of the alerts at ``place`` (a group's own alert is at its own place)."""
    district, hazard, is_drill = place
    return AlertKey(district, hazard, GROUP_RULE), is_drill


def _ranked(members: list[Alert]) -> list[Alert]:
    """Members highest grade first, then by area; ties keep the book's (key) order."""
    return sorted(members, key=lambda a: (-a.grade.rank, a.key.area))


def _state_json(state: _GroupState) -> dict[str, Any]:
    return {"waiting_since": state.waiting_since, "list_sent_at": state.list_sent_at}


def _summary(members: list[Alert]) -> str:
    named = ", ".join(f"{a.key.area} {a.grade.value}" for a in members[:LIST_IN_MESSAGE])
    more = len(members) - LIST_IN_MESSAGE
    return f"{len(members)} stations: {named}" + (f" and {more} more" if more > 0 else "")


class Grouper:
    """Derives district groups from the book and feeds them back into it as findings."""

    def __init__(self, policy: GroupPolicy | None = None) -> None:
        self.policy = policy or GroupPolicy()
        self._state: dict[Slot, _GroupState] = {}
        self._dirty: set[Slot] = set()
        self._stale: set[Slot] = set()  # inputs may have changed since last looked at
        self._timers = DueQueue()  # waiting to fire, or newcomers waiting for the interval

    def step(
        self,
        book: AlertBook,
        is_muted: Callable[[Alert], bool],
        now: float,
        only: set[Slot] | None = None,
        peaks: Mapping[Slot, list[Notice]] | None = None,
    ) -> list[Notice]:
        """Bring every group (or those in ``only``) up to date with its members at ``now``.

        ``peaks``: per group, the members' notices of this step. A member may rise and clear
        within one batch (a backlog after an outage); the group still takes the highest grade
        it reached, then steps down after the dwell, so officers hear of it.
        """
        if not self.policy.enabled:
            return []
        peaks = peaks or {}
        self._absorb(book)
        if only is not None:
            return self._visit(book, is_muted, now, only, peaks)
        members: dict[Slot, list[Alert]] = {}
        groups: set[Slot] = set(self._state)
        for alert in book.alerts():
            if is_group(alert.key):
                groups.add((alert.key, alert.is_drill))
            elif not is_muted(alert):
                members.setdefault(group_slot(alert), []).append(alert)
        groups |= set(members) | set(peaks)
        self._stale.clear()
        out: list[Notice] = []
        for slot in sorted(groups):
            found = _ranked(members.get(slot, []))
            out.extend(self._look(book, slot, found, now, peaks.get(slot, [])))
        return out

    def settle(
        self,
        book: AlertBook,
        is_muted: Callable[[Alert], bool],
        now: float,
        peaks: Mapping[Slot, list[Notice]] | None = None,
    ) -> list[Notice]:
        """What :meth:`step` over every group gives at ``now`` (a tick), looking only at the
        groups that may have something to do; valid while muting is unchanged (see above)."""
        if not self.policy.enabled:
            return []
        peaks = peaks or {}
        self._absorb(book)
        due = self._stale | set(self._timers.pop_due(now)) | set(peaks)
        return self._visit(book, is_muted, now, due, peaks)

    def _absorb(self, book: AlertBook) -> None:
        """Groups whose members changed in the book become stale."""
        self._stale.update(_place_group(place) for place in book.drain_changed_places())

    def _visit(
        self,
        book: AlertBook,
        is_muted: Callable[[Alert], bool],
        now: float,
        slots: Iterable[Slot],
        peaks: Mapping[Slot, list[Notice]],
    ) -> list[Notice]:
        """Bring the groups in ``slots`` up to date, in key order. A slot that is no group at
        all (no state, no alert, no member) is a no-op of :meth:`_update`."""
        out: list[Notice] = []
        for slot in sorted(slots):
            key, is_drill = slot
            found = [
                a
                for a in book.alerts_at((key.area, key.hazard, is_drill))
                if not is_group(a.key) and not is_muted(a)
            ]
            out.extend(self._look(book, slot, _ranked(found), now, peaks.get(slot, [])))
        return out

    def _look(
        self, book: AlertBook, slot: Slot, members: list[Alert], now: float, peaks: list[Notice]
    ) -> list[Notice]:
        """:meth:`_update`, then note whether the group must be looked at again without any
        change of its members: a peak it took is gone by the next step."""
        self._stale.discard(slot)
        notices = self._update(book, slot, members, now, peaks)
        if peaks:
            self._stale.add(slot)
        return notices

    def _update(
        self, book: AlertBook, slot: Slot, members: list[Alert], now: float, peaks: list[Notice]
    ) -> list[Notice]:
        key, is_drill = slot
        peak = max_grade(n.grade for n in peaks)
        target = max_grade([peak, *(a.grade for a in members)])
        risen = sorted(peaks, key=lambda n: -n.grade.rank)
        stations = tuple(dict.fromkeys([a.key.area for a in members] + [n.key.area for n in risen]))
        state = self._state.get(slot, _GroupState())
        current = book.get(key, is_drill=is_drill)
        if current is None:
            if not target.is_warning:
                self._set(slot, None)
                return []
            if target is not Grade.RED and self.policy.wait_s > 0:
                if state.waiting_since is None:
                    self._set(slot, _GroupState(waiting_since=now))
                    self._timers.schedule(slot, early(now + self.policy.wait_s))
                    return []
                if now - state.waiting_since < self.policy.wait_s:
                    self._timers.schedule(slot, early(state.waiting_since + self.policy.wait_s))
                    return []
            self._set(slot, _GroupState(list_sent_at=now))
            return book.apply(self._finding(slot, members, target, now), now, stations=stations)
        if target is not book.observed(key, is_drill=is_drill):
            notices = book.apply(self._finding(slot, members, target, now), now, stations=stations)
            if any(n.reason is NoticeReason.UPGRADED for n in notices):
                self._set(slot, _GroupState(list_sent_at=now))
            return notices
        details = book.details(key, is_drill=is_drill) or {}
        announced = set(details.get("stations", ()))
        if not set(stations) - announced:
            if stations and set(stations) != announced:  # members left: keep the list true
                return book.apply(self._finding(slot, members, target, now), now, stations=stations)
            return []
        if state.list_sent_at is not None and now - state.list_sent_at < self.policy.interval_s:
            self._timers.schedule(slot, early(state.list_sent_at + self.policy.interval_s))
            return []
        self._set(slot, _GroupState(list_sent_at=now))
        notice = book.follow_up(
            key, is_drill, NoticeReason.REMINDER, now, _summary(members), stations=stations
        )
        return [] if notice is None else [notice]

    def _finding(self, slot: Slot, members: list[Alert], grade: Grade, now: float) -> Finding:
        key, is_drill = slot
        top = members[0].findings[-1] if members and members[0].findings else None
        return Finding(
            area=key.area,
            district=key.area,
            hazard=key.hazard,
            rule=GROUP_RULE,
            grade=grade,
            ts=now,
            value=None if top is None else top.value,
            threshold=None if top is None else top.threshold,
            quantity="" if top is None else top.quantity,
            station=None,
            message=_summary(members) if members else "all stations clear",
            is_drill=is_drill,
        )

    def _set(self, slot: Slot, state: _GroupState | None) -> None:
        old = self._state.get(slot)
        if state == old:
            return
        if state is None:
            self._state.pop(slot, None)
        else:
            self._state[slot] = state
        self._dirty.add(slot)

    # ---- persistence ------------------------------------------------------------------------

    def rows(self) -> list[tuple[str, str, Any]]:
        return [
            (PART, slot_id(slot), _state_json(self._state[slot])) for slot in sorted(self._state)
        ]

    def changes(self) -> list[tuple[str, str, Any]]:
        rows: list[tuple[str, str, Any]] = []
        for slot in sorted(self._dirty):
            state = self._state.get(slot)
            rows.append((PART, slot_id(slot), None if state is None else _state_json(state)))
        self._dirty.clear()
        return rows

    def load(self, rows: Iterable[tuple[str, str, Any]]) -> None:
        self._state = {}
        for part, ident, data in rows:
            if part != PART or data is None:
                continue
            key, is_drill = parse_slot(ident)
            self._state[(key, is_drill)] = _GroupState(
                data.get("waiting_since"), data.get("list_sent_at")
            )
        self._dirty.clear()
        self._stale = set(self._state)  # the pipeline regroups everything after a load anyway
        self._timers.clear()
