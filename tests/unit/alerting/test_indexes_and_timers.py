"""The alerting indexes and timers that keep a batch and a tick from costing every active alert:
the book's ordered and per-place indexes, the due-time queue, the incremental inhibitor, and
the tick that regroups only what may have changed. Each test pins behaviour (same order, same
notices, on time), not the data structures."""

from __future__ import annotations

import random

from alerting.book import AlertBook, BookPolicy, place_of
from alerting.flapping import FlapPolicy
from alerting.grouping import Grouper, GroupPolicy
from alerting.inhibition import Inhibitor, InhibitRule
from alerting.slots import Slot
from alerting.timers import DueQueue, early
from tests.unit.alerting.conftest import DAY, level, pipeline
from yujing.contracts import Alert, AlertKey, AlertState, Finding, Grade, Hazard

GRADES = [Grade.NONE, Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED, Grade.UNKNOWN]


def slot(area: str, rule: str = "level", is_drill: bool = False) -> Slot:
    return AlertKey(area, Hazard.FLOOD, rule), is_drill


def area_rain(district: str, grade: Grade, ts: float) -> Finding:
    return Finding(district, district, Hazard.FLOOD, "area", grade, ts=ts, station=None)


class _Recording(DueQueue):
    """A due queue that remembers what each ``pop_due`` handed back (what a tick looks at)."""

    def __init__(self, queue: DueQueue) -> None:
        super().__init__()
        self._heap, self._due = queue._heap, queue._due
        self.seen: list[list[Slot]] = []

    def pop_due(self, now: float) -> list[Slot]:
        got = super().pop_due(now)
        self.seen.append(sorted(got))
        return got


def spy_due(book: AlertBook) -> list[list[Slot]]:
    recording = _Recording(book._timers)
    book._timers = recording
    return recording.seen


# ---- the due-time queue -----------------------------------------------------------------------


def test_due_queue_hands_a_slot_back_once_at_its_earliest_due_time() -> None:
    queue = DueQueue()
    queue.schedule(slot("S1"), 100.0)
    queue.schedule(slot("S2"), 50.0)
    queue.schedule(slot("S1"), 120.0)  # later: S1 stays due at 100
    queue.schedule(slot("S2"), 40.0)  # earlier: replaces 50
    assert queue.pop_due(39.0) == []
    assert queue.pop_due(45.0) == [slot("S2")]
    assert queue.pop_due(99.9) == []  # the superseded item at 50 is skipped
    assert queue.pop_due(100.0) == [slot("S1")]
    assert queue.pop_due(1e9) == [] and len(queue) == 0


def test_early_is_before_the_due_time_but_within_milliseconds() -> None:
    for due in (0.0, 10.0, DAY, DAY + 600.1):
        assert due - 0.01 < early(due) < due


# ---- the book's indexes -----------------------------------------------------------------------


def test_alerts_stay_in_key_order_through_fire_resolve_and_ack_sequences() -> None:
    rng = random.Random(7)
    book = AlertBook(BookPolicy(area_down_dwell_s=30, flap=FlapPolicy(60, 3, 1)))
    stations = [f"S{i:02d}" for i in range(25)]
    t = DAY
    for _ in range(3000):
        t += rng.choice([0.0, 1.0, 5.0, 20.0])
        station = rng.choice(stations)
        finding = level(
            station,
            rng.choice(GRADES),
            t,
            district=rng.choice(["district-a", "district-b"]),
            rule=rng.choice(["level", "rate"]),
            is_drill=rng.random() < 0.2,
        )
        roll = rng.random()
        if roll < 0.7:
            book.apply(finding, t)
        elif roll < 0.8:
            book.apply(area_rain(rng.choice(["district-a", "district-b"]), finding.grade, t), t)
        elif roll < 0.9:
            book.advance(t)
        elif book.alerts():
            alert = rng.choice(book.alerts())
            book.acknowledge(alert.key, alert.is_drill, "li", t)
        alerts = book.alerts()
        keys = [(a.key, a.is_drill) for a in alerts]
        assert keys == sorted(keys)
        assert all(a.grade is not Grade.NONE for a in alerts)
        assert all(book.get(k, is_drill=d) is not None for k, d in keys)
        for place in {place_of(a) for a in alerts}:
            assert book.alerts_at(place) == [a for a in alerts if place_of(a) == place]
    assert len(book.alerts()) > 5
    again = AlertBook(book.policy)
    again.restore(book.snapshot())
    assert again.alerts() == book.alerts()


def test_a_resolved_alert_leaves_the_indexes_and_a_refired_one_comes_back_in_place() -> None:
    book = AlertBook()
    t = DAY
    for station in ["S3", "S1", "S2"]:
        book.apply(level(station, Grade.YELLOW, t), t)
    assert [a.key.area for a in book.alerts()] == ["S1", "S2", "S3"]
    book.apply(level("S2", Grade.NONE, t + 1), t + 1)
    assert [a.key.area for a in book.alerts()] == ["S1", "S3"]
    assert [a.key.area for a in book.alerts_at(("district-a", Hazard.FLOOD, False))] == ["S1", "S3"]
    book.apply(level("S2", Grade.RED, t + 2, district="district-b"), t + 2)  # moved district
    assert [a.key.area for a in book.alerts()] == ["S1", "S2", "S3"]
    assert [a.key.area for a in book.alerts_at(("district-b", Hazard.FLOOD, False))] == ["S2"]
    assert [a.key.area for a in book.alerts_at(("district-a", Hazard.FLOOD, False))] == ["S1", "S3"]
    assert book.drain_changed_places() == {
        ("district-a", Hazard.FLOOD, False),
        ("district-b", Hazard.FLOOD, False),
    }
    assert book.drain_changed_places() == set()


# ---- the book's timers ------------------------------------------------------------------------


def test_a_dwell_due_later_is_not_looked_at_early_but_ends_on_time() -> None:
    book = AlertBook(BookPolicy(area_down_dwell_s=600))
    t = DAY
    for i in range(200):  # quiet firing station alerts: nothing for a tick to do
        book.apply(level(f"S{i:03d}", Grade.YELLOW, t), t)
    book.apply(area_rain("district-a", Grade.RED, t), t)
    book.apply(area_rain("district-a", Grade.YELLOW, t + 10), t + 10)  # step down: dwell
    seen = spy_due(book)
    assert book.advance(t + 300) == [] and seen[-1] == []
    assert book.advance(t + 609.9) == [] and seen[-1] == []
    [notice] = book.advance(t + 610)
    assert (notice.reason.value, notice.grade, notice.ts) == ("downgraded", Grade.YELLOW, t + 610)
    assert seen[-1] == [(AlertKey("district-a", Hazard.FLOOD, "area"), False)]
    assert book.advance(t + 611) == [] and seen[-1] == []


def test_a_finding_that_blinds_holds_the_dwell_and_a_clear_view_restarts_it() -> None:
    book = AlertBook(BookPolicy(area_down_dwell_s=100))
    t = DAY
    book.apply(area_rain("district-a", Grade.RED, t), t)
    book.apply(area_rain("district-a", Grade.YELLOW, t + 10), t + 10)
    book.apply(area_rain("district-a", Grade.UNKNOWN, t + 20), t + 20)  # blind: dwell waits
    assert book.advance(t + 200) == []
    book.apply(area_rain("district-a", Grade.YELLOW, t + 210), t + 210)
    [notice] = book.advance(t + 210)  # the step down was pending since t + 10
    assert notice.reason.value == "downgraded"


def test_flapping_calms_on_time_when_its_oldest_reversal_leaves_the_window() -> None:
    flap = FlapPolicy(window_s=100, enter_reversals=2, leave_reversals=1)
    book = AlertBook(BookPolicy(flap=flap))
    t = DAY
    for dt, grade in [(0, Grade.YELLOW), (1, Grade.RED), (2, Grade.YELLOW), (3, Grade.RED)]:
        book.apply(level("S1", grade, t + dt), t + dt)
    assert book.apply(level("S1", Grade.YELLOW, t + 4), t + 4) == []  # held: flapping
    seen = spy_due(book)
    assert book.advance(t + 101.9) == [] and seen[-1] == []  # reversals at t+2, t+3, t+4
    [calm] = book.advance(t + 103)  # two left the window: one left, calm
    assert (calm.reason.value, calm.grade) == ("downgraded", Grade.YELLOW)
    assert seen[-1] == [slot("S1")]


def test_a_resolved_entry_is_forgotten_once_its_reversal_left_the_flap_window() -> None:
    book = AlertBook(BookPolicy(flap=FlapPolicy(window_s=3600)))
    key = AlertKey("S1", Hazard.FLOOD, "level")
    book.apply(level("S1", Grade.YELLOW, DAY), DAY)
    book.apply(level("S1", Grade.NONE, DAY + 1), DAY + 1)  # up then down: one reversal
    book.advance(DAY + 2)
    assert book.details(key) is not None
    book.advance(DAY + 3600.5)
    assert book.details(key) is not None
    book.advance(DAY + 3601)
    assert book.details(key) is None


def test_without_flap_suppression_a_resolved_entry_is_forgotten_at_the_next_tick() -> None:
    book = AlertBook(BookPolicy(flap=FlapPolicy(enter_reversals=0)))
    book.apply(level("S1", Grade.YELLOW, DAY), DAY)
    book.apply(level("S1", Grade.NONE, DAY + 1), DAY + 1)
    assert book.details(AlertKey("S1", Hazard.FLOOD, "level")) is not None
    book.advance(DAY + 2)
    assert book.details(AlertKey("S1", Hazard.FLOOD, "level")) is None


# ---- the inhibitor ----------------------------------------------------------------------------


def _alert(area: str, district: str, hazard: Hazard, grade: Grade, is_drill: bool) -> Alert:
    key = AlertKey(area, hazard, "level")
    return Alert(key, district, grade, AlertState.FIRING, 1, 0.0, 0.0, is_drill=is_drill)


def test_incremental_inhibitor_mutes_exactly_as_one_rebuilt_from_every_alert() -> None:
    rng = random.Random(3)
    rules = [InhibitRule(), InhibitRule(equal=("district",)), InhibitRule(equal=("hazard",))]
    incremental, rebuilt = Inhibitor(rules), Inhibitor(rules)
    active: dict[Slot, Alert] = {}
    for _ in range(400):
        alert = _alert(
            rng.choice(["S1", "S2", "S3", "S4"]),
            rng.choice(["district-a", "district-b"]),
            rng.choice([Hazard.FLOOD, Hazard.RAINSTORM]),
            rng.choice([Grade.NONE, Grade.BLUE, Grade.YELLOW, Grade.RED]),
            rng.random() < 0.3,
        )
        key = (alert.key, alert.is_drill)
        if alert.grade is Grade.NONE:
            active.pop(key, None)
        else:
            active[key] = alert
        changed = incremental.change([(key, active.get(key))])
        assert rebuilt.update(sorted(active.values(), key=lambda a: (a.key, a.is_drill))) == changed
        for other in active.values():
            assert incremental.muted(other, 0.0) == rebuilt.muted(other, 0.0)


# ---- the tick regroups only what may have changed ---------------------------------------------


def _spy_updates(grouper: Grouper) -> list[str]:
    looked: list[str] = []
    update = grouper._update

    def recording(book, slot, members, now, peaks):  # type: ignore[no-untyped-def]
        looked.append(str(slot[0]))
        return update(book, slot, members, now, peaks)

    grouper._update = recording  # type: ignore[method-assign]
    return looked


def test_a_tick_looks_only_at_groups_that_changed_or_are_due() -> None:
    p = pipeline(group=GroupPolicy(wait_s=10, interval_s=300))
    t = DAY
    for district in ["district-a", "district-b", "district-c"]:
        p.apply([level(f"{district}-S1", Grade.YELLOW, t, district=district)], t)
    looked = _spy_updates(p.grouper)
    p.advance(t + 1)  # first tick after start: every group
    looked.clear()
    assert p.advance(t + 5).notices == [] and looked == []  # waiting, not yet due
    fired = [str(n.key) for n in p.advance(t + 10).notices]
    assert fired == [f"{d}/flood/group" for d in ["district-a", "district-b", "district-c"]]
    looked.clear()
    p.advance(t + 11)  # the groups' own transitions: looked at once more, nothing to say
    looked.clear()
    for second in range(12, 40):
        assert p.advance(t + second).notices == []
    assert looked == []
    p.apply([level("district-b-S2", Grade.YELLOW, t + 40, district="district-b")], t + 40)
    looked.clear()
    assert p.advance(t + 41).notices == []  # a newcomer waits for the interval …
    assert looked == ["district-b/flood/group"]  # (looked at once more: its peak is gone)
    looked.clear()
    for second in range(42, 310, 7):
        assert p.advance(t + second).notices == []
    assert looked == []  # … and is not looked at again before it is due
    [reminder] = p.advance(t + 310).notices
    assert (str(reminder.key), reminder.reason.value) == ("district-b/flood/group", "reminder")
    assert looked == ["district-b/flood/group"]


def test_a_red_that_inhibits_another_group_s_member_regroups_it_at_the_next_tick() -> None:
    # equal: [area] — a red rainstorm alert at S1 mutes the yellow flood alert of S1, which
    # belongs to another group (district × hazard); the batch regroups only the rainstorm group
    p = pipeline(group=GroupPolicy(wait_s=0), inhibit=(InhibitRule(equal=("area",)),))
    t = DAY
    p.apply([level("S1", Grade.YELLOW, t), level("S2", Grade.YELLOW, t)], t)
    flood_group = AlertKey("district-a", Hazard.FLOOD, "group")
    assert p.book.details(flood_group)["stations"] == ["S1", "S2"]  # type: ignore[index]
    rain = Finding("S1", "district-a", Hazard.RAINSTORM, "rain", Grade.RED, ts=t + 1, station="S1")
    p.apply([rain], t + 1)
    assert p.book.details(flood_group)["stations"] == ["S1", "S2"]  # type: ignore[index]
    p.advance(t + 2)
    assert p.book.details(flood_group)["stations"] == ["S2"]  # type: ignore[index]


def test_a_silence_that_starts_and_ends_between_two_ticks_still_regroups() -> None:
    from alerting.silences import Silence

    p = pipeline(group=GroupPolicy(wait_s=0))
    t = DAY
    p.advance(t)
    p.add_silence(Silence("s1", t + 1, t + 3, "li", station="S1"), t)
    p.apply([level("S1", Grade.ORANGE, t + 2)], t + 2)  # muted: no group
    assert p.book.get(AlertKey("district-a", Hazard.FLOOD, "group")) is None
    p.advance(t + 60)  # the silence came and went between the ticks
    group = p.book.get(AlertKey("district-a", Hazard.FLOOD, "group"))
    assert group is not None and group.grade is Grade.ORANGE
