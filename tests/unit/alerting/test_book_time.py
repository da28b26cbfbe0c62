"""AlertBook on a virtual clock: down only after the dwell (area alerts), flap suppression,
acknowledgement and follow-ups as versions, and the journal rows (changes → load)."""

from __future__ import annotations

import json

import pytest

from alerting.book import AlertBook, BookPolicy
from alerting.flapping import FlapPolicy
from alerting.model import SuppressedReason
from yujing.contracts import AlertKey, AlertState, Finding, Grade, Hazard, NoticeReason

AREA = AlertKey("qinghe", Hazard.FLOOD, "basin")
STATION = AlertKey("S003", Hazard.FLOOD, "level")


def area(grade: Grade, ts: float, *, is_drill: bool = False) -> Finding:
    """An area rule: the finding names no station, so the book applies the area dwell."""
    return Finding("qinghe", "district-a", Hazard.FLOOD, "basin", grade, ts=ts, is_drill=is_drill)


def station(grade: Grade, ts: float) -> Finding:
    return Finding("S003", "district-a", Hazard.FLOOD, "level", grade, ts=ts, station="S003")


def show(notices: list) -> list[tuple[str, str, int]]:  # type: ignore[type-arg]
    return [(n.reason.value, n.grade.value, n.version) for n in notices]


def test_area_alert_goes_up_at_once_and_down_only_after_the_dwell() -> None:
    book = AlertBook(BookPolicy(area_down_dwell_s=600))
    assert show(book.apply(area(Grade.ORANGE, 0), 0)) == [("fired", "orange", 1)]
    assert show(book.apply(area(Grade.RED, 10), 10)) == [("upgraded", "red", 2)]
    assert book.apply(area(Grade.YELLOW, 100), 100) == []  # lower: the dwell starts
    assert book.advance(699) == []
    assert show(book.advance(700)) == [("downgraded", "yellow", 3)]
    assert book.apply(area(Grade.NONE, 800), 800) == []
    assert show(book.advance(1400)) == [("resolved", "none", 4)]
    assert book.alerts() == []


def test_a_higher_finding_during_the_dwell_cancels_the_step_down() -> None:
    book = AlertBook(BookPolicy(area_down_dwell_s=600))
    book.apply(area(Grade.RED, 0), 0)
    book.apply(area(Grade.NONE, 100), 100)
    book.apply(area(Grade.RED, 400), 400)  # back up: nothing pending any more
    assert book.advance(5000) == []
    book.apply(area(Grade.YELLOW, 5000), 5000)
    book.apply(area(Grade.ORANGE, 5300), 5300)  # still lower than red: the dwell keeps running
    assert show(book.advance(5600)) == [("downgraded", "orange", 2)]


def test_no_step_down_while_blind() -> None:
    book = AlertBook(BookPolicy(area_down_dwell_s=600))
    book.apply(area(Grade.RED, 0), 0)
    book.apply(area(Grade.NONE, 10), 10)
    book.apply(area(Grade.UNKNOWN, 20), 20)
    assert book.advance(5000) == []  # cannot see: the clear waits
    assert book.apply(area(Grade.NONE, 5001), 5001) == []  # sight is back: the dwell continues
    assert show(book.advance(5001)) == [("resolved", "none", 2)]


def test_station_alerts_trust_the_ladder_and_step_down_at_once() -> None:
    book = AlertBook(BookPolicy(area_down_dwell_s=600))
    book.apply(station(Grade.RED, 0), 0)
    assert show(book.apply(station(Grade.YELLOW, 1), 1)) == [("downgraded", "yellow", 2)]


def test_flapping_holds_steps_down_but_never_a_step_up_and_settles_with_one_notice() -> None:
    flap = FlapPolicy(window_s=600, enter_reversals=3, leave_reversals=1)
    book = AlertBook(BookPolicy(flap=flap))
    out = []
    for t, grade in enumerate([Grade.YELLOW, Grade.NONE, Grade.YELLOW, Grade.NONE]):
        out += book.apply(station(grade, t * 60), t * 60)
    # yellow, clear (reversal 1), yellow (2), clear (3: flapping): the last clear is held
    assert show(out) == [("fired", "yellow", 1), ("resolved", "none", 2), ("fired", "yellow", 3)]
    assert book.drain_held() == [((STATION, False), SuppressedReason.FLAPPING)]
    assert show(book.apply(station(Grade.ORANGE, 200), 200)) == [("upgraded", "orange", 4)]
    assert book.apply(station(Grade.NONE, 260), 260) == []  # held: stays orange
    assert book.get(STATION) is not None
    # reversals at 60, 120, 180, 200 (up again) and 260 (down again)
    assert book.advance(781) == []  # 200 and 260 still inside the window: flapping
    assert show(book.advance(801)) == [("resolved", "none", 5)]  # one left: calm, one clear


def test_acknowledge_and_follow_ups_take_versions() -> None:
    book = AlertBook()
    book.apply(station(Grade.ORANGE, 0), 0)
    ack = book.acknowledge(STATION, False, "li.wei", 30)
    assert ack is not None
    assert (ack.reason, ack.version, ack.state, ack.ts) == (
        NoticeReason.ACKNOWLEDGED,
        2,
        AlertState.ACKNOWLEDGED,
        30,
    )
    assert book.acknowledge(STATION, False, "wang.fang", 31) is None  # already acknowledged
    reminder = book.follow_up(STATION, False, NoticeReason.REMINDER, 40, "still on")
    assert reminder is not None and (reminder.version, reminder.state) == (
        3,
        AlertState.ACKNOWLEDGED,
    )
    [up] = book.apply(station(Grade.RED, 50), 50)
    assert (up.version, up.state) == (4, AlertState.FIRING)  # a higher grade needs a new ack
    assert (book.details(STATION) or {})["acked_by"] is None
    assert book.acknowledge(AlertKey("nope", Hazard.FLOOD, "x"), False, "li.wei", 60) is None


@pytest.mark.parametrize("cut", [1, 2, 3, 4])
def test_changes_then_load_continues_identically(cut: int) -> None:
    """What the journal stores (changed rows) rebuilds a book that behaves the same."""
    policy = BookPolicy(area_down_dwell_s=600)
    events = [
        (area(Grade.RED, 0), 0),
        (area(Grade.YELLOW, 100), 100),
        (area(Grade.RED, 200, is_drill=True), 200),
        (area(Grade.NONE, 300), 300),
    ]
    straight = AlertBook(policy)
    expected = [n for f, now in events for n in straight.apply(f, now)] + straight.advance(1000)

    first = AlertBook(policy)
    journal: dict[tuple[str, str], object] = {}
    got = []
    for f, now in events[:cut]:
        got += first.apply(f, now)
        for part, ident, data in json.loads(json.dumps(first.changes())):
            journal[(part, ident)] = data
    rows = [(p, i, d) for (p, i), d in journal.items() if d is not None]
    second = AlertBook(policy)
    second.load(rows)
    got += [n for f, now in events[cut:] for n in second.apply(f, now)] + second.advance(1000)
    assert got == expected
    assert second.alerts() == straight.alerts()
