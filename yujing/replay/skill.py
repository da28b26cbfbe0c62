"""Skill of a replay against the scenario's graded ground truth (:mod:`simulators.episodes`).

Rules (also in ``docs/replay.md``), per scored key (station, hazard, rule) and warning grade g:

- only the grades the key's ladder has rungs for are scored (an orange tank alert is not also
  a "yellow" warning of a ladder without a yellow rung);
- a *warning episode* for g is an interval during which the grade notified for the key (from its
  notices: fired, upgraded, downgraded, resolved) is g or higher; it starts at the virtual time
  the raising notice left (``sent``);
- a *truth episode* for g is an interval during which the true hazard is at g or higher;
- **hit**: a truth episode overlapped by a warning episode, both widened by the hazard's
  tolerance ``tol`` (the warning may start up to ``tol`` before the true crossing or end up to
  ``tol`` after it); **miss**: a truth episode with no such warning; **false alarm**: a warning
  episode that overlaps no truth episode (± ``tol``);
- POD = hits / (hits + misses); FAR = false alarms / (hits + false alarms);
  CSI = hits / (hits + misses + false alarms);
- **lead time** (per hit, the issue's sign convention) = warning time − true crossing time:
  negative means the warning came *before* the true hazard crossed the grade (a real lead),
  positive that it came that many seconds late;
- **time to reach the officer** (per hit) = the first delivery addressed to an officer for
  that warning (the key's own notice, or its district group's notice listing the station, at
  grade ≥ g, sent at or after the warning) − true crossing time. None when no officer was
  reached (no roster route for that grade, or no officer channel).

``unknown`` is never a warning. Keys that are not scored (district groups, area rules, sensor
health, triggers) are listed in the timeline but not scored.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulators.episodes import GradedTruth, TruthEpisode
from yujing.contracts import WARNING_GRADES, AlertKey, Grade, Hazard, NoticeReason
from yujing.replay.recorder import NoticeRecord

__all__ = ["DEFAULT_TOLERANCE_S", "GradeSkill", "Match", "SkillReport", "score"]

DEFAULT_TOLERANCE_S: Mapping[Hazard, float] = {
    Hazard.RAINSTORM: 3600.0,
    Hazard.FLOOD: 3600.0,
    Hazard.FLASH_FLOOD: 3600.0,
    Hazard.PONDING: 1800.0,
    Hazard.GAS_LEAK: 600.0,
    Hazard.TOXIC_GAS: 600.0,
    Hazard.TANK: 600.0,
    Hazard.EARTHQUAKE: 30.0,
}
FALLBACK_TOLERANCE_S = 900.0
_GRADE_CHANGES = {
    NoticeReason.FIRED,
    NoticeReason.UPGRADED,
    NoticeReason.DOWNGRADED,
    NoticeReason.RESOLVED,
}


@dataclass(frozen=True, slots=True)
class WarningEpisode:
    key: AlertKey
    grade: Grade
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Match:
    """One truth episode and what the warning system did about it."""

    truth: TruthEpisode
    warning: WarningEpisode | None
    lead_time_s: float | None = None
    reach_s: float | None = None
    officer: str | None = None

    @property
    def is_hit(self) -> bool:
        return self.warning is not None


@dataclass(slots=True)
class GradeSkill:
    hazard: Hazard
    grade: Grade
    hits: int = 0
    misses: int = 0
    false_alarms: int = 0
    lead_times_s: list[float] = field(default_factory=list)
    reach_s: list[float] = field(default_factory=list)

    @property
    def pod(self) -> float | None:
        total = self.hits + self.misses
        return self.hits / total if total else None

    @property
    def far(self) -> float | None:
        total = self.hits + self.false_alarms
        return self.false_alarms / total if total else None

    @property
    def csi(self) -> float | None:
        total = self.hits + self.misses + self.false_alarms
        return self.hits / total if total else None

    def to_json(self) -> dict[str, Any]:
        return {
            "hazard": self.hazard.value,
            "grade": self.grade.value,
            "hits": self.hits,
            "misses": self.misses,
            "false_alarms": self.false_alarms,
            "pod": _round(self.pod),
            "far": _round(self.far),
            "csi": _round(self.csi),
            "lead_time_s": _summary(self.lead_times_s),
            "reach_officer_s": _summary(self.reach_s),
            "officer_reached": len(self.reach_s),
        }


@dataclass(slots=True)
class SkillReport:
    rows: list[GradeSkill]
    matches: list[Match]
    false_alarms: list[WarningEpisode]
    tolerance_s: Mapping[Hazard, float]

    def row(self, hazard: Hazard, grade: Grade) -> GradeSkill | None:
        return next((r for r in self.rows if r.hazard is hazard and r.grade is grade), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [r.to_json() for r in self.rows],
            "tolerance_s": {h.value: t for h, t in self.tolerance_s.items()},
            "false_alarms": [
                {"key": str(w.key), "grade": w.grade.value, "start": w.start, "end": w.end}
                for w in self.false_alarms
            ],
            "matches": [
                {
                    "key": str(m.truth.key),
                    "grade": m.truth.grade.value,
                    "truth_start": m.truth.start,
                    "warning_start": None if m.warning is None else m.warning.start,
                    "lead_time_s": m.lead_time_s,
                    "reach_officer_s": m.reach_s,
                    "officer": m.officer,
                }
                for m in self.matches
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _summary(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p10": None, "p90": None, "min": None, "max": None}
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p10": round(_quantile(ordered, 0.1), 1),
        "p90": round(_quantile(ordered, 0.9), 1),
        "min": round(ordered[0], 1),
        "max": round(ordered[-1], 1),
    }


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def warning_episodes(
    records: Iterable[NoticeRecord], keys: Iterable[AlertKey], end: float
) -> dict[tuple[AlertKey, Grade], list[WarningEpisode]]:
    """Warning episodes per (key, grade) from the notices of ``keys`` (real, not drills)."""
    wanted = set(keys)
    steps: dict[AlertKey, list[tuple[float, Grade]]] = defaultdict(list)
    for record in records:
        notice = record.notice
        if notice.key in wanted and not notice.is_drill and notice.reason in _GRADE_CHANGES:
            steps[notice.key].append((record.sent, notice.grade))
    out: dict[tuple[AlertKey, Grade], list[WarningEpisode]] = defaultdict(list)
    for key, changes in steps.items():
        for grade in WARNING_GRADES:
            opened: float | None = None
            for sent, level in changes:
                up = level.is_warning and level.rank >= grade.rank
                if up and opened is None:
                    opened = sent
                elif not up and opened is not None:
                    out[(key, grade)].append(WarningEpisode(key, grade, opened, sent))
                    opened = None
            if opened is not None:
                out[(key, grade)].append(WarningEpisode(key, grade, opened, max(end, opened)))
    return out


def _officer_reach(
    records: Sequence[NoticeRecord],
    sent: Sequence[float],
    station_key: AlertKey,
    grade: Grade,
    since: float,
) -> tuple[float, str] | None:
    group = AlertKey("", station_key.hazard, "group")
    for record in records[bisect.bisect_left(sent, since) :]:
        notice = record.notice
        if notice.grade.rank < grade.rank or not record.officers:
            continue
        own = notice.key == station_key
        grouped = (
            notice.key.rule == group.rule
            and notice.key.hazard is station_key.hazard
            and station_key.area in notice.stations
        )
        if own or grouped:
            return record.sent, record.officers[0]
    return None


def score(
    truth: GradedTruth,
    records: Sequence[NoticeRecord],
    tolerance_s: Mapping[Hazard, float] | None = None,
    hazards: Iterable[Hazard] | None = None,
) -> SkillReport:
    """Score the recorded notices against the truth (see the module docstring)."""
    tolerance = {**DEFAULT_TOLERANCE_S, **(tolerance_s or {})}
    only = None if hazards is None else set(hazards)
    keys = [k for k in truth.keys if only is None or k.hazard in only]
    warnings = warning_episodes(records, keys, truth.end)
    by_key: dict[tuple[AlertKey, Grade], list[TruthEpisode]] = defaultdict(list)
    for episode in truth.episodes:
        if only is None or episode.key.hazard in only:
            by_key[(episode.key, episode.grade)].append(episode)
    rows: dict[tuple[Hazard, Grade], GradeSkill] = {}
    matches: list[Match] = []
    false_alarms: list[WarningEpisode] = []
    sorted_records = sorted(records, key=lambda r: r.sent)
    sent_times = [r.sent for r in sorted_records]
    for key in sorted(keys):
        tol = tolerance.get(key.hazard, FALLBACK_TOLERANCE_S)
        for grade in truth.grades.get(key, WARNING_GRADES):  # only grades the ladder has
            truths = by_key.get((key, grade), [])
            warned = warnings.get((key, grade), [])
            if not truths and not warned:
                continue
            row = rows.setdefault((key.hazard, grade), GradeSkill(key.hazard, grade))
            used: set[int] = set()
            for episode in truths:
                hit = next(
                    (
                        (i, w)
                        for i, w in enumerate(warned)
                        if w.start <= episode.end + tol and w.end >= episode.start - tol
                    ),
                    None,
                )
                if hit is None:
                    row.misses += 1
                    matches.append(Match(episode, None))
                    continue
                index, warning = hit
                used.add(index)
                row.hits += 1
                lead = warning.start - episode.start
                row.lead_times_s.append(lead)
                reached = _officer_reach(sorted_records, sent_times, key, grade, warning.start)
                reach = None if reached is None else reached[0] - episode.start
                if reach is not None:
                    row.reach_s.append(reach)
                matches.append(
                    Match(episode, warning, lead, reach, None if reached is None else reached[1])
                )
            for i, warning in enumerate(warned):
                overlaps = any(
                    warning.start <= t.end + tol and warning.end >= t.start - tol for t in truths
                )
                if i not in used and not overlaps:
                    row.false_alarms += 1
                    false_alarms.append(warning)
    ordered = sorted(rows.values(), key=lambda r: (r.hazard.value, r.grade.rank))
    return SkillReport(ordered, matches, false_alarms, tolerance)
