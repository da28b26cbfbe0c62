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

Sensor quality
    After the ``seq`` gate, a :class:`~detectors.quality.QualityGate` built from the rules'
    ``quality`` specs removes suspect values (range, spike, stuck, clock ahead, sensor flag)
    before :meth:`_apply` sees the reading. While a raw quantity is *persistently* suspect, the
    rules that read it (:meth:`_inputs`) are not stepped and publish ``unknown``. Every finding
    carries ``evidence["excluded"]`` (recent exclusions per quantity and reason) when there were
    any. :class:`detectors.sensor.QualityDetector` reports the station's quality problems.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from detectors import _text
from detectors._sequence import SequenceGate
from detectors._silence import SILENCE_FACTOR_DEFAULT, SilenceWatch, silence_limit_s
from detectors.health import QualityReport, SilenceReport
from detectors.ladder import LadderState, next_grade, quantities
from detectors.quality import ClockSpec, QualityGate, QualitySpec
from yujing.contracts import ConfigError, Finding, Grade, Kind, Reading

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
    judges_quality: ClassVar[bool] = True  # runs the quality gate (the silence watch does not)
    holds: bool = True  # hold readings behind a seq gap until the gap fills or the next tick

    def __init__(self, station: StationSpec, rules: Sequence[RuleSpec]) -> None:
        self.station = station
        self.rules: tuple[RuleSpec, ...] = tuple(self._graded(rules))
        self._check()
        self._gate = SequenceGate()
        self._quality = _quality_gate(station, rules) if self.judges_quality else QualityGate({})
        self._blocked: dict[str, str] = {}  # raw quantity -> reason, while persistently suspect
        self._quality_seen = 0  # the gate's change count last followed
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
        # station-health reports this detector makes, and what they said during one call
        self._silence_report: SilenceReport | None = None
        self._quality_report: QualityReport | None = None
        self._said_silence: list[Finding] = []
        self._said_quality: list[Finding] = []

    def can_report(self, rules: Sequence[RuleSpec]) -> tuple[bool, bool]:
        """Could this detector report the station's silence, and its quality, as a separate
        silence (quality) detector given all the station's ``rules`` would? Silence needs the
        same readings through the same ``seq`` holding; quality also the same quality checks."""
        station = self.station
        silence = (
            station.kind is not Kind.SEISMIC  # packets are not held; their watch is separate
            and self.holds
            and type(self).update is StationDetector.update
        )
        whole = _quality_gate(station, rules)
        quality = (
            silence
            and self.judges_quality
            and self._quality.specs == whole.specs
            and self._quality.clock_spec == whole.clock_spec
            and self._quality.hold_s == whole.hold_s
        )
        return silence, quality

    def report_health(self, *, silence: bool, quality: bool) -> None:
        """Also emit the station's ``sensor/silence`` and/or ``sensor/quality`` findings
        (:mod:`detectors.health`): for the factory, when this detector sees all the station's
        data. They follow this detector's own findings of the same call, as separate health
        detectors' findings would."""
        self._silence_report = SilenceReport(self.station) if silence else None
        self._quality_report = QualityReport(self.station) if quality else None

    # -- the Detector protocol -----------------------------------------------------------------

    def update(self, reading: Reading) -> list[Finding]:
        if reading.station != self.station.id:
            raise ValueError(
                f"{type(self).__name__} of station {self.station.id!r} got a reading of "
                f"{reading.station!r}"
            )
        if self._gate.in_order(reading):
            out = self._take(reading)
        else:
            out = []
            for ready in self._gate.admit(reading, hold=self.holds):
                out.extend(self._take(ready))
        return self._with_health(out)

    def advance(self, now: float) -> list[Finding]:
        out: list[Finding] = []
        if self._gate.held:
            for ready in self._gate.release():
                out.extend(self._take(ready))
        quality = self._quality
        if quality.holding or quality.changes != self._quality_seen:  # else both give nothing
            for judged in quality.release(now):
                out.extend(self._apply_judged(judged))
            out.extend(self._quality_changed(now))
        silence = self._silence
        if silence.tick(now):
            out.extend(self._on_silence(now))
            if self._silence_report is not None:
                self._said_silence.append(self._silence_report.silent(silence, now))
        if not silence.silent:
            out.extend(self._expire(now))
        return self._with_health(out) if self._said_silence or self._said_quality else out

    def _with_health(self, out: list[Finding]) -> list[Finding]:
        """This call's findings, then its health findings (silence, then quality)."""
        if self._said_silence:
            out.extend(self._said_silence)
            self._said_silence.clear()
        if self._said_quality:
            out.extend(self._said_quality)
            self._said_quality.clear()
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
            "quality": self._quality.snapshot(),
            "blocked": dict(self._blocked),
            "health": {
                "silence": None
                if self._silence_report is None
                else self._silence_report.silent_since,
                "quality": None
                if self._quality_report is None
                else self._quality_report.reported.value,
            },
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
        if "quality" in state:  # snapshots from before the quality gate start it afresh
            self._quality.restore(state["quality"])
            self._blocked = {str(q): str(r) for q, r in state["blocked"].items()}
        self._quality_seen = self._quality.changes = 0
        health = state.get("health") or {}
        if self._silence_report is not None:
            self._silence_report.silent_since = health.get("silence")
        if self._quality_report is not None and health.get("quality") is not None:
            self._quality_report.reported = Grade(health["quality"])
        self._restore_extra(state["extra"])

    def _take(self, reading: Reading) -> list[Finding]:
        """Judge one reading the ``seq`` gate let through, apply what the quality gate passes."""
        quality = self._quality
        if not quality.specs or quality.passes(reading, self._silence.clock):
            # nothing to judge (waveforms), or a fine reading that changes no verdict: the hot
            # path skips the gate (and the persistent set cannot have changed)
            out = self._apply_judged(reading)
        else:
            out = []
            for judged in quality.admit(reading, self._silence.clock):
                out.extend(self._apply_judged(judged))
            out.extend(self._quality_changed(reading.ts))
        if self._silence.saw(reading.ts):
            out.extend(self._on_return(reading))
            if self._silence_report is not None:
                self._said_silence.append(self._silence_report.back(self._silence, reading.ts))
        return out

    def _apply_judged(self, reading: Reading) -> list[Finding]:
        late = self._head_ts is not None and reading.ts < self._head_ts
        out = self._apply(reading, late=late)
        self._head_ts = reading.ts if self._head_ts is None else max(self._head_ts, reading.ts)
        return out

    def _quality_changed(self, at: float) -> list[Finding]:
        """Follow the set of persistently suspect quantities; see :meth:`_on_quality`."""
        if self._quality.changes == self._quality_seen:
            return []
        self._quality_seen = self._quality.changes
        now = self._quality.persistent()
        if now == self._blocked:
            return []
        before, self._blocked = self._blocked, now
        if self._quality_report is not None:
            excluded = self._quality.recent_exclusions()
            self._said_quality.extend(self._quality_report.changed(self._blocked, excluded, at))
        return self._on_quality(before, at)

    def _on_quality(self, before: Mapping[str, str], at: float) -> list[Finding]:
        """Rules reading a newly blocked quantity turn ``unknown``."""
        newly = {q: r for q, r in self._blocked.items() if q not in before}
        keys = [key for spec, key, _ in self._plan if newly.keys() & self._inputs(spec)]
        if not keys:
            return []
        shown = ", ".join(f"{q} ({reason})" for q, reason in sorted(newly.items()))
        return self._blind(keys, self._at(at), f"suspect sensor: {shown}", {"suspect": newly})

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

    def _rule_values(
        self, spec: RuleSpec, key: str, values: Mapping[str, float]
    ) -> Mapping[str, float] | None:
        """The values one rule is graded on (a subclass may substitute, e.g. persistence);
        None while the rule cannot be graded yet."""
        return values

    def _inputs(self, spec: RuleSpec) -> frozenset[str]:
        """The raw reading quantities a rule's grade depends on (its ladder's, unless derived)."""
        return frozenset(quantities(spec.ladder))

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
            if values.keys().isdisjoint(reads):
                continue  # quantity never arrived (yet): stays as it is
            if self._blocked and self._blocked.keys() & self._inputs(spec):
                continue  # blind while its sensor is persistently suspect
            seen = self._rule_values(spec, key, values)
            if seen is None:
                continue  # not enough readings yet for this rule (warm-up)
            track = self._tracks[key]
            state = next_grade(spec.ladder, track.state, seen, at)
            if late and not _more_alarming(state, track.state):
                continue  # stale data takes no step towards a lower grade
            track.state = state
            out.extend(self._publish(spec, track, seen, at, source_ts, evidence))
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

    def _blind(
        self, keys: Sequence[str], at: float, reason: str, evidence: Mapping[str, Any]
    ) -> list[Finding]:
        """The rules ``keys`` lose sight (a waveform gap, a persistently suspect sensor): their
        ladders restart from ``unknown`` and, where a grade was published, ``unknown`` is
        published with ``reason`` as the message."""
        out = []
        for spec, key, _ in self._plan:
            if key not in keys:
                continue
            track = self._tracks[key]
            track.state = LadderState()
            if track.published is not Grade.UNKNOWN and not self._silence.silent:
                shown = {**evidence, "blind": reason}
                out.append(self._finding(spec, Grade.UNKNOWN, track.published, {}, at, None, shown))
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
            if "blind" in evidence:
                message = f"{evidence['blind']} (unknown)"
            else:
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
            evidence=self._with_exclusions({**evidence, **self._quantity_evidence(quantity)}),
            source_ts=source_ts,
        )

    def _with_exclusions(self, evidence: dict[str, Any]) -> dict[str, Any]:
        excluded = self._quality.recent_exclusions()
        return {**evidence, "excluded": excluded} if excluded else evidence


def _quality_gate(station: StationSpec, rules: Sequence[RuleSpec]) -> QualityGate:
    """One gate from the quality specs of all the rules given (files of the station's kind)."""
    specs: dict[str, QualitySpec] = {}
    clock: ClockSpec | None = None
    for spec in rules:
        specs.update(spec.quality)
        clock = clock or spec.clock
    return QualityGate(specs, clock, station.interval_s)
