"""Threshold ladders: the one engine that turns a value into a grade, for every hazard.

Semantics follow Kapacitor's alert levels (see STYLE.md §5), extended with a dwell:

1. If the values reach a rung *above* the current grade, move up at once.
2. Otherwise, while the value stays at or above the current rung's ``enter - hysteresis``, stay.
3. Once below that edge, start a dwell timer; only after ``min_dwell_s`` below it (event time),
   step down to the highest rung whose ``enter`` the value still reaches (or ``none``).

A rung may read its own quantity, so one ladder can express criteria over several windows (the
national rainstorm signals grade on 12 h, 6 h and 3 h totals). Ladders are data, parsed once from
``configs/ladders/*.yaml`` by :mod:`yujing.config`.

Walk-through with an hourly-rain ladder (blue ≥ 20 mm, orange ≥ 50 mm, hysteresis 5 mm,
dwell 600 s):

>>> lad = Ladder(rule="rain_1h", quantity="rain_1h_mm", source="project default", rungs=(
...     Rung(Grade.BLUE, 20.0, 5.0, 600.0), Rung(Grade.ORANGE, 50.0, 5.0, 600.0)))
>>> s = LadderState()
>>> s = next_grade(lad, s, {"rain_1h_mm": 55.0}, now=0.0); s.grade
<Grade.ORANGE: 'orange'>
>>> s = next_grade(lad, s, {"rain_1h_mm": 47.0}, now=60.0); s.grade   # inside hysteresis
<Grade.ORANGE: 'orange'>
>>> s = next_grade(lad, s, {"rain_1h_mm": 30.0}, now=120.0); s.grade  # below edge, dwell starts
<Grade.ORANGE: 'orange'>
>>> s = next_grade(lad, s, {"rain_1h_mm": 30.0}, now=720.0); s.grade  # dwelt 600 s: step down
<Grade.BLUE: 'blue'>
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from yujing.contracts import Grade

__all__ = [
    "Ladder",
    "LadderState",
    "Rung",
    "breakpoints",
    "next_grade",
    "quantities",
    "rung_reached",
    "step_down_due",
]


@dataclass(frozen=True, slots=True)
class Rung:
    """One grade's entry condition: ``value >= enter`` (in the ladder's or the rung's quantity).

    ``hysteresis`` is in the quantity's unit; ``min_dwell_s`` is event-time seconds the value must
    stay below ``enter - hysteresis`` before the grade is left.
    """

    grade: Grade
    enter: float
    hysteresis: float = 0.0
    min_dwell_s: float = 0.0
    quantity: str | None = None


@dataclass(frozen=True, slots=True)
class Ladder:
    """Ordered rungs (ascending grade) for one rule of one hazard, with its cited ``source``."""

    rule: str
    quantity: str
    rungs: tuple[Rung, ...]
    source: str

    def quantity_of(self, rung: Rung) -> str:
        return rung.quantity or self.quantity

    def rung_for(self, grade: Grade) -> Rung | None:
        for rung in self.rungs:
            if rung.grade is grade:
                return rung
        return None

    def with_thresholds(self, enters: Mapping[Grade, float]) -> Ladder:
        """A copy whose rungs' ``enter`` values are replaced (per-station overrides)."""
        if not enters:
            return self
        rungs = tuple(
            replace(r, enter=enters[r.grade]) if r.grade in enters else r for r in self.rungs
        )
        return replace(self, rungs=rungs)


@dataclass(frozen=True, slots=True)
class LadderState:
    """Where a key stands on a ladder: grade, when it was entered, when the value fell below
    the grade's exit edge (None while it has not)."""

    grade: Grade = Grade.UNKNOWN
    since: float | None = None
    below_since: float | None = None


def rung_reached(ladder: Ladder, values: Mapping[str, float]) -> Rung | None:
    """The highest rung whose entry condition the values meet, or None."""
    best: Rung | None = None
    for rung in ladder.rungs:
        value = values.get(ladder.quantity_of(rung))
        if value is not None and not math.isnan(value) and value >= rung.enter:
            if best is None or rung.grade.rank > best.grade.rank:
                best = rung
    return best


def _holds(ladder: Ladder, rung: Rung, values: Mapping[str, float]) -> bool:
    value = values.get(ladder.quantity_of(rung))
    if value is None or math.isnan(value):
        return True  # no evidence to leave the grade: stay (never fail open)
    return value >= rung.enter - rung.hysteresis


def next_grade(
    ladder: Ladder, state: LadderState, values: Mapping[str, float], now: float
) -> LadderState:
    """Apply one observation at event time ``now``; return the new state (inputs unchanged)."""
    reached = rung_reached(ladder, values)
    target = reached.grade if reached is not None else Grade.NONE
    current = state.grade
    if current is Grade.UNKNOWN or current is Grade.NONE:
        if target is current:
            return state
        return LadderState(target, now, None)
    if target.rank > current.rank:
        return LadderState(target, now, None)
    rung = ladder.rung_for(current)
    if rung is None or _holds(ladder, rung, values):
        return state if state.below_since is None else replace(state, below_since=None)
    below_since = state.below_since if state.below_since is not None else now
    if now - below_since >= rung.min_dwell_s:
        return LadderState(target, now, None)
    return replace(state, below_since=below_since)


# Facts about next_grade, kept beside it so that the step-down rule still lives in one place.
# Detectors use them to skip evaluations that cannot change the state (seismic, per sample).


def quantities(ladder: Ladder) -> tuple[str, ...]:
    """Every quantity the ladder reads (its own, then rung overrides), without repeats."""
    names = [ladder.quantity, *(ladder.quantity_of(r) for r in ladder.rungs)]
    return tuple(dict.fromkeys(names))


def breakpoints(ladder: Ladder, quantity: str) -> tuple[float, ...]:
    """The values :func:`next_grade` compares ``quantity`` against, ascending.

    Each rung reading ``quantity`` contributes its ``enter`` and its exit edge
    ``enter - hysteresis``; every comparison is ``value >= edge``. So two (non-NaN) values with the
    same ``bisect_right(breakpoints, value)`` give the same ``next_grade`` result from any state
    at any time, the ladder's other quantities being equal.

    >>> lad = Ladder("r", "x", (Rung(Grade.BLUE, 20.0, 5.0), Rung(Grade.RED, 50.0, 5.0)), "doc")
    >>> breakpoints(lad, "x")
    (15.0, 20.0, 45.0, 50.0)
    """
    edges: set[float] = set()
    for rung in ladder.rungs:
        if ladder.quantity_of(rung) == quantity:
            edges.update((rung.enter, rung.enter - rung.hysteresis))
    return tuple(sorted(edges))


def step_down_due(ladder: Ladder, state: LadderState) -> float | None:
    """Event time from which :func:`next_grade` steps down if the value stays below the current
    rung's exit edge; None when no dwell is running."""
    if state.below_since is None:
        return None
    rung = ladder.rung_for(state.grade)
    return None if rung is None else state.below_since + rung.min_dwell_s
