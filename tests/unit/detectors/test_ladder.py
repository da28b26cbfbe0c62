"""The facts about next_grade that detectors rely on to skip evaluations (ladder.py helpers)."""

from __future__ import annotations

import bisect
import random

from detectors.ladder import (
    LadderState,
    breakpoints,
    next_grade,
    quantities,
    step_down_due,
)
from tests.unit.detectors.helpers import BOOK
from yujing.contracts import Grade


def test_quantities_lists_rung_overrides_once() -> None:
    rainstorm = next(r for r in BOOK.rules.values() if r.rule == "rainstorm").ladder
    assert quantities(rainstorm) == ("rain_3h_mm", "rain_12h_mm", "rain_6h_mm")


def test_next_grade_depends_on_a_value_only_through_its_breakpoint_band() -> None:
    rng = random.Random(1)
    ladders = [r.ladder for r in BOOK.rules.values() if len(quantities(r.ladder)) == 1]
    for ladder in ladders:
        q = ladder.quantity
        edges = breakpoints(ladder, q)
        span = (edges[0] - 2 * abs(edges[0]) - 1, edges[-1] * 2 + 1)
        for _ in range(300):
            grade = rng.choice(list(Grade))
            since = rng.uniform(0, 100) if grade is not Grade.UNKNOWN else None
            below = rng.choice([None, rng.uniform(0, 5000)])
            state = LadderState(grade, since, below)
            now = rng.uniform(5000, 10_000)
            a, b = rng.uniform(*span), rng.uniform(*span)
            if rng.random() < 0.3:
                a = b = rng.choice(edges)
            if bisect.bisect_right(edges, a) == bisect.bisect_right(edges, b):
                assert next_grade(ladder, state, {q: a}, now) == next_grade(
                    ladder, state, {q: b}, now
                )


def test_step_down_due_is_when_next_grade_steps_down() -> None:
    ladder = next(r for r in BOOK.rules.values() if r.rule == "ch4").ladder
    state = LadderState(Grade.RED, 0.0, None)
    assert step_down_due(ladder, state) is None
    state = next_grade(ladder, state, {"ch4_pct_lel": 30.0}, 100.0)
    due = step_down_due(ladder, state)
    assert due == 400.0  # below 45 since 100 s, dwell 300 s
    assert next_grade(ladder, state, {"ch4_pct_lel": 30.0}, due - 1e-6).grade is Grade.RED
    assert next_grade(ladder, state, {"ch4_pct_lel": 30.0}, due).grade is Grade.ORANGE
