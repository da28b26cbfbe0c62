"""The book's state for one alert slot, and its plain-JSON form for the journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alerting.codec import alert_from_json, alert_to_json, finding_from_json, finding_to_json
from alerting.flapping import FlapState
from yujing.contracts import Alert, Finding, Grade

__all__ = ["Entry"]


@dataclass(slots=True)
class Entry:
    alert: Alert  # as last notified: grade NONE and state RESOLVED while quiet
    effective: Grade
    is_area: bool
    latest: Finding  # newest finding that was not ``unknown``
    pending_since: float | None = None  # ``latest`` is lower than ``effective`` since then
    flap: FlapState = field(default_factory=FlapState)
    blind_since: float | None = None
    acked_by: str | None = None
    stations: tuple[str, ...] = ()

    @property
    def is_active(self) -> bool:
        return self.alert.grade is not Grade.NONE

    def to_json(self) -> dict[str, Any]:
        return {
            "alert": alert_to_json(self.alert),
            "effective": self.effective.value,
            "is_area": self.is_area,
            "latest": finding_to_json(self.latest),
            "pending_since": self.pending_since,
            "flap": {
                "reversals": list(self.flap.reversals),
                "last_direction": self.flap.last_direction,
                "flapping": self.flap.flapping,
            },
            "blind_since": self.blind_since,
            "acked_by": self.acked_by,
            "stations": list(self.stations),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        flap = data.get("flap") or {}
        return cls(
            alert=alert_from_json(data["alert"]),
            effective=Grade(data["effective"]),
            is_area=bool(data["is_area"]),
            latest=finding_from_json(data["latest"]),
            pending_since=data.get("pending_since"),
            flap=FlapState(
                tuple(flap.get("reversals", ())),
                int(flap.get("last_direction", 0)),
                bool(flap.get("flapping", False)),
            ),
            blind_since=data.get("blind_since"),
            acked_by=data.get("acked_by"),
            stations=tuple(data.get("stations", ())),
        )
