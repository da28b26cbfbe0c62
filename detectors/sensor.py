"""The station-health finding for sensor quality: ``sensor/quality``.

Every station gets one :class:`QualityDetector` (as it gets one silence watch). It runs the same
:class:`~detectors.quality.QualityGate` as the station's hazard detectors (same specs, same
readings, so the same verdicts) and reports:

``sensor/quality`` blue while any quantity is persistently suspect (``value`` = number of such
quantities; ``evidence["suspect"]`` = quantity → reason, ``evidence["excluded"]`` = recent
exclusions), ``none`` when all are clear again. Nothing is emitted before the first problem (the
key starts, and stays, clear). Drift against neighbours (``sensor/drift``) and clock lag
(``sensor/clock_skew``) need other stations and are judged in the second tier
(:mod:`detectors.drift`, :mod:`detectors.skew`).

>>> from pathlib import Path
>>> from yujing.config import load_ladders
>>> from yujing.config.stations import StationSpec
>>> from yujing.contracts import Kind, Reading
>>> book = load_ladders(Path(__file__).parents[1] / "configs" / "ladders")
>>> site = StationSpec("G1", "", Kind.GAS, "d1", 0.0, 0.0, interval_s=600.0)
>>> health = QualityDetector(site, book.for_station(site))
>>> out = []
>>> for i in range(40):                      # stuck at 7.0 %LEL for more than 6 h
...     out += health.update(Reading("G1", Kind.GAS, "d1", 600.0 * i, i, {"ch4_pct_lel": 7.0}))
>>> [(f.rule, f.grade.value, f.message) for f in out]
[('quality', 'blue', 'suspect sensor: ch4_pct_lel (stuck)')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from detectors.station import StationDetector
from yujing.contracts import Finding, Grade, Hazard, Kind, Reading

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["QUALITY_RULE", "QualityDetector"]

QUALITY_RULE = "quality"


class QualityDetector(StationDetector):
    """Emits ``sensor/quality`` for its station; grades no rule."""

    family = "quality"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        self.holds = station.kind is not Kind.SEISMIC
        self._reported: Grade = Grade.NONE

    def _graded(self, rules: Sequence[RuleSpec]) -> Sequence[RuleSpec]:
        return ()

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        return []

    def _on_quality(self, before: Mapping[str, str], at: float) -> list[Finding]:
        grade = Grade.BLUE if self._blocked else Grade.NONE
        if grade is self._reported:
            return []
        self._reported = grade
        if grade is Grade.BLUE:
            shown = ", ".join(f"{q} ({r})" for q, r in sorted(self._blocked.items()))
            message = f"suspect sensor: {shown}"
        else:
            message = "sensor readings plausible again"
        evidence = {"suspect": dict(self._blocked), **self._exclusions()}
        return [self._sensor(grade, at, float(len(self._blocked)), message, evidence)]

    def _exclusions(self) -> dict[str, Any]:
        excluded = self._quality.recent_exclusions()
        return {"excluded": excluded} if excluded else {}

    def _sensor(
        self,
        grade: Grade,
        ts: float,
        value: float | None,
        message: str,
        evidence: dict[str, Any],
    ) -> Finding:
        return Finding(
            area=self.station.id,
            district=self.station.district,
            hazard=Hazard.SENSOR,
            rule=QUALITY_RULE,
            grade=grade,
            ts=ts,
            value=value,
            threshold=None,
            quantity="suspect_quantities",
            station=self.station.id,
            message=message,
            evidence=evidence,
            source_ts=ts,
        )

    def _snapshot_extra(self) -> dict[str, Any]:
        return {"reported": self._reported.value}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        self._reported = Grade(extra["reported"])
