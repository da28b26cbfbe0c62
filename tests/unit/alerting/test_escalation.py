"""Call and response on a virtual clock: page, escalate, remind, acknowledge, red to the leader,
deadlines that survive a restart, and the shift that decides who is first."""

from __future__ import annotations

import json

from alerting.model import EventKind
from alerting.pipeline import AlertPipeline
from tests.unit.alerting.conftest import DAY, level, pipeline, sent
from yujing.contracts import AlertKey, Grade, Hazard

GROUP = "district-a/flood/group"
GROUP_KEY = AlertKey("district-a", Hazard.FLOOD, "group")


def officers(step_deliveries: list, reason: str) -> set[str]:  # type: ignore[type-arg]
    return {o for k, r, o, c in sent(step_deliveries) if k == GROUP and r == reason and o}


def test_orange_pages_first_officer_then_escalates_then_reminds_until_acknowledged() -> None:
    p = pipeline()
    t = DAY
    first = p.apply([level("S003", Grade.ORANGE, t), level("S004", Grade.ORANGE, t)], t)
    # machine channel: each station's own alert at once; officers: the group waits 10 s
    assert sent(first.deliveries) == [
        ("S003/flood/level", "fired", "", "webhook"),
        ("S004/flood/level", "fired", "", "webhook"),
    ]
    assert not p.advance(t + 9).deliveries
    fired = p.advance(t + 10)
    assert sent(fired.deliveries) == [
        (GROUP, "fired", "", "cap"),
        (GROUP, "fired", "li", "sms"),
        (GROUP, "fired", "li", "email"),
    ]
    notice = fired.deliveries[0].notice
    assert notice.stations == ("S003", "S004")  # one notice with the list
    assert fired.deliveries[1].ack_url.startswith("http://duty.test/ack/")
    assert [e.kind for e in fired.events] == [EventKind.PAGE]

    assert not p.advance(t + 309).deliveries  # deadline is 10 + 300
    escalated = p.advance(t + 310)
    assert officers(escalated.deliveries, "escalated") == {"li", "wang"}
    assert "escalated to wang" in escalated.notices[0].message

    reminded = p.advance(t + 610)  # chain ran out: remind everyone paged
    assert officers(reminded.deliveries, "reminder") == {"li", "wang"}
    assert p.advance(t + 909).notices == []

    ack = p.acknowledge(GROUP_KEY, False, "wang", t + 915)
    assert ack.status == "acknowledged"
    assert sent(ack.step.deliveries) == [
        (GROUP, "acknowledged", "li", "sms"),
        (GROUP, "acknowledged", "li", "email"),
    ]
    [event] = ack.step.events
    assert event.data["ack_s"] == 905 and event.data["status"] == "acknowledged"
    assert p.advance(t + 5000).deliveries == []  # acknowledged: no more escalation
    assert p.acknowledge(GROUP_KEY, False, "li", t + 5001).status == "already"


def test_red_pages_the_leader_at_once_and_restarts_the_deadline() -> None:
    p = pipeline()
    t = DAY
    p.apply([level("S003", Grade.ORANGE, t)], t)
    p.advance(t + 10)
    p.acknowledge(GROUP_KEY, False, "li", t + 20)
    red = p.apply([level("S003", Grade.RED, t + 30)], t + 30)
    assert officers(red.deliveries, "upgraded") == {"li", "zhao"}  # red: no group wait
    assert [e.data["grade"] for e in red.events if e.kind is EventKind.PAGE] == ["red"]
    assert officers(p.advance(t + 330).deliveries, "escalated") == {"li", "zhao", "wang"}


def test_resolve_reaches_everyone_paged_after_the_dwell() -> None:
    p = pipeline()
    t = DAY
    p.apply([level("S003", Grade.RED, t)], t)
    assert p.acknowledge(GROUP_KEY, False, "zhao", t + 30).status == "acknowledged"
    p.apply([level("S003", Grade.NONE, t + 60)], t + 60)  # station clears at once …
    assert not p.advance(t + 659).deliveries  # … the district group after its dwell
    cleared = p.advance(t + 660)
    assert officers(cleared.deliveries, "resolved") == {"li", "zhao"}
    assert all(not d.ack_url for d in cleared.deliveries)
    assert p.duties.items() == []


def test_night_shift_pages_its_own_chain() -> None:
    p = pipeline()
    night = DAY + 12 * 3600  # 22:00 local
    p.apply([level("S003", Grade.ORANGE, night)], night)
    assert officers(p.advance(night + 10).deliveries, "fired") == {"chen"}


def test_deadlines_resume_after_a_restart_exactly_where_they_were() -> None:
    p = pipeline()
    t = DAY
    journal: dict[tuple[str, str], object] = {}

    def commit(pipe: AlertPipeline) -> None:
        for part, ident, data in json.loads(json.dumps(pipe.changes())):
            journal[(part, ident)] = data

    p.apply([level("S003", Grade.ORANGE, t)], t)
    commit(p)
    p.advance(t + 10)
    commit(p)
    restarted = pipeline()
    restarted.load([(part, ident, d) for (part, ident), d in journal.items() if d is not None])
    assert restarted.advance(t + 309).deliveries == []
    assert officers(restarted.advance(t + 310).deliveries, "escalated") == {"li", "wang"}


def test_a_long_outage_escalates_one_step_per_deadline_not_in_a_burst() -> None:
    p = pipeline()
    t = DAY
    p.apply([level("S003", Grade.RED, t)], t)
    late = p.advance(t + 3 * 3600)
    assert [n.reason.value for n in late.notices] == ["escalated"]


def test_no_route_is_recorded_and_blue_needs_no_acknowledgement() -> None:
    p = pipeline()
    t = DAY
    p.apply([level("X1", Grade.BLUE, t, district="district-z")], t)
    fired = p.advance(t + 10)
    assert officers(fired.deliveries, "fired") == set()  # another district's group
    assert {d.officer for d in fired.deliveries if d.officer} == {"li"}  # the catch-all route
    assert fired.events == []  # no acknowledgement due
    assert p.advance(t + 5000).notices == []
