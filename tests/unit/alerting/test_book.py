"""AlertBook: lifecycle transitions, versions, unknown handling, drills, snapshot/restore.

These findings come from station rules (no book dwell); dwell and flapping: test_book_time.py.
"""

from __future__ import annotations

import json

import pytest

from alerting import AlertBook
from alerting.book import BookPolicy
from yujing.contracts import (
    AlertKey,
    AlertState,
    Finding,
    Grade,
    Hazard,
    Notice,
    NoticeReason,
)

KEY = AlertKey("S003", Hazard.FLOOD, "level")
OTHER = AlertKey("S004", Hazard.FLOOD, "level")


def level(
    grade: Grade,
    ts: float,
    value: float | None = None,
    *,
    area: str = "S003",
    is_drill: bool = False,
    threshold: float | None = 4.5,
) -> Finding:
    return Finding(
        area=area,
        district="district-a",
        hazard=Hazard.FLOOD,
        rule="level",
        grade=grade,
        ts=ts,
        value=value,
        threshold=threshold,
        quantity="level_m",
        station=area,
        message=f"level {value} m",
        source_ts=ts - 0.5,
        is_drill=is_drill,
    )


def apply(book: AlertBook, finding: Finding) -> list[Notice]:
    """Findings of a live stream arrive at about their event time."""
    return book.apply(finding, finding.ts)


def steps(book: AlertBook, *findings: Finding) -> list[tuple[str, str, str, int, str]]:
    """(reason, previous grade, grade, version, state) of every notice the findings cause."""
    out: list[tuple[str, str, str, int, str]] = []
    for finding in findings:
        for n in apply(book, finding):
            out.append(
                (n.reason.value, n.previous_grade.value, n.grade.value, n.version, n.state.value)
            )
    return out


def test_fire_carries_everything_from_the_finding() -> None:
    book = AlertBook()
    [notice] = apply(book, level(Grade.ORANGE, 100.0, 4.8))
    assert notice == Notice(
        key=KEY,
        version=1,
        reason=NoticeReason.FIRED,
        grade=Grade.ORANGE,
        previous_grade=Grade.NONE,
        state=AlertState.FIRING,
        district="district-a",
        ts=100.0,
        value=4.8,
        threshold=4.5,
        quantity="level_m",
        message="level 4.8 m",
        source_ts=99.5,
        is_drill=False,
        stations=("S003",),
    )
    assert notice.idempotency_key == "S003/flood/level#1"
    [alert] = book.alerts()
    assert (alert.key, alert.grade, alert.state, alert.version) == (
        KEY,
        Grade.ORANGE,
        AlertState.FIRING,
        1,
    )
    assert (alert.first_ts, alert.last_ts, alert.district) == (100.0, 100.0, "district-a")


def test_fire_upgrade_downgrade_resolve_sequence() -> None:
    book = AlertBook()
    got = steps(
        book,
        level(Grade.BLUE, 10.0, 3.1),
        level(Grade.YELLOW, 20.0, 3.6),
        level(Grade.RED, 30.0, 5.2),  # skipping orange: one upgrade, straight to red
        level(Grade.ORANGE, 40.0, 4.6),
        level(Grade.BLUE, 50.0, 3.0),
        level(Grade.NONE, 60.0, 1.0),
    )
    assert got == [
        ("fired", "none", "blue", 1, "firing"),
        ("upgraded", "blue", "yellow", 2, "firing"),
        ("upgraded", "yellow", "red", 3, "firing"),
        ("downgraded", "red", "orange", 4, "firing"),
        ("downgraded", "orange", "blue", 5, "firing"),
        ("resolved", "blue", "none", 6, "resolved"),
    ]
    assert book.alerts() == []
    assert book.get(KEY) is None


def test_resolve_notice_shape() -> None:
    book = AlertBook()
    apply(book, level(Grade.RED, 10.0, 5.0))
    [notice] = apply(book, level(Grade.NONE, 70.0, 2.0))
    assert notice.reason is NoticeReason.RESOLVED
    assert (notice.grade, notice.previous_grade, notice.state) == (
        Grade.NONE,
        Grade.RED,
        AlertState.RESOLVED,
    )
    assert (notice.ts, notice.source_ts, notice.value, notice.version) == (70.0, 69.5, 2.0, 2)


def test_same_grade_again_gives_no_notice_but_moves_last_ts() -> None:
    book = AlertBook()
    assert len(apply(book, level(Grade.YELLOW, 10.0))) == 1
    for ts in (20.0, 30.0, 30.0):
        assert apply(book, level(Grade.YELLOW, ts)) == []
    alert = book.get(KEY)
    assert alert is not None
    assert (alert.version, alert.first_ts, alert.last_ts) == (1, 10.0, 30.0)


def test_none_and_unknown_without_an_alert_do_nothing() -> None:
    book = AlertBook()
    assert apply(book, level(Grade.NONE, 10.0)) == []
    assert apply(book, level(Grade.UNKNOWN, 20.0)) == []
    assert book.alerts() == []
    assert book.last_version(KEY) == 0


def test_unknown_never_resolves_and_never_steps_down() -> None:
    book = AlertBook()
    apply(book, level(Grade.RED, 10.0))
    for ts in (20.0, 30.0, 40.0):
        assert apply(book, level(Grade.UNKNOWN, ts)) == []
    alert = book.get(KEY)
    assert alert is not None
    assert (alert.grade, alert.state, alert.version) == (Grade.RED, AlertState.FIRING, 1)
    assert alert.last_ts == 10.0  # last time the grade was actually seen
    assert book.blind_since(KEY) == 20.0  # first unknown; not moved by later ones
    # sight returns at the same grade: quiet, mark cleared
    assert apply(book, level(Grade.RED, 50.0)) == []
    assert book.blind_since(KEY) is None
    # blind again, then a real clear is a normal resolve
    apply(book, level(Grade.UNKNOWN, 60.0))
    assert steps(book, level(Grade.NONE, 70.0)) == [("resolved", "red", "none", 2, "resolved")]


def test_unknown_then_a_different_grade_is_a_normal_transition() -> None:
    book = AlertBook()
    apply(book, level(Grade.ORANGE, 10.0))
    apply(book, level(Grade.UNKNOWN, 20.0))
    assert steps(book, level(Grade.YELLOW, 30.0)) == [
        ("downgraded", "orange", "yellow", 2, "firing")
    ]
    assert book.blind_since(KEY) is None


def test_version_continues_after_resolve_and_refire() -> None:
    book = AlertBook()
    got = steps(
        book,
        level(Grade.BLUE, 10.0),
        level(Grade.NONE, 20.0),
        level(Grade.NONE, 25.0),  # nothing to resolve: no version used
        level(Grade.YELLOW, 30.0),
        level(Grade.NONE, 40.0),
        level(Grade.RED, 50.0),
    )
    assert got == [
        ("fired", "none", "blue", 1, "firing"),
        ("resolved", "blue", "none", 2, "resolved"),
        ("fired", "none", "yellow", 3, "firing"),
        ("resolved", "yellow", "none", 4, "resolved"),
        ("fired", "none", "red", 5, "firing"),
    ]
    alert = book.get(KEY)
    assert alert is not None and alert.first_ts == 50.0  # a new alert, not the old one reopened


def test_keys_are_independent() -> None:
    book = AlertBook()
    assert steps(book, level(Grade.RED, 10.0), level(Grade.BLUE, 11.0, area="S004")) == [
        ("fired", "none", "red", 1, "firing"),
        ("fired", "none", "blue", 1, "firing"),
    ]
    assert [a.key for a in book.alerts()] == [KEY, OTHER]
    apply(book, level(Grade.NONE, 12.0))
    assert [a.key for a in book.alerts()] == [OTHER]


def test_drill_never_touches_the_real_alert_and_shares_versions() -> None:
    book = AlertBook()
    [real] = apply(book, level(Grade.RED, 10.0))
    [drill] = apply(book, level(Grade.YELLOW, 11.0, is_drill=True))
    assert (drill.reason, drill.version, drill.is_drill) == (NoticeReason.FIRED, 2, True)
    [drill_clear] = apply(book, level(Grade.NONE, 12.0, is_drill=True))
    assert (drill_clear.reason, drill_clear.version) == (NoticeReason.RESOLVED, 3)
    alert = book.get(KEY)
    assert alert is not None and (alert.grade, alert.is_drill) == (Grade.RED, False)
    assert len({real.idempotency_key, drill.idempotency_key, drill_clear.idempotency_key}) == 3


def test_findings_behind_an_alert_are_the_transitions_bounded() -> None:
    book = AlertBook(BookPolicy(max_findings=2))
    apply(book, level(Grade.BLUE, 10.0))
    apply(book, level(Grade.BLUE, 15.0))  # repeat: not a transition, not kept
    apply(book, level(Grade.YELLOW, 20.0))
    apply(book, level(Grade.ORANGE, 30.0))
    alert = book.get(KEY)
    assert alert is not None
    assert [f.ts for f in alert.findings] == [20.0, 30.0]
    with pytest.raises(ValueError, match="max_findings"):
        BookPolicy(max_findings=0)


def test_advance_without_dwell_or_flapping_is_quiet() -> None:
    book = AlertBook()
    apply(book, level(Grade.RED, 10.0))
    assert book.advance(100.0) == []
    assert book.advance(50.0) == []  # time never goes backwards
    assert book.snapshot()["now"] == 100.0


SEQUENCE = [
    level(Grade.BLUE, 10.0, 3.0),
    level(Grade.ORANGE, 20.0, 4.7),
    level(Grade.YELLOW, 15.0, 3.5, area="S004"),
    level(Grade.UNKNOWN, 25.0),
    level(Grade.RED, 30.0, 5.5, is_drill=True),
    level(Grade.NONE, 35.0, 1.0, area="S004"),
    # --- cut here in the restore test ---
    level(Grade.UNKNOWN, 38.0),
    level(Grade.ORANGE, 40.0, 4.7),
    level(Grade.RED, 50.0, 5.5),
    level(Grade.YELLOW, 52.0, 3.6, area="S004"),
    level(Grade.NONE, 60.0, 1.0),
    level(Grade.NONE, 61.0, 1.0, is_drill=True),
    level(Grade.BLUE, 70.0, 3.1),
]


@pytest.mark.parametrize("cut", range(len(SEQUENCE) + 1))
def test_snapshot_restore_mid_sequence_continues_identically(cut: int) -> None:
    straight = AlertBook()
    expected = [n for f in SEQUENCE for n in apply(straight, f)]

    first = AlertBook()
    got = [n for f in SEQUENCE[:cut] for n in apply(first, f)]
    first.advance(36.0)
    state = json.loads(json.dumps(first.snapshot()))  # must survive real JSON
    second = AlertBook()
    second.restore(state)
    assert second.snapshot() == first.snapshot()
    got += [n for f in SEQUENCE[cut:] for n in apply(second, f)]

    assert got == expected
    assert second.alerts() == straight.alerts()
    assert second.blind_since(KEY) == straight.blind_since(KEY)


def test_restored_book_repeats_no_notice_and_keeps_blindness() -> None:
    book = AlertBook()
    apply(book, level(Grade.RED, 10.0))
    apply(book, level(Grade.UNKNOWN, 20.0))
    restored = AlertBook()
    restored.restore(json.loads(json.dumps(book.snapshot())))
    assert restored.blind_since(KEY) == 20.0
    assert apply(restored, level(Grade.RED, 30.0)) == []  # the finding replayed after a restart
    [notice] = apply(restored, level(Grade.NONE, 40.0))
    assert notice.version == 2


def test_snapshot_keeps_versions_of_resolved_keys() -> None:
    book = AlertBook()
    apply(book, level(Grade.RED, 10.0))
    apply(book, level(Grade.NONE, 20.0))
    restored = AlertBook()
    restored.restore(book.snapshot())
    [notice] = apply(restored, level(Grade.BLUE, 30.0))
    assert notice.version == 3  # never "S003/flood/level#1" again


def test_restore_rejects_a_foreign_or_inconsistent_snapshot() -> None:
    book = AlertBook()
    with pytest.raises(ValueError, match="format"):
        book.restore({"format": 99, "rows": []})
    good = AlertBook()
    apply(good, level(Grade.RED, 10.0))
    state = good.snapshot()
    state["rows"] = [row for row in state["rows"] if row[0] != "book.version"]
    with pytest.raises(ValueError, match="above its counter"):
        book.restore(state)
    assert book.alerts() == []  # a failed restore leaves the book as it was
