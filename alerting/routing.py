"""Who hears about a notice: machine channels by scope, officers by the duty roster.

The roster (``configs/roster.yaml``, loaded by :mod:`yujing.config.roster`) maps district ×
hazard × grade to an escalation chain of officers per shift, names each district's leader, and
sets the acknowledgement rule. Routes are tried in order; the first that matches wins.

What each notice of an officer-routed alert (a district group, or every alert when grouping is
off) does, in the :class:`Router`:

==============  ===================================================================================
FIRED/UPGRADED  page the first officer of the matching route's chain for the shift at ``now``;
                everyone already paged this episode hears too; red also pages the district leader
                (once). Orange/red start an acknowledgement deadline (:mod:`alerting.escalation`)
DOWNGRADED      tell everyone paged; below orange no acknowledgement is due any more
RESOLVED        tell everyone paged; the episode ends
ACKNOWLEDGED    tell everyone paged except who acknowledged
ESCALATED       tell everyone paged, now including the next officer of the chain
REMINDER        tell everyone paged (a longer station list, or the chain ran out)
==============  ===================================================================================

Machine channels (webhook, Alertmanager, CAP, console) take the notices of their ``scope``:
``station`` (each station's or area's own alert), ``group`` (district groups) or ``all``, and
optionally only some reasons (the CAP feed publishes no acknowledgements).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from alerting.acklinks import AckLinks
from alerting.escalation import Duty, Escalations
from alerting.grouping import is_group
from alerting.model import Delivery, Event, EventKind, Step, Suppressed, SuppressedReason
from yujing.contracts import WARNING_GRADES, Grade, Hazard, Notice, NoticeReason

__all__ = ["Audience", "ChannelSpec", "Officer", "Roster", "Route", "Router", "Shift"]

Scope = Literal["station", "group", "all"]


class Audience(enum.StrEnum):
    BROADCAST = "broadcast"  # machine channels: every notice of their scope
    OFFICER = "officer"  # addressed to officers (SMS, e-mail)


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """What routing needs to know of a channel (the notifier itself stays in the service)."""

    name: str
    audience: Audience = Audience.BROADCAST
    is_public: bool = False
    scope: Scope = "station"
    contact: str = ""  # officer channels: the officer contact it uses ("phone", "email")
    reasons: frozenset[NoticeReason] | None = None  # None: every reason

    def takes(self, notice: Notice) -> bool:
        if self.reasons is not None and notice.reason not in self.reasons:
            return False
        if self.scope == "all":
            return True
        return (self.scope == "group") == is_group(notice.key)


@dataclass(frozen=True, slots=True)
class Officer:
    id: str
    name: str = ""
    contacts: Mapping[str, str] = field(default_factory=dict)  # "phone" → "+86…", "email" → …


@dataclass(frozen=True, slots=True)
class Shift:
    """Local time of day ``[start_min, end_min)`` in minutes; may wrap past midnight."""

    name: str
    start_min: int
    end_min: int

    def covers(self, minute: int) -> bool:
        if self.start_min <= self.end_min:
            return self.start_min <= minute < self.end_min
        return minute >= self.start_min or minute < self.end_min


ANY_SHIFT = "*"


@dataclass(frozen=True, slots=True)
class Route:
    """Empty ``districts``/``hazards`` match any; ``grades`` defaults to every warning grade.
    ``chains``: shift name (or ``*``) → officers in escalation order."""

    chains: Mapping[str, tuple[str, ...]]
    districts: frozenset[str] = frozenset()
    hazards: frozenset[Hazard] = frozenset()
    grades: frozenset[Grade] = frozenset(WARNING_GRADES)
    channels: tuple[str, ...] = ()

    def matches(self, district: str, hazard: Hazard, grade: Grade) -> bool:
        return (
            (not self.districts or district in self.districts)
            and (not self.hazards or hazard in self.hazards)
            and grade in self.grades
        )

    def chain(self, shift: str | None) -> tuple[str, ...]:
        if shift is not None and shift in self.chains:
            return self.chains[shift]
        return self.chains.get(ANY_SHIFT, ())


@dataclass(frozen=True, slots=True)
class Roster:
    officers: Mapping[str, Officer] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    shifts: tuple[Shift, ...] = ()
    leaders: Mapping[str, str] = field(default_factory=dict)  # district → officer id
    utc_offset_s: int = 8 * 3600
    ack_timeout_s: float = 300.0
    ack_grades: frozenset[Grade] = frozenset({Grade.ORANGE, Grade.RED})
    leader_grades: frozenset[Grade] = frozenset({Grade.RED})
    max_reminders: int = 3

    def __post_init__(self) -> None:
        names = {s.name for s in self.shifts}
        for index, route in enumerate(self.routes):
            for shift, chain in route.chains.items():
                if shift != ANY_SHIFT and shift not in names:
                    raise ValueError(f"routes[{index}]: shift {shift!r} is not in shifts")
                for officer in chain:
                    if officer not in self.officers:
                        raise ValueError(f"routes[{index}]: officer {officer!r} is not listed")
        for district, officer in self.leaders.items():
            if officer not in self.officers:
                raise ValueError(f"leaders.{district}: officer {officer!r} is not listed")
        if self.ack_timeout_s <= 0:
            raise ValueError(f"ack_timeout_s {self.ack_timeout_s} must be above 0")

    def shift_at(self, now: float) -> str | None:
        minute = int(((now + self.utc_offset_s) % 86400) // 60)
        for shift in self.shifts:
            if shift.covers(minute):
                return shift.name
        return None

    def route(self, district: str, hazard: Hazard, grade: Grade) -> Route | None:
        for route in self.routes:
            if route.matches(district, hazard, grade):
                return route
        return None


def _merge(names: tuple[str, ...], *more: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*names, *more)))


class Router:
    """Turns notices into deliveries; keeps the duty of every officer-routed alert."""

    def __init__(
        self,
        roster: Roster,
        channels: list[ChannelSpec],
        duties: Escalations,
        *,
        officers_get_groups: bool = True,
        links: AckLinks | None = None,
    ) -> None:
        self.roster = roster
        self.channels = {c.name: c for c in channels}
        self.duties = duties
        self.officers_get_groups = officers_get_groups
        self.links = links
        self._officer_channels = [c for c in channels if c.audience is Audience.OFFICER]

    def route(self, notice: Notice, now: float, step: Step, *, skip: str = "") -> None:
        """Add the deliveries of ``notice`` to ``step``; ``skip`` an officer (who acknowledged)."""
        for spec in self.channels.values():
            if spec.audience is Audience.BROADCAST and spec.takes(notice):
                step.deliveries.append(Delivery(notice, spec.name))
        if is_group(notice.key) != self.officers_get_groups:
            return
        for officer in self._targets(notice, now, step):
            if officer != skip:
                self._address(notice, officer, step)

    def _targets(self, notice: Notice, now: float, step: Step) -> tuple[str, ...]:
        slot = (notice.key, notice.is_drill)
        duty = self.duties.get(slot)
        reason = notice.reason
        roster = self.roster
        if reason in (NoticeReason.FIRED, NoticeReason.UPGRADED):
            route = roster.route(notice.district, notice.hazard, notice.grade)
            chain = () if route is None else route.chain(roster.shift_at(now))
            if not chain and duty is None:
                step.suppressed.append(
                    Suppressed(notice.key, notice.version, SuppressedReason.NO_ROUTE)
                )
                return ()
            previous = duty or Duty(chain=chain)
            audience = _merge(previous.audience, *chain[:1])
            leader_notified = previous.leader_notified
            leader = roster.leaders.get(notice.district)
            if leader and notice.grade in roster.leader_grades and not leader_notified:
                audience, leader_notified = _merge(audience, leader), True
            needs_ack = notice.grade in roster.ack_grades
            duty = Duty(
                chain=chain or previous.chain,
                level=0,
                audience=audience,
                deadline=now + roster.ack_timeout_s if needs_ack else None,
                paged_at=now if needs_ack else None,
                paged_grade=notice.grade,
                leader_notified=leader_notified,
                channels=route.channels if route is not None else previous.channels,
            )
            self.duties.put(slot, duty)
            if needs_ack:
                data = {
                    "grade": notice.grade.value,
                    "version": notice.version,
                    "at": now,
                    "drill": notice.is_drill,
                }
                step.events.append(Event(EventKind.PAGE, str(notice.key), audience[0], data))
            return audience
        if duty is None:
            return ()
        if reason is NoticeReason.RESOLVED:
            self.duties.drop(slot)
        elif reason is NoticeReason.DOWNGRADED and notice.grade not in roster.ack_grades:
            self.duties.put(slot, replace(duty, deadline=None))
        return duty.audience

    def _address(self, notice: Notice, officer_id: str, step: Step) -> None:
        officer = self.roster.officers.get(officer_id)
        duty = self.duties.get((notice.key, notice.is_drill))
        names = duty.channels if duty is not None and duty.channels else None
        specs = [c for c in self._officer_channels if names is None or c.name in names]
        ack_url = ""
        if self.links is not None and notice.reason is not NoticeReason.RESOLVED:
            ack_url = self.links.url(officer_id, notice.key, notice.is_drill)
        for spec in specs:
            address = "" if officer is None else officer.contacts.get(spec.contact, "")
            if not address:
                step.suppressed.append(
                    Suppressed(
                        notice.key,
                        notice.version,
                        SuppressedReason.NO_CONTACT,
                        spec.name,
                        officer_id,
                    )
                )
                continue
            step.deliveries.append(
                Delivery(
                    notice,
                    spec.name,
                    officer=officer_id,
                    address=address,
                    officer_name="" if officer is None else officer.name,
                    ack_url=ack_url,
                )
            )
