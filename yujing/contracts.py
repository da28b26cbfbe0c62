"""The data contracts every stage exchanges (DESIGN §3): Reading, Finding, Alert, Notice.

Frozen dataclasses, no I/O, no clocks. pydantic is used only at the edges (``ingest`` decodes
MQTT JSON into :class:`Reading`; ``yujing.config`` parses YAML), never here.

Times are UTC epoch seconds as ``float`` throughout (event time unless the name says otherwise).

Exception tree::

    YujingError
    ├── ConfigError          bad YAML / settings; message names file, key path, problem, value
    ├── PayloadRejected      a reading refused at ingest; carries a RejectReason
    └── DeliveryError        a notifier failed; ``retryable`` says whether to try again
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


class Kind(enum.StrEnum):
    """Sensor family; the ``{kind}`` segment of the MQTT topic."""

    RAIN = "rain"
    WATER_LEVEL = "water_level"
    PONDING = "ponding"
    GAS = "gas"
    CHEM = "chem"
    SEISMIC = "seismic"


class Hazard(enum.StrEnum):
    """What a finding warns about. Sensor health is a hazard of its own (``sensor``)."""

    RAINSTORM = "rainstorm"
    FLOOD = "flood"
    PONDING = "ponding"
    GAS_LEAK = "gas_leak"
    TOXIC_GAS = "toxic_gas"
    TANK = "tank"
    EARTHQUAKE = "earthquake"
    SENSOR = "sensor"
    FLASH_FLOOD = "flash_flood"
    DEBRIS_FLOW = "debris_flow"
    TANK_INTEGRITY = "tank_integrity"
    ANOMALY = "anomaly"


class Grade(enum.StrEnum):
    """Warning grade. ``unknown`` means "we cannot see" and is never read as all clear."""

    NONE = "none"
    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Severity order none=0 < blue=1 < yellow=2 < orange=3 < red=4; unknown=-1 (unordered)."""
        return _RANK[self]

    @property
    def is_warning(self) -> bool:
        """True for blue..red: a grade somebody must be told about."""
        return self.rank >= 1

    @classmethod
    def from_rank(cls, rank: int) -> Grade:
        return _BY_RANK[rank]


_RANK = {
    Grade.NONE: 0,
    Grade.BLUE: 1,
    Grade.YELLOW: 2,
    Grade.ORANGE: 3,
    Grade.RED: 4,
    Grade.UNKNOWN: -1,
}
_BY_RANK = {v: k for k, v in _RANK.items()}
WARNING_GRADES = (Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED)


def max_grade(grades: Iterable[Grade]) -> Grade:
    """Highest warning grade; ``none`` for an empty input. ``unknown`` never wins over a warning.

    >>> max_grade([Grade.BLUE, Grade.UNKNOWN, Grade.ORANGE])
    <Grade.ORANGE: 'orange'>
    >>> max_grade([Grade.NONE, Grade.UNKNOWN])
    <Grade.UNKNOWN: 'unknown'>
    """
    best = Grade.NONE
    seen_unknown = False
    for grade in grades:
        if grade is Grade.UNKNOWN:
            seen_unknown = True
        elif grade.rank > best.rank:
            best = grade
    if best is Grade.NONE and seen_unknown:
        return Grade.UNKNOWN
    return best


class RejectReason(enum.StrEnum):
    """Why ingest refused a message. The same value labels the metric and the dead letter."""

    MALFORMED = "malformed"  # not JSON, or JSON of the wrong shape
    OVERSIZED = "oversized"
    BAD_TOPIC = "bad_topic"
    UNKNOWN_STATION = "unknown_station"
    KIND_MISMATCH = "kind_mismatch"  # topic kind or district differs from the registry
    STATION_MISMATCH = "station_mismatch"  # body station differs from the topic station
    MISSING_VALUES = "missing_values"
    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_LATE = "too_late"
    DUPLICATE = "duplicate"
    UNAUTHORISED = "unauthorised"


class YujingError(Exception):
    """Root of yujing's own exceptions."""


class ConfigError(YujingError):
    """Configuration could not be loaded; the message names file, key path, problem and value."""


class PayloadRejected(YujingError):
    """A message was refused at ingest."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class DeliveryError(YujingError):
    """A notifier failed to deliver; ``retryable`` says whether a retry may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True, eq=False)
class Waveform:
    """One seismic packet of one channel: ``samples`` at ``sr_hz`` starting at ``t0`` (epoch s).

    ``samples`` are acceleration in m/s² (the simulator's unit and the PGA ladder's unit).
    """

    channel: str
    sr_hz: float
    t0: float
    samples: npt.NDArray[np.float64]

    @property
    def end(self) -> float:
        """Event time just after the last sample."""
        return self.t0 + len(self.samples) / self.sr_hz


@dataclass(frozen=True, slots=True)
class Reading:
    """One validated sensor message (DESIGN §3), as ingest hands it to the detectors.

    ``ts`` is the event time at the sensor; ``received`` the ingest wall time, kept only for
    latency metrics (detectors must not use it). Seismic packets carry ``waveform`` and empty
    ``values``.
    """

    station: str
    kind: Kind
    district: str
    ts: float
    seq: int
    values: Mapping[str, float]
    quality: str | None = None
    waveform: Waveform | None = None
    received: float = 0.0


@dataclass(frozen=True, slots=True)
class Finding:
    """A detector's judgement about one subject (a station or an area) at one event time.

    ``area`` is what the alert is about (a station id for per-station rules, an area id for
    area and compound rules); ``rule`` names the rule inside the hazard (``rain_3h``,
    ``level``, ``pga``...). ``value``/``threshold`` are the measured value and the rung
    edge it crossed (None when not applicable, e.g. silence). ``source_ts`` is the sensor event
    time of the reading that caused the finding, for end-to-end latency.
    """

    area: str
    district: str
    hazard: Hazard
    rule: str
    grade: Grade
    ts: float
    value: float | None = None
    threshold: float | None = None
    quantity: str = ""
    station: str | None = None
    message: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    source_ts: float | None = None
    is_drill: bool = False

    @property
    def alert_key(self) -> AlertKey:
        return AlertKey(self.area, self.hazard, self.rule)


@dataclass(frozen=True, slots=True, order=True)
class AlertKey:
    """Identity of an alert: (area, hazard, rule). ``str()`` is the stable wire form."""

    area: str
    hazard: Hazard
    rule: str

    def __str__(self) -> str:
        return f"{self.area}/{self.hazard.value}/{self.rule}"

    @classmethod
    def parse(cls, text: str) -> AlertKey:
        area, hazard, rule = text.rsplit("/", 2)
        return cls(area, Hazard(hazard), rule)


class AlertState(enum.StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Alert:
    """The alert book's state for one key. ``version`` increases by one per transition."""

    key: AlertKey
    district: str
    grade: Grade
    state: AlertState
    version: int
    first_ts: float
    last_ts: float
    findings: tuple[Finding, ...] = ()
    is_drill: bool = False


class NoticeReason(enum.StrEnum):
    """Why a notice was emitted: one per alert transition."""

    FIRED = "fired"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    REMINDER = "reminder"


@dataclass(frozen=True, slots=True)
class Notice:
    """One alert transition to be delivered. Delivery is at least once; receivers dedupe on
    :attr:`idempotency_key` = ``"{alert key}#{version}"``.
    """

    key: AlertKey
    version: int
    reason: NoticeReason
    grade: Grade
    previous_grade: Grade
    state: AlertState
    district: str
    ts: float
    value: float | None = None
    threshold: float | None = None
    quantity: str = ""
    message: str = ""
    source_ts: float | None = None
    is_drill: bool = False
    stations: tuple[str, ...] = ()

    @property
    def idempotency_key(self) -> str:
        return f"{self.key}#{self.version}"

    @property
    def hazard(self) -> Hazard:
        return self.key.hazard

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form used by notifiers and the journal."""
        return {
            "idempotency_key": self.idempotency_key,
            "key": str(self.key),
            "area": self.key.area,
            "hazard": self.key.hazard.value,
            "rule": self.key.rule,
            "version": self.version,
            "reason": self.reason.value,
            "grade": self.grade.value,
            "previous_grade": self.previous_grade.value,
            "state": self.state.value,
            "district": self.district,
            "ts": self.ts,
            "value": self.value,
            "threshold": self.threshold,
            "quantity": self.quantity,
            "message": self.message,
            "source_ts": self.source_ts,
            "is_drill": self.is_drill,
            "stations": list(self.stations),
        }
