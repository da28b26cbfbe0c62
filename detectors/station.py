"""What every per-station detector shares: sequencing, silence, publishing grades as findings.

A :class:`StationDetector` owns one station and some of its rules. Subclasses turn readings into
values (rain totals, a level, an intensity) and call :meth:`StationDetector._step`, which applies
the one ladder engine (:func:`detectors.ladder.next_grade`) to every rule and emits a finding when
a rule's grade changes. Everything else lives here, once:

Time
    Event time only. ``_eval_ts`` is the time of the last ladder evaluation and never goes back; a
    reading is evaluated at ``max(_eval_ts, reading.ts)``. ``advance(now)`` expects the runtime's
    clock in the sensors' time frame (DESIGN §6: the runtime passes ``now``).

Late readings
    A reading older than the newest one already applied is *late*. Detectors of instantaneous
    values evaluate it at the current evaluation time with ``late=True``: the ladder's answer is
    kept only if it is more alarming (a higher grade, or a pending step-down cancelled), so stale
    evidence of danger still counts but stale calm never lowers a grade nor starts a dwell. Rain
    recomputes its totals at the current time instead (see :mod:`detectors.rain`). Within one
    tick a shuffled burst is first put back in ``seq`` order by
    :class:`detectors._sequence.SequenceGate`, so it is not late at all.

Silence
    No reading for more than ``limit = factor × station.interval_s`` (``factor``: station param
    ``silence_factor``, else the smallest rule param ``silence_factor``, else
    :data:`SILENCE_FACTOR_DEFAULT` = 3) and every rule that had published a grade publishes
    ``unknown`` (never ``none``). While silent, ladders are still stepped by readings (that data is
    real), but ``advance`` does not step them (no step-down while blind) and nothing is published.
    When a reading brings the newest data back within the limit of the clock, each rule publishes
    its ladder grade again. :class:`detectors.silence.SilenceDetector` emits the one
    ``sensor/silence`` finding per station from the same
    :class:`~detectors._silence.SilenceWatch`.

Warm-up
    A rule starts ``unknown`` and publishes nothing until its quantity is first evaluated; that
    evaluation publishes its grade (``none`` included), so the alert book can resolve.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from detectors import _text
from detectors._sequence import SequenceGate
from detectors._silence import SILENCE_FACTOR_DEFAULT, SilenceWatch, silence_limit_s
from detectors.ladder import LadderState, next_grade, quantities
from yujing.contracts import ConfigError, Finding, Grade, Reading

__all__ = ["SILENCE_FACTOR_DEFAULT", "StationDetector", "silence_limit_s"]

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

SNAPSHOT_VERSION = 1


def _more_alarming(new: LadderState, old: LadderState) -> bool:
    """A higher grade, or the same grade with its pending step-down cancelled."""
    if new.grade.rank != old.grade.rank:
        return new.grade.rank > old.grade.rank
    return old.below_since is not None and new.below_since is None


@dataclass(slots=True)
class _Track:
    """One rule: where it stands on its ladder, and the grade last published for it."""

    state: LadderState = field(default_factory=LadderState)
    published: Grade = Grade.UNKNOWN


class StationDetector:
    """Base of the per-station detectors; implements the :class:`detectors.base.Detector`
    protocol. Subclasses override :meth:`_apply` and may override :meth:`_expire`,
    :meth:`_check`, :meth:`_quantity_evidence` and the ``_*_extra`` snapshot hooks."""

    family: ClassVar[str] = "station"
    holds: bool = True  # hold readings behind a seq gap until the gap fills or the next tick

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        self.station = station
        self.rules: tuple[RuleSpec, ...] = tuple(self._graded(rules))
        self._check()
        self._gate = SequenceGate()
        self._silence = SilenceWatch(silence_limit_s(station, rules))
        # (rule, its key in snapshots, the quantities its ladder reads), in rule order
        self._plan = tuple(
            (spec, f"{spec.hazard.value}/{spec.rule}", quantities(spec.ladder))
            for spec in self.rules
        )
        if len({key for _, key, _ in self._plan}) != len(self._plan):
            raise ConfigError(f"station {station.id}: a (hazard, rule) is given twice")
        self._tracks = {key: _Track() for _, key, _ in self._plan}
        self._values: dict[str, float] = {}
        self._evidence: dict[str, Any] = {}
        self._head_ts: float | None = None
        self._eval_ts: float | None = None

    # -- the Detector protocol -----------------------------------------------------------------

    def update(self, reading: Reading) -> list[Finding]:
        if reading.station != self.station.id:
            raise ValueError(
                f"{type(self).__name__} of station {self.station.id!r} got a reading of "
                f"{reading.station!r}"
            )
        out: list[Finding] = []
        for ready in self._gate.admit(reading, hold=self.holds):
            out.extend(self._take(ready))
        return out

    def advance(self, now: float) -> list[Finding]:
        out: list[Finding] = []
        for ready in self._gate.release():
            out.extend(self._take(ready))
        if self._silence.tick(now):
            out.extend(self._on_silence(now))
        if not self._silence.silent:
            out.extend(self._expire(now))
        return out

    def snapshot(self) -> dict[str, Any]:
        s = self._silence
        return {
            "family": self.family,
            "version": SNAPSHOT_VERSION,
            "gate": self._gate.snapshot(),
            "silence": {
                "last_data_ts": s.last_data_ts,
                "clock": s.clock,
                "first_clock": s.first_clock,
                "silent": s.silent,
            },
            "rules": {
                key: {
                    "grade": t.state.grade.value,
                    "since": t.state.since,
                    "below_since": t.state.below_since,
                    "published": t.published.value,
                }
                for key, t in self._tracks.items()
            },
            "values": dict(self._values),
            "evidence": copy.deepcopy(self._evidence),
            "head_ts": self._head_ts,
            "eval_ts": self._eval_ts,
            "extra": self._snapshot_extra(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        if state.get("family") != self.family or state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(
                f"snapshot of {state.get('family')!r} v{state.get('version')} cannot restore a "
                f"{self.family!r} v{SNAPSHOT_VERSION} detector"
            )
        self._gate.restore(state["gate"])
        silence = state["silence"]
        self._silence = SilenceWatch(
            self._silence.limit_s,
            silence["last_data_ts"],
            silence["clock"],
            silence["first_clock"],
            silence["silent"],
        )
        self._tracks = {key: _Track() for _, key, _ in self._plan}
        for key, saved in state["rules"].items():
            if key in self._tracks:  # a rule removed from config since: dropped
                self._tracks[key] = _Track(
                    LadderState(Grade(saved["grade"]), saved["since"], saved["below_since"]),
                    Grade(saved["published"]),
                )
        self._values = {k: float(v) for k, v in state["values"].items()}
        self._evidence = copy.deepcopy(state["evidence"])
        self._head_ts = state["head_ts"]
        self._eval_ts = state["eval_ts"]
        self._restore_extra(state["extra"])

    def _take(self, reading: Reading) -> list[Finding]:
        """Apply one reading the gate let through."""
        late = self._head_ts is not None and reading.ts < self._head_ts
        out = self._apply(reading, late=late)
        self._head_ts = reading.ts if self._head_ts is None else max(self._head_ts, reading.ts)
        if self._silence.saw(reading.ts):
            out.extend(self._on_return(reading))
        return out

    # -- hooks for subclasses --------------------------------------------------------------

    def _graded(self, rules: Sequence[RuleSpec]) -> Sequence[RuleSpec]:
        """The rules this detector grades (all given, unless a subclass says otherwise)."""
        return rules

    def _check(self) -> None:
        """Raise ConfigError for a rule this detector cannot serve."""

    def _apply(self, reading: Reading, *, late: bool) -> list[Finding]:
        """Turn one in-sequence reading into values and :meth:`_step` them."""
        raise NotImplementedError

    def _expire(self, now: float) -> list[Finding]:
        """Time-driven evaluation at ``now`` (not called while silent)."""
        return []

    def _quantity_evidence(self, quantity: str) -> dict[str, Any]:
        return {}

    def _snapshot_extra(self) -> dict[str, Any]:
        return {}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        """Restore what :meth:`_snapshot_extra` saved."""

    # -- shared machinery ---------------------------------------------------------------------

    def _at(self, ts: float) -> float:
        """Evaluation time for data at ``ts``: never before the last evaluation."""
        return ts if self._eval_ts is None else max(self._eval_ts, ts)

    def _step(
        self,
        values: Mapping[str, float],
        at: float,
        *,
        source_ts: float | None,
        late: bool = False,
        evidence: Mapping[str, Any] | None = None,
    ) -> list[Finding]:
        """Evaluate every rule that reads one of ``values`` at event time ``at``."""
        self._eval_ts = self._at(at)
        evidence = dict(evidence or {})
        if not late:
            self._values.update(values)
            self._evidence = evidence
        out: list[Finding] = []
        for spec, key, reads in self._plan:
            if not any(q in values for q in reads):
                continue  # quantity never arrived (yet): stays as it is
            track = self._tracks[key]
            state = next_grade(spec.ladder, track.state, values, at)
            if late and not _more_alarming(state, track.state):
                continue  # stale data takes no step towards a lower grade
            track.state = state
            out.extend(self._publish(spec, track, values, at, source_ts, evidence))
        return out

    def _publish(
        self,
        spec: RuleSpec,
        track: _Track,
        values: Mapping[str, float],
        at: float,
        source_ts: float | None,
        evidence: Mapping[str, Any],
    ) -> list[Finding]:
        grade = track.state.grade
        if self._silence.silent or grade is track.published:
            return []
        finding = self._finding(spec, grade, track.published, values, at, source_ts, evidence)
        track.published = grade
        return [finding]

    def _on_silence(self, now: float) -> list[Finding]:
        evidence = {"silent_for_s": self._silence.silent_for_s(), "limit_s": self._silence.limit_s}
        out = []
        for spec, key, _ in self._plan:
            track = self._tracks[key]
            if track.published is not Grade.UNKNOWN:
                out.append(
                    self._finding(spec, Grade.UNKNOWN, track.published, {}, now, None, evidence)
                )
                track.published = Grade.UNKNOWN
        return out

    def _on_return(self, reading: Reading) -> list[Finding]:
        at = self._at(reading.ts)
        out = []
        for spec, key, _ in self._plan:
            track = self._tracks[key]
            out.extend(self._publish(spec, track, self._values, at, reading.ts, self._evidence))
        return out

    def _finding(
        self,
        spec: RuleSpec,
        grade: Grade,
        previous: Grade,
        values: Mapping[str, float],
        at: float,
        source_ts: float | None,
        evidence: Mapping[str, Any],
    ) -> Finding:
        ladder = spec.ladder
        threshold: float | None = None
        if grade is Grade.UNKNOWN:
            quantity = ladder.quantity
            message = _text.silent(
                float(evidence["silent_for_s"]), float(evidence["limit_s"]), grade
            )
        elif grade is Grade.NONE:
            left = ladder.rung_for(previous) if previous.is_warning else None
            quantity = ladder.quantity if left is None else ladder.quantity_of(left)
            message = _text.cleared(
                quantity,
                values.get(quantity),
                None if left is None else left.enter,
                0.0 if left is None else left.hysteresis,
                0.0 if left is None else left.min_dwell_s,
                previous,
            )
        else:
            rung = ladder.rung_for(grade)
            assert rung is not None  # next_grade only returns a rung's grade, none or unknown
            quantity, threshold = ladder.quantity_of(rung), rung.enter
            message = _text.reached(quantity, values.get(quantity), rung.enter, grade, previous)
        value = None if grade is Grade.UNKNOWN else values.get(quantity)
        return Finding(
            area=self.station.id,
            district=self.station.district,
            hazard=spec.hazard,
            rule=spec.rule,
            grade=grade,
            ts=at,
            value=value,
            threshold=threshold,
            quantity=quantity,
            station=self.station.id,
            message=message,
            evidence={**evidence, **self._quantity_evidence(quantity)},
            source_ts=source_ts,
        )
