"""The station-health finding for sensor quality: ``sensor/quality``.

A station whose rules one hazard detector serves gets ``sensor/quality`` from that detector
(:mod:`detectors.health`); any other station with quality checks gets a :class:`QualityDetector`,
which runs the same :class:`~detectors.quality.QualityGate` as its hazard detectors (same specs,
same readings, so the same verdicts) and reports:

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

from collections.abc import Sequence
from typing import TYPE_CHECKING

from detectors.health import QUALITY_RULE
from detectors.station import StationDetector
from yujing.contracts import Finding, Kind, Reading

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["QUALITY_RULE", "QualityDetector"]


class QualityDetector(StationDetector):
    """Emits ``sensor/quality`` (:class:`detectors.health.QualityReport`) for a station whose
    hazard detectors do not report it themselves; grades no rule."""

    family = "quality"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        self.holds = station.kind is not Kind.SEISMIC
        self.report_health(silence=False, quality=True)

    def _graded(self, rules: Sequence[RuleSpec]) -> Sequence[RuleSpec]:
        return ()

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        return []
