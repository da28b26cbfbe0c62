"""Plain-JSON forms of :class:`Finding` and :class:`Alert`, for book snapshots (and the journal).

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

from yujing.contracts import Alert, AlertKey, AlertState, Finding, Grade, Hazard

__all__ = ["alert_from_json", "alert_to_json", "finding_from_json", "finding_to_json"]


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
