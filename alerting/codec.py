"""Plain-JSON forms of :class:`Finding`, :class:`Alert`, :class:`Notice` and
:class:`~alerting.model.Delivery`, for the journal, the outbox and snapshots.

Why here and not in ``yujing.contracts``: the contracts stay logic-free (decision 0001), and only
the alerting stage needs to read these back. :meth:`Notice.to_json` already lives with its type
because every notifier sends it.

Round trip:

>>> f = Finding("S012", "district-a", Hazard.EARTHQUAKE, "intensity", Grade.RED, ts=100.0,
...             value=7.3, threshold=7.0, station="S012", evidence={"pga": (0.5, 0.4)})
>>> back = finding_from_json(finding_to_json(f))
>>> back.grade, back.value, back.evidence
(<Grade.RED: 'red'>, 7.3, {'pga': [0.5, 0.4]})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from alerting.model import Delivery
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

__all__ = [
    "alert_from_json",
    "alert_to_json",
    "delivery_from_json",
    "delivery_to_json",
    "finding_from_json",
    "finding_to_json",
    "notice_from_json",
]


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data. Evidence is free-form detector output: numpy values become
    Python numbers, tuples become lists, anything else unknown its ``repr`` (a snapshot must
    never fail because a detector attached an odd object)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return _plain(tolist())
    return repr(value)


def finding_to_json(finding: Finding) -> dict[str, Any]:
    data = _fields(finding)
    data["hazard"] = finding.hazard.value
    data["grade"] = finding.grade.value
    data["evidence"] = _plain(finding.evidence)
    return data


def finding_from_json(data: Mapping[str, Any]) -> Finding:
    values = dict(data)
    values["hazard"] = Hazard(values["hazard"])
    values["grade"] = Grade(values["grade"])
    values["evidence"] = dict(values.get("evidence") or {})
    return Finding(**values)


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return {
        "key": str(alert.key),
        "district": alert.district,
        "grade": alert.grade.value,
        "state": alert.state.value,
        "version": alert.version,
        "first_ts": alert.first_ts,
        "last_ts": alert.last_ts,
        "findings": [finding_to_json(f) for f in alert.findings],
        "is_drill": alert.is_drill,
    }


def alert_from_json(data: Mapping[str, Any]) -> Alert:
    return Alert(
        key=AlertKey.parse(data["key"]),
        district=data["district"],
        grade=Grade(data["grade"]),
        state=AlertState(data["state"]),
        version=int(data["version"]),
        first_ts=float(data["first_ts"]),
        last_ts=float(data["last_ts"]),
        findings=tuple(finding_from_json(f) for f in data.get("findings", ())),
        is_drill=bool(data.get("is_drill", False)),
    )


def notice_from_json(data: Mapping[str, Any]) -> Notice:
    """Inverse of :meth:`Notice.to_json`.

    >>> n = Notice(AlertKey("S1", Hazard.FLOOD, "level"), 2, NoticeReason.UPGRADED, Grade.RED,
    ...            Grade.ORANGE, AlertState.FIRING, "d1", 10.0, stations=("S1",))
    >>> notice_from_json(n.to_json()) == n
    True
    """
    return Notice(
        key=AlertKey.parse(data["key"]),
        version=int(data["version"]),
        reason=NoticeReason(data["reason"]),
        grade=Grade(data["grade"]),
        previous_grade=Grade(data["previous_grade"]),
        state=AlertState(data["state"]),
        district=data["district"],
        ts=float(data["ts"]),
        value=data.get("value"),
        threshold=data.get("threshold"),
        quantity=data.get("quantity", ""),
        message=data.get("message", ""),
        source_ts=data.get("source_ts"),
        is_drill=bool(data.get("is_drill", False)),
        stations=tuple(data.get("stations", ())),
    )


def delivery_to_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "notice": delivery.notice.to_json(),
        "channel": delivery.channel,
        "officer": delivery.officer,
        "address": delivery.address,
        "officer_name": delivery.officer_name,
        "ack_url": delivery.ack_url,
    }


def delivery_from_json(data: Mapping[str, Any]) -> Delivery:
    return Delivery(
        notice=notice_from_json(data["notice"]),
        channel=data["channel"],
        officer=data.get("officer", ""),
        address=data.get("address", ""),
        officer_name=data.get("officer_name", ""),
        ack_url=data.get("ack_url", ""),
    )
