"""The alert book: one alert per (area, hazard, rule), and a notice for every transition.

Three grades per alert, each a stage of the decision:

``observed``
    the grade of the newest finding (``unknown`` is never observed: it marks the alert blind);
``effective``
    what the book believes: up at once; down only after ``down dwell`` seconds of the runtime's
    ``now`` during which the findings stayed lower (area and grouped alerts, where no detector
    ladder dwelled; a station alert's ladder already applied hysteresis and dwell, so its dwell
    here is 0 by default). While blind, a pending step down waits;
``notified``
    what receivers were told (:attr:`Alert.grade`). It follows ``effective`` through
    :func:`decide`, which holds a step down while the alert flaps (:mod:`alerting.flapping`).

:func:`decide` is the pure dedup decision, in the spirit of Alertmanager's ``needsUpdate``:

=====================  ======================  ==========================================
notified → effective   flapping                result
=====================  ======================  ==========================================
same grade             any                     nothing (no duplicate notice)
none → warning         any                     FIRED (version = last version + 1)
up                     any                     UPGRADED (news even to whoever acknowledged)
down to a warning      no                      DOWNGRADED
down to none           no                      RESOLVED (the key is free again)
down                   yes                     held: SuppressedReason.FLAPPING
=====================  ======================  ==========================================

Time-driven transitions (a dwell that ran out, flapping that calmed down) come out of
:meth:`AlertBook.advance`. Acknowledgement, escalation and reminders are transitions too: each
takes a new version, so ``(alert key, version)`` names exactly one notice, ever. Versions count
per key and never restart, even after a resolve; drills share the key's counter but live in a
slot of their own, so an exercise can neither raise nor clear a real alert.

Walk-through (a flood level rule of one station; no dwell, it is the ladder's job):

>>> from yujing.contracts import AlertKey, Finding, Grade, Hazard
>>> book = AlertBook()
>>> def level(grade, ts, value=None):
...     return Finding("S003", "district-a", Hazard.FLOOD, "level", grade, ts=ts, value=value,
...                    threshold=4.5, quantity="level_m", station="S003")
>>> def show(notices):
...     return [(n.reason.value, n.previous_grade.value, n.grade.value, n.version) for n in notices]
>>> show(book.apply(level(Grade.YELLOW, 10.0), now=10.0))
[('fired', 'none', 'yellow', 1)]
>>> show(book.apply(level(Grade.YELLOW, 20.0), now=20.0))     # same grade: no duplicate
[]
>>> show(book.apply(level(Grade.RED, 30.0), now=30.0))
[('upgraded', 'yellow', 'red', 2)]
>>> show(book.apply(level(Grade.UNKNOWN, 40.0), now=40.0))    # cannot see: stays red, blind
[]
>>> book.blind_since(AlertKey("S003", Hazard.FLOOD, "level"))
40.0
>>> show(book.apply(level(Grade.NONE, 50.0), now=50.0))
[('resolved', 'red', 'none', 3)]
>>> show(book.apply(level(Grade.BLUE, 60.0), now=60.0))       # the version sequence continues
[('fired', 'none', 'blue', 4)]
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from alerting import flapping
from alerting.entry import Entry
from alerting.flapping import FlapPolicy
from alerting.model import SuppressedReason
from alerting.slots import Slot, parse_slot, slot_id
from alerting.timers import DueQueue, early
from yujing.contracts import (
    Alert,
    AlertKey,
    AlertState,
    Finding,
    Grade,
    Hazard,
    Notice,
    NoticeReason,
)

__all__ = ["SNAPSHOT_FORMAT", "AlertBook", "BookPolicy", "Place", "Slot", "decide", "place_of"]

SNAPSHOT_FORMAT = 2
PART_ENTRY = "book.entry"
PART_VERSION = "book.version"

Row = tuple[str, str, Any]  # (part, id, plain JSON or None for "deleted") — the journal's unit
# (district, hazard, is_drill): where an alert is, i.e. which district group it belongs to
Place = tuple[str, Hazard, bool]
NOW = float("-inf")  # a due time that is due at the next advance, whatever its ``now``


def place_of(alert: Alert) -> Place:
    return alert.district, alert.key.hazard, alert.is_drill


def _insert(order: list[Slot], slot: Slot) -> None:
    insort(order, slot)


def _remove(order: list[Slot], slot: Slot) -> None:
    del order[bisect_left(order, slot)]


@dataclass(frozen=True, slots=True)
class BookPolicy:
    """How the book grades. ``area_down_dwell_s`` applies to alerts whose findings do not name
    their area as station (area rules, district groups); ``station_down_dwell_s`` to the rest."""

    area_down_dwell_s: float = 600.0
    station_down_dwell_s: float = 0.0
    flap: FlapPolicy = field(default_factory=FlapPolicy)
    max_findings: int = 8

    def __post_init__(self) -> None:
        if self.max_findings < 1:
            raise ValueError(f"max_findings: {self.max_findings} must be at least 1")
        if self.area_down_dwell_s < 0 or self.station_down_dwell_s < 0:
            raise ValueError("down dwell must not be negative")

    def dwell_s(self, is_area: bool) -> float:
        return self.area_down_dwell_s if is_area else self.station_down_dwell_s


def decide(
    notified: Grade, effective: Grade, is_flapping: bool
) -> NoticeReason | SuppressedReason | None:
    """The notice (if any) that brings receivers from ``notified`` to ``effective``.

    >>> decide(Grade.NONE, Grade.ORANGE, False), decide(Grade.ORANGE, Grade.RED, True)
    (<NoticeReason.FIRED: 'fired'>, <NoticeReason.UPGRADED: 'upgraded'>)
    >>> decide(Grade.RED, Grade.YELLOW, False), decide(Grade.RED, Grade.NONE, True)
    (<NoticeReason.DOWNGRADED: 'downgraded'>, <SuppressedReason.FLAPPING: 'flapping'>)
    >>> decide(Grade.RED, Grade.RED, False) is None
    True
    """
    if effective is notified:
        return None
    if effective.rank > notified.rank:
        return NoticeReason.FIRED if notified is Grade.NONE else NoticeReason.UPGRADED
    if is_flapping:
        return SuppressedReason.FLAPPING
    return NoticeReason.RESOLVED if effective is Grade.NONE else NoticeReason.DOWNGRADED


class AlertBook:
    """Lifecycle state machine from findings to notices. Pure: no I/O, no clock, no logging.

    Every change is remembered until :meth:`changes` hands it to the journal, so the book on
    disk is never older than the last committed step.

    Indexes, because every batch and every tick of a storm asks for the active alerts: the
    active slots are kept sorted (:meth:`alerts` lists them without sorting) and by
    :data:`Place` (:meth:`alerts_at`, one district group's members); entries with a timer (a
    dwell, flapping reversals, an entry to forget) are in a :class:`~alerting.timers.DueQueue`,
    so :meth:`advance` looks only at those that are due. Only :meth:`_transition` changes an
    alert's grade, district or activity, so it alone moves slots between the indexes; it also
    notes the slots and places it changed, for the inhibitor and the grouper
    (:meth:`drain_changed_slots`, :meth:`drain_changed_places`).
    """

    def __init__(self, policy: BookPolicy | None = None) -> None:
        self.policy = policy or BookPolicy()
        self._entries: dict[Slot, Entry] = {}
        self._versions: dict[AlertKey, int] = {}
        self._dirty_entries: set[Slot] = set()
        self._dirty_versions: set[AlertKey] = set()
        self._held: list[tuple[Slot, SuppressedReason]] = []
        self._now: float | None = None
        self._order: list[Slot] = []  # active slots, sorted
        self._places: dict[Place, list[Slot]] = {}  # active slots by place, sorted
        self._changed_slots: set[Slot] = set()
        self._changed_places: set[Place] = set()
        self._timers = DueQueue()

    # ---- transitions ------------------------------------------------------------------------

    def apply(
        self, finding: Finding, now: float, *, stations: tuple[str, ...] | None = None
    ) -> list[Notice]:
        """Apply one finding at ``now``; return the notice it causes (zero or one).

        ``stations`` replaces the station list carried by the alert's notices (a district group
        lists its members); by default it is the finding's station.
        """
        slot = (finding.alert_key, finding.is_drill)
        entry = self._entries.get(slot)
        grade = finding.grade
        if grade is Grade.UNKNOWN:
            if entry is not None and entry.is_active and entry.blind_since is None:
                entry.blind_since = finding.ts
                self._dirty_entries.add(slot)
            return []
        if entry is None:
            if not grade.is_warning:
                return []
            entry = self._new_entry(slot, finding)
        entry.blind_since = None
        entry.latest = finding
        if stations is not None:
            entry.stations = stations
        elif finding.station is not None:
            entry.stations = (finding.station,)
        self._dirty_entries.add(slot)
        target: Grade
        if grade.rank >= entry.effective.rank or self.policy.dwell_s(entry.is_area) <= 0:
            target = grade
            entry.pending_since = None
        else:
            target = entry.effective
            if entry.pending_since is None:
                entry.pending_since = now
        notices = self._settle(slot, entry, target, now, finding)
        self._schedule(slot, entry)
        return notices

    def advance(self, now: float) -> list[Notice]:
        """Let time pass to ``now``: finish dwells, let flapping calm down, forget quiet keys."""
        self._now = now if self._now is None else max(self._now, now)
        out: list[Notice] = []
        for slot in sorted(self._timers.pop_due(now)):
            entry = self._entries.get(slot)
            if entry is None:
                continue
            dwell_s = self.policy.dwell_s(entry.is_area)
            if (
                entry.pending_since is not None
                and entry.blind_since is None
                and now - entry.pending_since >= dwell_s
            ):
                entry.pending_since = None
                self._dirty_entries.add(slot)
                cause = replace(entry.latest, ts=now, source_ts=None)
                out.extend(self._settle(slot, entry, entry.latest.grade, now, cause))
            elif entry.flap.reversals:
                calmer = flapping.settle(self.policy.flap, entry.flap, now)
                if calmer != entry.flap:
                    cause = replace(entry.latest, ts=now, source_ts=None)
                    out.extend(self._settle(slot, entry, entry.effective, now, cause))
            if (
                not entry.is_active
                and entry.effective is Grade.NONE
                and entry.pending_since is None
                and not entry.flap.reversals
            ):
                del self._entries[slot]
                self._dirty_entries.add(slot)
            else:
                self._schedule(slot, entry)
        return out

    def _schedule(self, slot: Slot, entry: Entry) -> None:
        """Put ``slot`` in the timer queue at its next due time, if it has one."""
        due = self._due_at(entry)
        if due is not None:
            self._timers.schedule(slot, due)

    def _due_at(self, entry: Entry) -> float | None:
        """When :meth:`advance` may have something to do for ``entry`` (a little early), or
        None if only a finding can change it. What is due: a dwell that runs out (not while
        blind: a finding ends the blindness first), the oldest flapping reversal leaving the
        window (only then can the flapping state change), an idle entry to forget."""
        flap = entry.flap
        if not entry.is_active and entry.effective is Grade.NONE:
            if entry.pending_since is None and not flap.reversals:
                return NOW
        due: float | None = None
        if entry.pending_since is not None and entry.blind_since is None:
            due = early(entry.pending_since + self.policy.dwell_s(entry.is_area))
        if flap.reversals:
            policy = self.policy.flap
            if not policy.enabled:
                return NOW
            calm = early(min(flap.reversals) + policy.window_s)
            due = calm if due is None else min(due, calm)
        return due

    def acknowledge(self, key: AlertKey, is_drill: bool, officer: str, now: float) -> Notice | None:
        """A firing alert becomes acknowledged (a new version); None when it is not firing."""
        slot = (key, is_drill)
        entry = self._entries.get(slot)
        if entry is None or not entry.is_active or entry.alert.state is not AlertState.FIRING:
            return None
        entry.acked_by = officer
        return self._bump_notice(
            slot,
            entry,
            NoticeReason.ACKNOWLEDGED,
            now,
            AlertState.ACKNOWLEDGED,
            f"acknowledged by {officer}",
        )

    def follow_up(
        self,
        key: AlertKey,
        is_drill: bool,
        reason: NoticeReason,
        now: float,
        message: str,
        *,
        stations: tuple[str, ...] | None = None,
    ) -> Notice | None:
        """An ESCALATED or REMINDER notice for an active alert (a new version, same grade)."""
        slot = (key, is_drill)
        entry = self._entries.get(slot)
        if entry is None or not entry.is_active:
            return None
        if stations is not None:
            entry.stations = stations
        return self._bump_notice(slot, entry, reason, now, entry.alert.state, message)

    def _new_entry(self, slot: Slot, finding: Finding) -> Entry:
        key = slot[0]
        entry = Entry(
            alert=Alert(
                key=key,
                district=finding.district,
                grade=Grade.NONE,
                state=AlertState.RESOLVED,
                version=self._versions.get(key, 0),
                first_ts=finding.ts,
                last_ts=finding.ts,
                is_drill=slot[1],
            ),
            effective=Grade.NONE,
            is_area=finding.station is None or finding.station != finding.area,
            latest=finding,
        )
        self._entries[slot] = entry
        return entry

    def _settle(
        self, slot: Slot, entry: Entry, target: Grade, now: float, cause: Finding
    ) -> list[Notice]:
        changed = target is not entry.effective
        if changed:
            direction = flapping.UP if target.rank > entry.effective.rank else flapping.DOWN
            entry.effective = target
            entry.flap = flapping.record(self.policy.flap, entry.flap, now, direction)
        else:
            entry.flap = flapping.settle(self.policy.flap, entry.flap, now)
        entry.alert = replace(entry.alert, last_ts=max(entry.alert.last_ts, cause.ts))
        self._dirty_entries.add(slot)
        decision = decide(entry.alert.grade, entry.effective, entry.flap.flapping)
        if decision is None:
            return []
        if isinstance(decision, SuppressedReason):
            if changed:
                self._held.append((slot, decision))
            return []
        return [self._transition(slot, entry, decision, cause)]

    def _transition(self, slot: Slot, entry: Entry, reason: NoticeReason, cause: Finding) -> Notice:
        old = entry.alert
        grade = entry.effective
        if grade is Grade.NONE:
            state = AlertState.RESOLVED
        elif reason in (NoticeReason.FIRED, NoticeReason.UPGRADED):
            state = AlertState.FIRING
            entry.acked_by = None
        else:
            state = old.state
        fired = reason is NoticeReason.FIRED
        entry.alert = alert = Alert(
            key=slot[0],
            district=cause.district,
            grade=grade,
            state=state,
            version=self._bump(slot[0]),
            first_ts=cause.ts if fired else old.first_ts,
            last_ts=cause.ts if fired else max(old.last_ts, cause.ts),
            findings=(cause,) if fired else (*old.findings, cause)[-self.policy.max_findings :],
            is_drill=slot[1],
        )
        self._reindex(slot, old, alert)
        return Notice(
            key=slot[0],
            version=alert.version,
            reason=reason,
            grade=grade,
            previous_grade=old.grade,
            state=state,
            district=cause.district,
            ts=cause.ts,
            value=cause.value,
            threshold=cause.threshold,
            quantity=cause.quantity,
            message=cause.message,
            source_ts=cause.source_ts,
            is_drill=slot[1],
            stations=entry.stations,
        )

    def _bump_notice(
        self,
        slot: Slot,
        entry: Entry,
        reason: NoticeReason,
        now: float,
        state: AlertState,
        message: str,
    ) -> Notice:
        alert = replace(entry.alert, state=state, version=self._bump(slot[0]))
        entry.alert = alert
        self._dirty_entries.add(slot)
        latest = entry.latest
        return Notice(
            key=slot[0],
            version=alert.version,
            reason=reason,
            grade=alert.grade,
            previous_grade=alert.grade,
            state=state,
            district=alert.district,
            ts=now,
            value=latest.value,
            threshold=latest.threshold,
            quantity=latest.quantity,
            message=message,
            is_drill=slot[1],
            stations=entry.stations,
        )

    def _reindex(self, slot: Slot, old: Alert, new: Alert) -> None:
        """Move ``slot`` in the indexes after a transition from ``old`` to ``new``."""
        self._changed_slots.add(slot)
        was, now = old.grade is not Grade.NONE, new.grade is not Grade.NONE
        before, after = place_of(old), place_of(new)
        self._changed_places.add(before)
        self._changed_places.add(after)
        if was and (not now or before != after):
            members = self._places[before]
            _remove(members, slot)
            if not members:
                del self._places[before]
        if now and (not was or before != after):
            _insert(self._places.setdefault(after, []), slot)
        if was != now:
            (_insert if now else _remove)(self._order, slot)

    def _rebuild_indexes(self) -> None:
        """Every index from the entries (after :meth:`load`); every place counts as changed
        and every entry is looked at by the next :meth:`advance`."""
        self._changed_slots.update(self._entries)
        self._order = sorted(slot for slot, entry in self._entries.items() if entry.is_active)
        self._places = {}
        for slot in self._order:
            self._places.setdefault(place_of(self._entries[slot].alert), []).append(slot)
        self._changed_places.update(place_of(e.alert) for e in self._entries.values())
        self._timers.clear()
        for slot in self._entries:
            self._timers.schedule(slot, NOW)

    def _bump(self, key: AlertKey) -> int:
        version = self._versions.get(key, 0) + 1
        self._versions[key] = version
        self._dirty_versions.add(key)
        return version

    # ---- views ------------------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        """Active alerts (real and drill), ordered by key, real before drill."""
        entries = self._entries
        return [entries[slot].alert for slot in self._order]

    def alerts_at(self, place: Place) -> list[Alert]:
        """The active alerts of one place (district, hazard, drill), in :meth:`alerts` order."""
        entries = self._entries
        return [entries[slot].alert for slot in self._places.get(place, ())]

    def drain_changed_slots(self) -> set[Slot]:
        """Slots whose alert changed (grade, district, activity) since the last call."""
        changed, self._changed_slots = self._changed_slots, set()
        return changed

    def drain_changed_places(self) -> set[Place]:
        """Places whose alerts changed (grade, district, activity) since the last call."""
        changed, self._changed_places = self._changed_places, set()
        return changed

    def get(self, key: AlertKey, *, is_drill: bool = False) -> Alert | None:
        entry = self._entries.get((key, is_drill))
        return entry.alert if entry is not None and entry.is_active else None

    def blind_since(self, key: AlertKey, *, is_drill: bool = False) -> float | None:
        """Event time since which the active alert's detector reports ``unknown``, else None."""
        entry = self._entries.get((key, is_drill))
        return None if entry is None else entry.blind_since

    def observed(self, key: AlertKey, *, is_drill: bool = False) -> Grade:
        """Grade of the newest finding applied for the slot (``none`` when unknown to the book)."""
        entry = self._entries.get((key, is_drill))
        return Grade.NONE if entry is None else entry.latest.grade

    def details(self, key: AlertKey, *, is_drill: bool = False) -> dict[str, Any] | None:
        """Everything the API shows about one alert (active or not), None if unknown."""
        entry = self._entries.get((key, is_drill))
        if entry is None:
            return None
        return {
            "effective": entry.effective.value,
            "stations": list(entry.stations),
            "acked_by": entry.acked_by,
            "flapping": entry.flap.flapping,
            "step_down_pending_since": entry.pending_since,
            "blind_since": entry.blind_since,
        }

    def last_version(self, key: AlertKey) -> int:
        """The last version used for ``key`` (0 if never seen); the next transition gets +1."""
        return self._versions.get(key, 0)

    def drain_held(self) -> list[tuple[Slot, SuppressedReason]]:
        """Transitions held back since the last call (for the journal and the metric)."""
        held, self._held = self._held, []
        return held

    # ---- persistence ------------------------------------------------------------------------

    def changes(self) -> list[Row]:
        """Rows changed since the last call: the journal writes them in the step's transaction."""
        rows: list[Row] = []
        for key in sorted(self._dirty_versions):
            rows.append((PART_VERSION, str(key), self._versions[key]))
        for slot in sorted(self._dirty_entries):
            entry = self._entries.get(slot)
            rows.append((PART_ENTRY, slot_id(slot), None if entry is None else entry.to_json()))
        self._dirty_versions.clear()
        self._dirty_entries.clear()
        return rows

    def load(self, rows: Iterable[Row]) -> None:
        """Replace the state with journaled rows (parts other than the book's are ignored)."""
        versions: dict[AlertKey, int] = {}
        entries: dict[Slot, Entry] = {}
        for part, ident, data in rows:
            if part == PART_VERSION:
                versions[AlertKey.parse(ident)] = int(data)
            elif part == PART_ENTRY and data is not None:
                entries[parse_slot(ident)] = Entry.from_json(data)
        for (key, _), entry in entries.items():
            if entry.alert.version > versions.get(key, 0):
                raise ValueError(
                    f"alert book: {key} is at version {entry.alert.version} above its "
                    f"counter {versions.get(key, 0)}"
                )
        self._versions = versions
        self._entries = entries
        self._dirty_entries.clear()
        self._dirty_versions.clear()
        self._rebuild_indexes()

    def rows(self) -> list[Row]:
        """The whole state as rows (what :meth:`load` takes)."""
        return [(PART_VERSION, str(k), v) for k, v in sorted(self._versions.items())] + [
            (PART_ENTRY, slot_id(slot), self._entries[slot].to_json())
            for slot in sorted(self._entries)
        ]

    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain JSON. Versions of resolved keys are kept on purpose."""
        return {"format": SNAPSHOT_FORMAT, "now": self._now, "rows": self.rows()}

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the state with one from :meth:`snapshot`; the book then continues exactly as
        the one that was snapshotted (same versions, no repeated notice)."""
        if state.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(
                f"alert book snapshot: format {state.get('format')!r} is not {SNAPSHOT_FORMAT}"
            )
        self.load((part, ident, data) for part, ident, data in state["rows"])
        self._now = state.get("now")
