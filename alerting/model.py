"""The alerting stage's own small types: what a stage step produces, and why things were held back.

The contract types (Finding, Alert, Notice) live in :mod:`yujing.contracts`; these ones never
leave ``alerting`` except as JSON in the journal and the outbox.

- :class:`Delivery` — one notice addressed to one channel, and for officer channels to one
  officer. Its :attr:`Delivery.outbox_key` ``(alert key, version, officer, channel)`` is the
  unit of "exactly once": the outbox row, the dedupe key, what the crash test counts.
- :class:`SuppressedReason` — why a transition or a delivery did not go out; the ``reason``
  label of ``yujing_alert_suppressed_total`` and a log field.
- :class:`Event` — an audit record for the journal (acknowledgement, feedback, page, silence).
- :class:`Step` — everything one call of the alerting pipeline produced, journaled in one
  transaction before anything is sent.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from yujing.contracts import AlertKey, Notice

__all__ = ["BROADCAST", "Delivery", "Event", "EventKind", "Step", "Suppressed", "SuppressedReason"]

BROADCAST = ""  # the officer field of a delivery to a channel that is not addressed to a person


class SuppressedReason(enum.StrEnum):
    """Why something was held back. Used as metric label and log field."""

    SILENCED = "silenced"  # a silence matched the alert
    MAINTENANCE = "maintenance"  # a maintenance window matched the alert
    INHIBITED = "inhibited"  # a higher grade of the same area and hazard is active
    FLAPPING = "flapping"  # a step down held while the alert flaps
    NO_ROUTE = "no_route"  # no roster route or no officer on duty for the notice
    NO_CONTACT = "no_contact"  # the officer has no address for the channel
    DRILL_PUBLIC = "drill_public"  # a drill notice routed to a public channel (interlock)


class EventKind(enum.StrEnum):
    ACK = "ack"
    FEEDBACK = "feedback"
    PAGE = "page"  # an acknowledgement became due (orange / red fired or upgraded)
    SUPPRESSED = "suppressed"
    SILENCE_ADDED = "silence_added"
    SILENCE_EXPIRED = "silence_expired"


@dataclass(frozen=True, slots=True)
class Delivery:
    """``notice`` for ``channel``; ``officer`` is :data:`BROADCAST` for machine channels.

    ``address`` is where the channel sends it (a phone number, an e-mail address); ``ack_url``
    the officer's acknowledgement link ("" when the API is off).
    """

    notice: Notice
    channel: str
    officer: str = BROADCAST
    address: str = ""
    officer_name: str = ""
    ack_url: str = ""

    @property
    def outbox_key(self) -> tuple[str, int, str, str]:
        return (str(self.notice.key), self.notice.version, self.officer, self.channel)

    @property
    def idempotency_key(self) -> str:
        """What receivers dedupe on: ``key#version``, plus ``@officer`` when addressed."""
        base = self.notice.idempotency_key
        return base if self.officer == BROADCAST else f"{base}@{self.officer}"


@dataclass(frozen=True, slots=True)
class Suppressed:
    key: AlertKey
    version: int  # the notice's version, or 0 for a held-back transition that got none
    reason: SuppressedReason
    channel: str = ""
    officer: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    key: str
    officer: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Step:
    """Output of one pipeline call: transitions, addressed deliveries, what was held back."""

    notices: list[Notice] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.notices or self.deliveries or self.suppressed or self.events)

    def extend(self, other: Step) -> None:
        self.notices.extend(other.notices)
        self.deliveries.extend(other.deliveries)
        self.suppressed.extend(other.suppressed)
        self.events.extend(other.events)
