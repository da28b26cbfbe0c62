"""When is a station silent? One small state machine shared by every per-station detector.

The limit is ``factor × station.interval_s``; ``factor`` is the station param ``silence_factor``,
else the smallest rule param ``silence_factor`` of the station's rules, else
:data:`SILENCE_FACTOR_DEFAULT` (3: three missed reports). Silent means *more than* the limit
between the clock (the newest ``advance`` time) and the newest data, where data older than the
first ``advance`` counts as seen at that first ``advance``: a runtime that has just started (or a
demo that uploads hours of history at start-up) cannot tell a silent station from its own absence,
so every station gets one full limit of watching before it can be called silent.

>>> watch = SilenceWatch(limit_s=30.0)
>>> watch.tick(100.0), watch.saw(100.0), watch.tick(130.0), watch.tick(131.0)
(False, False, False, True)
>>> late = SilenceWatch(limit_s=30.0)
>>> late.saw(10.0), late.tick(100.0), late.tick(130.0), late.tick(131.0)  # old data: grace
(False, False, False, True)
>>> watch.saw(95.0), watch.saw(101.0)   # old data does not end it; data within 30 s does
(False, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from yujing.contracts import ConfigError

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["SILENCE_FACTOR_DEFAULT", "SilenceWatch", "silence_limit_s"]

SILENCE_FACTOR_DEFAULT = 3.0


def _factor(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}: must be a number > 0, got {value!r}")
    return float(value)


def silence_limit_s(station: StationSpec, rules: Sequence[RuleSpec]) -> float:
    """Seconds without data after which a station is silent (see the module docstring)."""
    if "silence_factor" in station.params:
        where = f"station {station.id}: param silence_factor"
        factor = _factor(station.params["silence_factor"], where)
    else:
        factors = [
            _factor(r.params["silence_factor"], f"rule {r.rule!r}: param silence_factor")
            for r in rules
            if "silence_factor" in r.params
        ]
        factor = min(factors, default=SILENCE_FACTOR_DEFAULT)
    return factor * station.interval_s


@dataclass(slots=True)
class SilenceWatch:
    """Is the station silent? (see the module docstring)"""

    limit_s: float
    last_data_ts: float | None = None
    clock: float | None = None
    first_clock: float | None = None
    silent: bool = False

    def silent_for_s(self) -> float:
        if self.clock is None or self.first_clock is None:
            return 0.0
        reference = self.first_clock
        if self.last_data_ts is not None:
            reference = max(reference, self.last_data_ts)
        return self.clock - reference

    def saw(self, ts: float) -> bool:
        """Record data at ``ts``; True when this ends a silence."""
        self.last_data_ts = ts if self.last_data_ts is None else max(self.last_data_ts, ts)
        if self.silent and self.silent_for_s() <= self.limit_s:
            self.silent = False
            return True
        return False

    def tick(self, now: float) -> bool:
        """Let the clock reach ``now``; True when this starts a silence. (Runs for every
        station on every tick: :meth:`silent_for_s` written out.)"""
        clock = self.clock
        if clock is None or now > clock:
            self.clock = clock = now
        reference = self.first_clock
        if reference is None:
            self.first_clock = reference = now
        if self.silent:
            return False
        last = self.last_data_ts
        if last is not None and last > reference:
            reference = last
        if clock - reference > self.limit_s:
            self.silent = True
            return True
        return False
