"""Call and response: who was paged for an alert, when an acknowledgement is due, what comes next.

One :class:`Duty` per alert episode that reached an officer, journaled with every change, so
after a restart the deadlines are exactly where they were (they are absolute times computed when
the page went out, never "timeout from now").

The rule (DESIGN §5, roster file ``ack_timeout_s``, default 300 s):

- orange and red need an acknowledgement: a page starts a deadline; a higher grade restarts it
  from the first officer of the new grade's chain; an acknowledgement or a step down below the
  grades that need one clears it;
- deadline passed, no acknowledgement: ESCALATED — the next officer of the chain is paged and the
  ones already paged are reminded; a new deadline of ``ack_timeout_s`` from *now* (a runtime that
  was down for an hour escalates one step at a time, not in a burst);
- chain exhausted: REMINDER to everyone paged, up to ``max_reminders`` times, then it stays with
  them (and the report counts the alert as not reached).

:func:`next_step` is the pure decision; :class:`Escalations` is the journaled store.

>>> duty = Duty(chain=("li", "wang"), audience=("li",), deadline=300.0, paged_at=0.0)
>>> next_step(duty, 299.0, max_reminders=2) is None
True
>>> next_step(duty, 300.0, max_reminders=2)
<NoticeReason.ESCALATED: 'escalated'>
>>> next_step(advance(duty, 300.0, 300.0), 600.0, max_reminders=2)
<NoticeReason.REMINDER: 'reminder'>
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from alerting.slots import Slot, parse_slot, slot_id
from yujing.contracts import Grade, NoticeReason

__all__ = ["Duty", "Escalations", "advance", "next_step"]

PART = "duty"


@dataclass(frozen=True, slots=True)
class Duty:
    """The officers of one alert episode. ``level`` indexes the last officer paged in
    ``chain``; ``audience`` is everyone told so far (they hear about every later change)."""

    chain: tuple[str, ...]
    level: int = 0
    audience: tuple[str, ...] = ()
    deadline: float | None = None  # acknowledgement due by (runtime time); None: none due
    paged_at: float | None = None  # when the current acknowledgement became due
    paged_grade: Grade = Grade.NONE
    rounds: int = 0  # reminders sent after the chain ran out
    leader_notified: bool = False
    channels: tuple[str, ...] = ()  # officer channels of the route; () = every one

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["paged_grade"] = self.paged_grade.value
        for name in ("chain", "audience", "channels"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Duty:
        values = dict(data)
        values["paged_grade"] = Grade(values["paged_grade"])
        for name in ("chain", "audience", "channels"):
            values[name] = tuple(values[name])
        return cls(**values)


def next_step(duty: Duty, now: float, *, max_reminders: int) -> NoticeReason | None:
    """ESCALATED or REMINDER when the deadline has passed, else None."""
    if duty.deadline is None or now < duty.deadline:
        return None
    if duty.level + 1 < len(duty.chain):
        return NoticeReason.ESCALATED
    if duty.rounds < max_reminders:
        return NoticeReason.REMINDER
    return None


def advance(duty: Duty, now: float, ack_timeout_s: float, *, max_reminders: int = 3) -> Duty:
    """The duty after the step :func:`next_step` chose at ``now``."""
    if duty.level + 1 < len(duty.chain):
        officer = duty.chain[duty.level + 1]
        audience = duty.audience if officer in duty.audience else (*duty.audience, officer)
        return replace(duty, level=duty.level + 1, audience=audience, deadline=now + ack_timeout_s)
    rounds = duty.rounds + 1
    deadline = now + ack_timeout_s if rounds < max_reminders else None
    return replace(duty, rounds=rounds, deadline=deadline)


class Escalations:
    """Duties by alert slot, with changes kept for the journal."""

    def __init__(self) -> None:
        self._duties: dict[Slot, Duty] = {}
        self._dirty: set[Slot] = set()

    def get(self, slot: Slot) -> Duty | None:
        return self._duties.get(slot)

    def put(self, slot: Slot, duty: Duty) -> None:
        if self._duties.get(slot) != duty:
            self._duties[slot] = duty
            self._dirty.add(slot)

    def drop(self, slot: Slot) -> None:
        if self._duties.pop(slot, None) is not None:
            self._dirty.add(slot)

    def due(self, now: float) -> list[tuple[Slot, Duty]]:
        """Duties whose deadline has passed, in deadline order."""
        found = [
            (slot, duty)
            for slot, duty in self._duties.items()
            if duty.deadline is not None and duty.deadline <= now
        ]
        return sorted(found, key=lambda item: (item[1].deadline or 0.0, item[0]))

    def items(self) -> list[tuple[Slot, Duty]]:
        return sorted(self._duties.items())

    def rows(self) -> list[tuple[str, str, Any]]:
        return [(PART, slot_id(slot), duty.to_json()) for slot, duty in self.items()]

    def changes(self) -> list[tuple[str, str, Any]]:
        rows = [
            (
                PART,
                slot_id(slot),
                None if slot not in self._duties else self._duties[slot].to_json(),
            )
            for slot in sorted(self._dirty)
        ]
        self._dirty.clear()
        return rows

    def load(self, rows: Iterable[tuple[str, str, Any]]) -> None:
        self._duties = {}
        for part, ident, data in rows:
            if part != PART or data is None:
                continue
            key, is_drill = parse_slot(ident)
            self._duties[(key, is_drill)] = Duty.from_json(data)
        self._dirty.clear()
