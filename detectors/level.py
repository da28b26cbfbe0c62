"""One detector for instantaneous quantities: each reading's value goes straight to the ladder.

Serves the water level (``level``, ``level_m``), ponding (``depth``, ``depth_cm``), combustible
gas (``ch4``, ``ch4_pct_lel``), toxic gases (``nh3``, ``cl2``, ``h2s`` in ppm) and tank
(``tank_pressure``, ``tank_temperature``) rules; they differ only by ladder (``configs/ladders``).

- A rule is evaluated only when a reading carries one of the quantities its ladder reads, so a
  chem station that measures only NH3 keeps its Cl2, H2S and tank rules ``unknown`` and emits
  nothing for them.
- A late reading (older than the newest applied) describes the past: it is evaluated at the
  current evaluation time and may raise a grade or cancel a pending step-down, never lower a
  grade or start a dwell (see :mod:`detectors.station`). Shuffles within one tick are undone
  first by the ``seq`` hold, so they are not late.
- ``advance`` only watches for silence: the grade of an instantaneous value changes with data.

>>> from pathlib import Path
>>> from yujing.config import load_ladders
>>> from yujing.config.stations import StationSpec
>>> from yujing.contracts import Kind, Reading
>>> station = StationSpec("G1", "", Kind.GAS, "d1", 0.0, 0.0, interval_s=10.0)
>>> book = load_ladders(Path(__file__).parents[1] / "configs" / "ladders")
>>> gas = LadderDetector(station, book.for_station(station))
>>> [f.message for f in gas.update(Reading("G1", Kind.GAS, "d1", 10.0, 1, {"ch4_pct_lel": 3.0}))]
['CH4 3.0 %LEL below every rung (none)']
>>> [f.message for f in gas.update(Reading("G1", Kind.GAS, "d1", 20.0, 2, {"ch4_pct_lel": 27.5}))]
['CH4 27.5 %LEL ≥ 25 %LEL (orange)']
>>> gas.update(Reading("G1", Kind.GAS, "d1", 30.0, 3, {"ch4_pct_lel": 23.0}))  # hysteresis 3
[]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from detectors.ladder import quantities
from detectors.station import StationDetector
from yujing.contracts import Finding, Reading

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["LadderDetector"]


class LadderDetector(StationDetector):
    """Instantaneous values (level, depth, gas concentration, tank pressure/temperature)."""

    family = "ladder"

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        super().__init__(station, rules)
        self._read = frozenset(q for spec in self.rules for q in quantities(spec.ladder))

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        values = {
            q: float(v) for q, v in reading.values.items() if q in self._read and math.isfinite(v)
        }
        if not values:
            return []
        evidence: dict[str, Any] = {"late": True} if late else {}
        return self._step(
            values, self._at(reading.ts), source_ts=reading.ts, late=late, evidence=evidence
        )
