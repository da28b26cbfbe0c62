"""The station-health finding for silence: ``sensor/silence``, one per station.

Made by the station's hazard detector when one serves all its rules (:mod:`detectors.health`),
else by a :class:`SilenceDetector` of its own.

When a station has sent nothing for more than its silence limit (see
:func:`detectors.station.silence_limit_s`: ``3 × interval_s`` unless configured), this detector
emits ``hazard=sensor, rule=silence, grade=blue`` ("maintenance attention"), with ``value`` the
seconds of silence and ``threshold`` the limit; when data comes back it emits the same key with
``grade=none``. The hazard detectors of the station turn their own rules ``unknown`` at the same
moment, from the same :class:`~detectors.station.SilenceWatch` logic. Nothing is emitted before
the first silence (the key starts, and stays, clear). A station that never reports goes silent
``limit`` seconds after the first ``advance``.

>>> from yujing.config.stations import StationSpec
>>> from yujing.contracts import Kind, Reading
>>> watch = SilenceDetector(StationSpec("P1", "", Kind.PONDING, "d1", 0.0, 0.0, 60.0), [])
>>> watch.advance(1000.0)   # the runtime starts watching
[]
>>> watch.update(Reading("P1", Kind.PONDING, "d1", 1000.0, 1, {"depth_cm": 0.0}))
[]
>>> watch.advance(1180.0)   # 180 s = 3 × 60 s: not *more* than the limit yet
[]
>>> [(f.grade.value, f.message) for f in watch.advance(1181.0)]
[('blue', 'no data for 181 s (limit 180 s; blue)')]
>>> [(f.grade.value, f.message) for f in watch.update(
...     Reading("P1", Kind.PONDING, "d1", 1185.0, 2, {"depth_cm": 0.0}))]
[('none', 'data again after 185 s of silence')]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from detectors.health import SILENCE_RULE
from detectors.station import StationDetector
from yujing.contracts import Finding, Kind, Reading

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["SILENCE_RULE", "SilenceDetector"]


class SilenceDetector(StationDetector):
    """Emits ``sensor/silence`` (:class:`detectors.health.SilenceReport`) for a station whose
    hazard detectors do not report it themselves; grades no hazard rule."""

    family = "silence"
    judges_quality = False  # every reading is evidence of life, plausible or not

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        # seismic channels may share one seq counter: no hold there (as IntensityDetector)
        self.holds = station.kind is not Kind.SEISMIC
        self.report_health(silence=True, quality=False)

    def _graded(self, rules: Sequence[RuleSpec]) -> Sequence[RuleSpec]:
        return ()

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        return []
