"""Station-health findings, one of each per station: ``sensor/silence`` and ``sensor/quality``.

A report is attached to whichever detector watches all of a station's data
(:meth:`detectors.station.StationDetector.report_health`): the station's one hazard detector
when a single detector serves all its rules (rain gauges, water levels, gas and chemical sites),
else a :class:`~detectors.silence.SilenceDetector` and a :class:`~detectors.sensor.QualityDetector`
of its own. The hazard detector's sequence gate, quality gate and silence watch already see every
reading, so separate health detectors only judged the same readings a second and third time, on
every reading and every tick (docs/performance.md).

``sensor/silence``
    ``blue`` when the station has sent nothing for more than its silence limit (``value``: the
    seconds of silence, ``threshold``: the limit), ``none`` when data comes back.
``sensor/quality``
    ``blue`` while any quantity is persistently suspect (``value``: how many;
    ``evidence["suspect"]``: quantity → reason, ``evidence["excluded"]``: recent exclusions),
    ``none`` when all are plausible again.

Nothing is emitted before the first problem: both keys start, and stay, clear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from detectors import _text
from detectors._silence import SilenceWatch
from yujing.config.stations import StationSpec  # at run time: a compiled dataclass needs it
from yujing.contracts import Finding, Grade, Hazard

__all__ = ["QUALITY_RULE", "SILENCE_RULE", "QualityReport", "SilenceReport"]

SILENCE_RULE = "silence"
QUALITY_RULE = "quality"


@dataclass(slots=True)
class SilenceReport:
    """``sensor/silence`` of one station, from its detector's :class:`SilenceWatch`."""

    station: StationSpec
    silent_since: float | None = None  # last data time when the silence began

    def silent(self, watch: SilenceWatch, now: float) -> Finding:
        """The watch has just found the station silent at ``now``."""
        silent_for = watch.silent_for_s()
        self.silent_since = watch.last_data_ts
        message = _text.silent(silent_for, watch.limit_s, Grade.BLUE)
        return self._finding(watch, Grade.BLUE, now, silent_for, None, message)

    def back(self, watch: SilenceWatch, ts: float) -> Finding:
        """Data at ``ts`` has ended the silence."""
        gap = None if self.silent_since is None else ts - self.silent_since
        shown = "" if gap is None else f" after {gap:.0f} s of silence"
        return self._finding(watch, Grade.NONE, ts, gap, ts, f"data again{shown}")

    def _finding(
        self,
        watch: SilenceWatch,
        grade: Grade,
        ts: float,
        value: float | None,
        source_ts: float | None,
        message: str,
    ) -> Finding:
        return Finding(
            area=self.station.id,
            district=self.station.district,
            hazard=Hazard.SENSOR,
            rule=SILENCE_RULE,
            grade=grade,
            ts=ts,
            value=value,
            threshold=watch.limit_s if grade is Grade.BLUE else None,
            quantity="silence_s",
            station=self.station.id,
            message=message,
            evidence={"limit_s": watch.limit_s, "interval_s": self.station.interval_s},
            source_ts=source_ts,
        )


@dataclass(slots=True)
class QualityReport:
    """``sensor/quality`` of one station, from its detector's quality gate verdicts."""

    station: StationSpec
    reported: Grade = Grade.NONE

    def changed(
        self, blocked: Mapping[str, str], excluded: Mapping[str, Any], at: float
    ) -> list[Finding]:
        """The set of persistently suspect quantities is now ``blocked``."""
        grade = Grade.BLUE if blocked else Grade.NONE
        if grade is self.reported:
            return []
        self.reported = grade
        if grade is Grade.BLUE:
            shown = ", ".join(f"{q} ({r})" for q, r in sorted(blocked.items()))
            message = f"suspect sensor: {shown}"
        else:
            message = "sensor readings plausible again"
        evidence: dict[str, Any] = {"suspect": dict(blocked)}
        if excluded:
            evidence["excluded"] = excluded
        return [
            Finding(
                area=self.station.id,
                district=self.station.district,
                hazard=Hazard.SENSOR,
                rule=QUALITY_RULE,
                grade=grade,
                ts=at,
                value=float(len(blocked)),
                threshold=None,
                quantity="suspect_quantities",
                station=self.station.id,
                message=message,
                evidence=evidence,
                source_ts=at,
            )
        ]
