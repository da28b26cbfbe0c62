"""Plain-JSON form of a :class:`~yujing.contracts.Finding`, for second-tier snapshots.

>>> from yujing.contracts import Finding, Grade, Hazard
>>> f = Finding("A", "d1", Hazard.FLOOD, "level", Grade.BLUE, 5.0, value=1.0, station="A")
>>> finding_from_json(finding_to_json(f)) == f
True
"""

from __future__ import annotations

import copy
from typing import Any

from yujing.contracts import Finding, Grade, Hazard

__all__ = ["finding_from_json", "finding_to_json"]


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return {
        "area": finding.area,
        "district": finding.district,
        "hazard": finding.hazard.value,
        "rule": finding.rule,
        "grade": finding.grade.value,
        "ts": finding.ts,
        "value": finding.value,
        "threshold": finding.threshold,
        "quantity": finding.quantity,
        "station": finding.station,
        "message": finding.message,
        "evidence": copy.deepcopy(dict(finding.evidence)),
        "source_ts": finding.source_ts,
        "is_drill": finding.is_drill,
    }


def finding_from_json(data: dict[str, Any]) -> Finding:
    return Finding(
        area=data["area"],
        district=data["district"],
        hazard=Hazard(data["hazard"]),
        rule=data["rule"],
        grade=Grade(data["grade"]),
        ts=data["ts"],
        value=data["value"],
        threshold=data["threshold"],
        quantity=data["quantity"],
        station=data["station"],
        message=data["message"],
        evidence=copy.deepcopy(data["evidence"]),
        source_ts=data["source_ts"],
        is_drill=data["is_drill"],
    )
