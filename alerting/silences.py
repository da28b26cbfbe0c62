"""Silences and maintenance windows: "do not tell anyone about these alerts until then".

A :class:`Silence` matches alerts by any of station, area, district, hazard and rule (all the
fields it sets must match) between ``starts_at`` and ``ends_at`` (runtime time, epoch seconds).
A maintenance window is the same thing planned ahead, usually for a station; it is kept apart
only so the reason reads right (``maintenance`` rather than ``silenced``) in metrics and logs.

Every silence has an author (the officer whose token created it) and an optional comment;
expiring one early sets ``ends_at`` to ``now`` and records who did it. Expired silences stay
listed for :data:`KEEP_EXPIRED_S` so the report can show them, then are forgotten.

Silences and inhibition answer the same question through :class:`Muter`: "is this alert muted
at ``now``, and why?" (Alertmanager's one seam for both). What muting does is decided by the
pipeline (:mod:`alerting.pipeline`): a muted alert sends nothing to machine channels and stays
out of its district group, so nobody is paged for it; a clear is never muted.

>>> from yujing.contracts import Alert, AlertKey, AlertState, Grade, Hazard
>>> book = SilenceBook()
>>> book.add(Silence("s1", starts_at=100, ends_at=200, author="li.wei", station="S003"))
>>> alert = Alert(AlertKey("S003", Hazard.FLOOD, "level"), "district-a", Grade.RED,
...               AlertState.FIRING, 1, 0.0, 0.0)
>>> book.muted(alert, 150), book.muted(alert, 250)
(<SuppressedReason.SILENCED: 'silenced'>, None)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from alerting.model import SuppressedReason
from yujing.contracts import Alert, Hazard

__all__ = ["KEEP_EXPIRED_S", "Muter", "Silence", "SilenceBook"]

KEEP_EXPIRED_S = 7 * 24 * 3600.0
PART = "silence"


class Muter(Protocol):
    def muted(self, alert: Alert, now: float) -> SuppressedReason | None:
        """Why ``alert`` is muted at ``now``, or None."""
        ...


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    starts_at: float
    ends_at: float
    author: str
    comment: str = ""
    created_at: float = 0.0
    is_maintenance: bool = False
    station: str | None = None
    area: str | None = None
    district: str | None = None
    hazard: Hazard | None = None
    rule: str | None = None
    expired_by: str | None = None

    def __post_init__(self) -> None:
        if not any((self.station, self.area, self.district, self.hazard, self.rule)):
            raise ValueError("a silence must match on station, area, district, hazard or rule")
        if self.ends_at < self.starts_at:
            raise ValueError(f"silence {self.id}: ends_at is before starts_at")
        if not self.author:
            raise ValueError(f"silence {self.id}: author is required")

    def is_active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, alert: Alert) -> bool:
        key = alert.key
        if self.station is not None and self.station != key.area:
            if all(f.station != self.station for f in alert.findings):
                return False
        return (
            (self.area is None or self.area == key.area)
            and (self.district is None or self.district == alert.district)
            and (self.hazard is None or self.hazard is key.hazard)
            and (self.rule is None or self.rule == key.rule)
        )

    @property
    def reason(self) -> SuppressedReason:
        return SuppressedReason.MAINTENANCE if self.is_maintenance else SuppressedReason.SILENCED

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hazard"] = None if self.hazard is None else self.hazard.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Silence:
        values = dict(data)
        values["hazard"] = None if values.get("hazard") is None else Hazard(values["hazard"])
        return cls(**values)


class SilenceBook:
    """The set of silences, with changes kept for the journal. Pure: ``now`` is passed in."""

    def __init__(self) -> None:
        self._silences: dict[str, Silence] = {}
        self._dirty: set[str] = set()
        self._active_ids: frozenset[str] = frozenset()

    def add(self, silence: Silence) -> None:
        if silence.id in self._silences:
            raise ValueError(f"silence {silence.id} exists")
        self._silences[silence.id] = silence
        self._dirty.add(silence.id)

    def expire(self, silence_id: str, now: float, by: str) -> Silence | None:
        """End a silence at ``now``; None if there is no such silence or it already ended."""
        silence = self._silences.get(silence_id)
        if silence is None or silence.ends_at <= now:
            return None
        ended = replace(silence, ends_at=max(now, silence.starts_at), expired_by=by)
        self._silences[silence_id] = ended
        self._dirty.add(silence_id)
        return ended

    def get(self, silence_id: str) -> Silence | None:
        return self._silences.get(silence_id)

    def listing(self, now: float, *, include_expired: bool = False) -> list[Silence]:
        """Silences in start order; pending and active ones, plus expired ones if asked."""
        return sorted(
            (s for s in self._silences.values() if include_expired or s.ends_at > now),
            key=lambda s: (s.starts_at, s.id),
        )

    def muted(self, alert: Alert, now: float) -> SuppressedReason | None:
        for silence in self._silences.values():
            if silence.is_active(now) and silence.matches(alert):
                return silence.reason
        return None

    def turned(self, since: float, now: float) -> bool:
        """True when a silence started or ended in ``(since, now]``: an alert's muting at two
        times in that span may differ (``is_active`` changes only at those instants)."""
        return any(
            since < s.starts_at <= now or since < s.ends_at <= now for s in self._silences.values()
        )

    def advance(self, now: float) -> bool:
        """Forget long-expired silences; True when the set of active silences changed since the
        last call (alerts must then be regrouped: a window opened or closed)."""
        for silence_id in [
            s.id for s in self._silences.values() if now - s.ends_at > KEEP_EXPIRED_S
        ]:
            del self._silences[silence_id]
            self._dirty.add(silence_id)
        active = frozenset(s.id for s in self._silences.values() if s.is_active(now))
        changed = active != self._active_ids
        self._active_ids = active
        return changed

    def rows(self) -> list[tuple[str, str, Any]]:
        return [(PART, sid, s.to_json()) for sid, s in sorted(self._silences.items())]

    def changes(self) -> list[tuple[str, str, Any]]:
        rows = [
            (PART, sid, None if sid not in self._silences else self._silences[sid].to_json())
            for sid in sorted(self._dirty)
        ]
        self._dirty.clear()
        return rows

    def load(self, rows: Iterable[tuple[str, str, Any]]) -> None:
        self._silences = {
            ident: Silence.from_json(data)
            for part, ident, data in rows
            if part == PART and data is not None
        }
        self._dirty.clear()
        self._active_ids = frozenset()
