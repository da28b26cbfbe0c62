"""Sensor quality: which readings are suspect, kept out of every hazard finding.

A :class:`QualityGate` sits in front of each per-station detector (after the ``seq`` gate) and
judges each reading's values, quantity by quantity, with the checks configured for it in the
``quality:`` block of the ladder files (:class:`QualitySpec`, :class:`ClockSpec`):

``range``
    Outside the sensor's span ``[span_min, span_max]``.
``spike``
    Hampel test: ``|x - median| > k · max(1.4826 · MAD, floor)`` over the last ``window``
    accepted values. A deviant value is *held* until the station's next reading decides: if that
    one deviates to the same side too, the change is real and both are applied (a flash flood's
    rise costs one report interval of delay, never a miss); if it comes back, the held value was
    a spike and is excluded. A held value whose successor does not come within
    ``hold_s`` of the runtime clock is applied as it is (a gauge that died at the crest keeps
    its last value).
``stuck``
    The value stayed within ``tolerance`` for ``duration_s`` or longer (readings below
    ``exempt_below`` are allowed to be flat: a dry underpass, clean air).
``clock_ahead``
    Event time more than ``ahead_s`` (default 1 h) after the runtime clock: a sensor clock that
    far ahead would corrupt every window. (Ingest already refuses event times more than its
    ``future_tolerance_s`` ahead of the wall clock; this is the detectors' own guard for replays
    and recordings.)
``sensor_flag``
    The sensor itself flagged the reading (``quality`` of ``bad``, ``suspect`` or ``invalid``).

Drift against neighbours (``drift_limit``, ``drift_window_s``) needs other stations' readings and
is judged in the second tier (:mod:`detectors.drift`).

A suspect value is removed from the reading the detector sees (the reading itself is not
changed). A quantity is *persistently* suspect while at least ``persist_n`` of its last
``persist_m`` readings were suspect, or while it is stuck; then every value of it is excluded,
the rules reading it turn ``unknown`` (:meth:`detectors.station.StationDetector._blind`) and
:class:`~detectors.sensor.QualityDetector` raises ``sensor/quality`` for the station. A clock
that *lags* is judged against the other stations in the second tier
(:mod:`detectors.skew`): its readings are real, only late, and are kept.

>>> spec = QualitySpec(span_min=0.0, span_max=100.0, spike_window=5, spike_k=5.0,
...                    spike_floor=0.5)
>>> gate = QualityGate({"depth_cm": spec})
>>> from yujing.contracts import Kind, Reading
>>> def r(seq, depth): return Reading("P1", Kind.PONDING, "d", 60.0 * seq, seq,
...                                   {"depth_cm": depth})
>>> [len(gate.admit(r(i, 2.0), None)) for i in range(1, 6)]
[1, 1, 1, 1, 1]
>>> gate.admit(r(6, 80.0), None)           # deviant: held until the next reading decides
[]
>>> [dict(x.values) for x in gate.admit(r(7, 2.0), None)]   # it came back: a spike
[{}, {'depth_cm': 2.0}]
>>> gate.recent_exclusions()
{'depth_cm': {'spike': 1}}
>>> [dict(x.values) for x in gate.admit(r(8, 130.0), None)]  # out of span
[{}]
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from detectors._sequence import reading_from_json, reading_to_json
from yujing.contracts import Reading

__all__ = [
    "ClockSpec",
    "QualityGate",
    "QualitySpec",
    "Reason",
    "SENSOR_FLAGS",
]

SENSOR_FLAGS = frozenset({"bad", "suspect", "invalid"})
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution × this = its standard deviation


class Reason:
    """Why a value is suspect (the strings are evidence keys and message words)."""

    RANGE: Final = "range"
    SPIKE: Final = "spike"
    STUCK: Final = "stuck"
    CLOCK_AHEAD: Final = "clock_ahead"
    SENSOR_FLAG: Final = "sensor_flag"


@dataclass(frozen=True, slots=True)
class QualitySpec:
    """Checks for one raw quantity (all optional; see the module docstring)."""

    span_min: float | None = None
    span_max: float | None = None
    spike_window: int = 0
    spike_k: float = 6.0
    spike_floor: float = 0.0
    stuck_s: float = 0.0
    stuck_tolerance: float = 0.0
    stuck_exempt_below: float | None = None
    persist_n: int = 3
    persist_m: int = 5
    drift_limit: float = 0.0
    drift_window_s: float = 21600.0


@dataclass(frozen=True, slots=True)
class ClockSpec:
    """Clock checks for a station: ``ahead_s`` (exclude), ``lag_s`` (report, by
    :mod:`detectors.skew`), ``hold_s`` (how long a deviant value waits for its successor;
    default two report intervals)."""

    ahead_s: float = 3600.0
    lag_s: float = 900.0
    hold_s: float | None = None


@dataclass(slots=True)
class _Track:
    """One quantity's history: accepted values for the Hampel test, the flat run, verdicts."""

    history: list[float] = field(default_factory=list)  # chronological, last spike_window
    flat_since: float | None = None
    flat_low: float = 0.0
    flat_high: float = 0.0
    verdicts: list[str] = field(default_factory=list)  # "" = fine, else the reason; last m
    stuck: bool = False
    persistent: str = ""  # the reason while persistently suspect, else ""
    # the last m verdicts all fine, neither stuck nor persistent: a fine value changes nothing
    clean: bool = False


@dataclass(slots=True)
class _Held:
    reading: Reading
    quantities: tuple[str, ...]
    sides: tuple[int, ...]  # +1 above the baseline, -1 below
    baselines: tuple[float, ...]
    suspect: dict[str, str]  # the other verdicts, taken at admission


class QualityGate:
    """Judges readings of one station (see the module docstring)."""

    def __init__(
        self,
        specs: Mapping[str, QualitySpec],
        clock: ClockSpec | None = None,
        interval_s: float = 60.0,
    ) -> None:
        self.specs = dict(specs)
        self.clock_spec = clock or ClockSpec()
        hold = self.clock_spec.hold_s
        self.hold_s = hold if hold is not None else 2.0 * interval_s
        self._tracks: dict[str, _Track] = {q: _Track() for q in self.specs}
        self._held: _Held | None = None
        self.changes = 0  # bumped whenever the persistent set changes (cheap change test)
        # no Hampel test configured (rain): nothing is ever held, so no deviance to look for
        self._spikes = any(spec.spike_window > 0 for spec in self.specs.values())
        self._plain = self._plain_tracks()

    def _plain_tracks(self) -> tuple[tuple[str, float, float, _Track], ...] | None:
        """Quantity, span and track of each spec when every check is a span check (rain):
        then a fine value in a clean track is all :meth:`passes` needs to look at."""
        if any(spec.spike_window > 0 or spec.stuck_s > 0 for spec in self.specs.values()):
            return None
        return tuple(
            (
                q,
                -math.inf if spec.span_min is None else spec.span_min,
                math.inf if spec.span_max is None else spec.span_max,
                self._tracks[q],
            )
            for q, spec in self.specs.items()
        )

    # -- judging -------------------------------------------------------------------------------

    def admit(self, reading: Reading, clock: float | None) -> list[Reading]:
        """Readings ready to apply (suspect values removed), in order: possibly none (held),
        possibly two (a held one decided by this one)."""
        if self.passes(reading, clock):
            return [reading]
        suspect = self._judge(reading, clock)
        if not self._spikes and self._held is None:
            return [self._accept(reading, suspect)]
        out: list[Reading] = []
        held = self._held
        if held is not None:
            self._held = None
            if self._confirms(held, reading, suspect):
                # a real change: both apply, and the baseline restarts from the new values
                for q in held.quantities:
                    self._tracks[q].history = []
                out.append(self._accept(held.reading, held.suspect))
                out.append(self._accept(reading, suspect))
                return out
            out.append(
                self._accept(
                    held.reading, {**held.suspect, **dict.fromkeys(held.quantities, Reason.SPIKE)}
                )
            )
        deviant = self._deviant(reading, suspect)
        if deviant is not None:
            self._held = deviant
            return out
        out.append(self._accept(reading, suspect))
        return out

    @property
    def holding(self) -> bool:
        """A deviant value waits for its successor (:meth:`release` may apply it)."""
        return self._held is not None

    def passes(self, reading: Reading, clock: float | None) -> bool:
        """Is the reading fine, and does judging it change nothing (:meth:`admit` would return
        just the reading and change no state)? Yes when it is neither flagged nor ahead of the
        clock and every value judged is within its span and goes to a clean track (one more
        fine verdict after m fine ones leaves them as they were). Only for span checks, nothing
        held: for most readings of a healthy gauge, what :meth:`_judge` and :meth:`_accept`
        would do, without doing it."""
        plain = self._plain
        if plain is None or self._held is not None:
            return False
        quality = reading.quality
        if quality is not None and quality != "ok" and quality.lower() in SENSOR_FLAGS:
            return False
        if clock is not None and reading.ts > clock + self.clock_spec.ahead_s:
            return False
        values = reading.values
        for q, low, high, track in plain:
            value = values.get(q)
            if value is not None and not (track.clean and low <= value <= high):
                return False
        return True

    def release(self, now: float) -> list[Reading]:
        """A held value whose successor has not come within ``hold_s``: applied as it is."""
        held = self._held
        if held is None or now - held.reading.ts < self.hold_s:
            return []
        self._held = None
        return [self._accept(held.reading, held.suspect)]

    def persistent(self) -> dict[str, str]:
        """Quantities persistently suspect now, with the most frequent recent reason."""
        return {q: t.persistent for q, t in self._tracks.items() if t.persistent}

    def _follow(self, q: str, track: _Track) -> None:
        """Enter *persistent* at ``persist_n`` bad of the last ``persist_m`` (or stuck); leave
        only when all of the last ``persist_m`` are fine and it is not stuck (no flapping)."""
        before = track.persistent
        bad = [v for v in track.verdicts if v]
        if track.stuck:
            track.persistent = Reason.STUCK
        elif len(bad) >= self.specs[q].persist_n or (track.persistent and bad):
            track.persistent = statistics.mode(bad)
        else:
            track.persistent = ""
        if track.persistent != before:
            self.changes += 1

    def recent_exclusions(self) -> dict[str, dict[str, int]]:
        """Per quantity, how many of its last ``persist_m`` values were excluded, by reason."""
        out: dict[str, dict[str, int]] = {}
        for q, track in self._tracks.items():
            counts: dict[str, int] = {}
            for verdict in track.verdicts:
                if verdict:
                    counts[verdict] = counts.get(verdict, 0) + 1
            if counts:
                out[q] = counts
        return out

    def _judge(self, reading: Reading, clock: float | None) -> dict[str, str]:
        """Range, stuck, clock and sensor-flag verdicts for the quantities with a spec."""
        suspect: dict[str, str] = {}
        ahead = clock is not None and reading.ts > clock + self.clock_spec.ahead_s
        flagged = (reading.quality or "").lower() in SENSOR_FLAGS
        for q, value in reading.values.items():
            spec = self.specs.get(q)
            if spec is None:
                continue
            track = self._tracks[q]
            if flagged:
                suspect[q] = Reason.SENSOR_FLAG
            elif ahead:
                suspect[q] = Reason.CLOCK_AHEAD
            elif (spec.span_min is not None and value < spec.span_min) or (
                spec.span_max is not None and value > spec.span_max
            ):
                suspect[q] = Reason.RANGE
            elif spec.stuck_s > 0 and self._stuck(spec, track, reading.ts, float(value)):
                suspect[q] = Reason.STUCK
        return suspect

    def _stuck(self, spec: QualitySpec, track: _Track, ts: float, value: float) -> bool:
        if spec.stuck_s <= 0:
            return False
        low, high = min(track.flat_low, value), max(track.flat_high, value)
        if track.flat_since is None or high - low > spec.stuck_tolerance or ts < track.flat_since:
            track.flat_since, track.flat_low, track.flat_high = ts, value, value
        else:
            track.flat_low, track.flat_high = low, high
        exempt = spec.stuck_exempt_below is not None and value < spec.stuck_exempt_below
        track.stuck = not exempt and ts - track.flat_since >= spec.stuck_s
        return track.stuck

    def _deviant(self, reading: Reading, suspect: Mapping[str, str]) -> _Held | None:
        quantities, sides, baselines = [], [], []
        for q, value in reading.values.items():
            spec = self.specs.get(q)
            if spec is None or spec.spike_window <= 0 or q in suspect:
                continue
            history = self._tracks[q].history
            if len(history) < spec.spike_window:
                continue
            median, scale = _median_scale(history, spec.spike_floor)
            if abs(value - median) > spec.spike_k * scale:
                quantities.append(q)
                sides.append(1 if value > median else -1)
                baselines.append(median)
        if not quantities:
            return None
        return _Held(reading, tuple(quantities), tuple(sides), tuple(baselines), dict(suspect))

    def _confirms(self, held: _Held, successor: Reading, suspect: Mapping[str, str]) -> bool:
        """Does the next reading deviate to the same side of the old baseline (a real change)?"""
        for q, side, baseline in zip(held.quantities, held.sides, held.baselines, strict=True):
            value = successor.values.get(q)
            if value is None or q in suspect:
                return False  # nothing confirms the change
            _, scale = _median_scale(self._tracks[q].history, self.specs[q].spike_floor)
            if side * (value - baseline) <= self.specs[q].spike_k * scale:
                return False
        return True

    def _accept(self, reading: Reading, suspect: Mapping[str, str]) -> Reading:
        keep: dict[str, float] = {}
        for q, value in reading.values.items():
            spec = self.specs.get(q)
            if spec is None:
                keep[q] = value
                continue
            track = self._tracks[q]
            verdict = suspect.get(q, "")
            _keep_last(track.verdicts, verdict, spec.persist_m)
            if verdict or track.persistent or track.stuck:
                self._follow(q, track)  # else nothing can change: fewer than n were bad before
            track.clean = _clean(track, spec.persist_m)
            if verdict:
                continue
            if spec.spike_window > 0:
                _keep_last(track.history, float(value), spec.spike_window)
            if not track.persistent:
                keep[q] = value
        if len(keep) == len(reading.values):
            return reading
        return replace(reading, values=keep)

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        held = self._held
        return {
            "tracks": {
                q: {
                    "history": list(t.history),
                    "flat_since": t.flat_since,
                    "flat_low": t.flat_low,
                    "flat_high": t.flat_high,
                    "verdicts": list(t.verdicts),
                    "stuck": t.stuck,
                    "persistent": t.persistent,
                }
                for q, t in self._tracks.items()
            },
            "held": None
            if held is None
            else {
                "reading": reading_to_json(held.reading),
                "quantities": list(held.quantities),
                "sides": list(held.sides),
                "baselines": list(held.baselines),
                "suspect": dict(held.suspect),
            },
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._tracks = {q: _Track() for q in self.specs}
        for q, t in state["tracks"].items():
            if q in self._tracks:
                self._tracks[q] = _Track(
                    [float(v) for v in t["history"]],
                    t["flat_since"],
                    float(t["flat_low"]),
                    float(t["flat_high"]),
                    [str(v) for v in t["verdicts"]],
                    bool(t["stuck"]),
                    str(t["persistent"]),
                )
                self._tracks[q].clean = _clean(self._tracks[q], self.specs[q].persist_m)
        self._plain = self._plain_tracks()
        held = state["held"]
        self._held = (
            None
            if held is None
            else _Held(
                reading_from_json(held["reading"]),
                tuple(held["quantities"]),
                tuple(int(s) for s in held["sides"]),
                tuple(float(b) for b in held["baselines"]),
                {str(q): str(v) for q, v in held["suspect"].items()},
            )
        )


def _clean(track: _Track, m: int) -> bool:
    """The last ``m`` verdicts all fine (as many as are kept), not stuck, not persistent."""
    return (
        not track.persistent
        and not track.stuck
        and len(track.verdicts) >= m
        and not any(track.verdicts)
    )


def _keep_last(items: list[Any], item: Any, n: int) -> None:
    """Append ``item``, keeping the last ``n`` (in place: this runs for every value judged)."""
    items.append(item)
    if len(items) > n:
        del items[: len(items) - n]


def _median_scale(history: list[float], floor: float) -> tuple[float, float]:
    """(median, robust standard deviation) of ``history``, the deviation at least ``floor``."""
    ordered = sorted(history)
    median = _middle(ordered)
    deviations = sorted(abs(v - median) for v in ordered)
    return median, max(MAD_TO_SIGMA * _middle(deviations), floor)


def _middle(ordered: list[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])
