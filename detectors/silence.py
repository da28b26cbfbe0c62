"""The station-health finding for silence: ``sensor/silence``, one per station.

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
from typing import TYPE_CHECKING, Any

from detectors import _text
from detectors.station import StationDetector
from yujing.contracts import Finding, Grade, Hazard, Kind, Reading

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["SILENCE_RULE", "SilenceDetector"]

SILENCE_RULE = "silence"


class SilenceDetector(StationDetector):
    """Emits ``sensor/silence`` blue on silence and none on return; grades no hazard rule."""

    family = "silence"
    judges_quality = False  # every reading is evidence of life, plausible or not

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        # seismic channels may share one seq counter: no hold there (as IntensityDetector)
        self.holds = station.kind is not Kind.SEISMIC
        self._silent_since: float | None = None  # last data time when the silence began

    def _graded(self, rules: Sequence[RuleSpec]) -> Sequence[RuleSpec]:
        return ()

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        return []

    def _on_silence(self, now: float) -> list[Finding]:
        silent_for = self._silence.silent_for_s()
        self._silent_since = self._silence.last_data_ts
        return [
            self._sensor(
                Grade.BLUE,
                now,
                silent_for,
                None,
                _text.silent(silent_for, self._silence.limit_s, Grade.BLUE),
            )
        ]

    def _on_return(self, reading: Reading) -> list[Finding]:
        gap = None if self._silent_since is None else reading.ts - self._silent_since
        shown = "" if gap is None else f" after {gap:.0f} s of silence"
        return [self._sensor(Grade.NONE, reading.ts, gap, reading.ts, f"data again{shown}")]

    def _sensor(
        self,
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
            threshold=self._silence.limit_s if grade is Grade.BLUE else None,
            quantity="silence_s",
            station=self.station.id,
            message=message,
            evidence={"limit_s": self._silence.limit_s, "interval_s": self.station.interval_s},
            source_ts=source_ts,
        )

    def _snapshot_extra(self) -> dict[str, Any]:
        return {"silent_since": self._silent_since}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        self._silent_since = extra["silent_since"]
