"""District groups (wait, list reminders, a peak inside one batch), silences and maintenance
windows, inhibition, and the rule that a clear is never muted."""

from __future__ import annotations

import pytest

from alerting.grouping import GroupPolicy
from alerting.inhibition import InhibitRule
from alerting.model import SuppressedReason
from alerting.silences import Silence
from tests.unit.alerting.conftest import DAY, level, pipeline, sent
from yujing.contracts import AlertKey, Grade, Hazard

GROUP = "district-a/flood/group"


def group_notices(step_notices: list) -> list[tuple[str, str, int, tuple[str, ...]]]:  # type: ignore[type-arg]
    return [
        (n.reason.value, n.grade.value, n.version, n.stations)
        for n in step_notices
        if str(n.key) == GROUP
    ]


def test_a_storm_makes_one_notice_with_the_list_then_reminders_for_newcomers() -> None:
    p = pipeline(group=GroupPolicy(wait_s=10, interval_s=300))
    t = DAY
    for i, station in enumerate(["S1", "S2", "S3"]):
        assert group_notices(p.apply([level(station, Grade.YELLOW, t + i)], t + i).notices) == []
    [fired] = group_notices(p.advance(t + 10).notices)
    assert fired == ("fired", "yellow", 1, ("S1", "S2", "S3"))
    p.apply([level("S4", Grade.YELLOW, t + 20)], t + 20)  # joins at the same grade: waits
    assert group_notices(p.advance(t + 309).notices) == []
    [reminder] = group_notices(p.advance(t + 310).notices)
    assert reminder == ("reminder", "yellow", 2, ("S1", "S2", "S3", "S4"))
    # a higher grade goes out at once, the highest stations first
    [up] = group_notices(p.apply([level("S2", Grade.ORANGE, t + 311)], t + 311).notices)
    assert up == ("upgraded", "orange", 3, ("S2", "S1", "S3", "S4"))


def test_a_member_that_rises_and_clears_within_one_batch_still_reaches_the_group() -> None:
    p = pipeline(group=GroupPolicy(wait_s=10))
    t = DAY
    p.apply([level("S1", Grade.YELLOW, t)], t)
    step = p.apply([level("S1", Grade.RED, t + 1), level("S1", Grade.NONE, t + 2)], t + 2)
    assert group_notices(step.notices) == [("fired", "red", 1, ("S1",))]
    assert group_notices(p.advance(t + 3).notices) == []  # then the area dwell (600 s) …
    assert [r for r, *_ in group_notices(p.advance(t + 603).notices)] == ["resolved"]


def test_grouping_off_routes_station_alerts_to_officers() -> None:
    p = pipeline(group=GroupPolicy(enabled=False))
    step = p.apply([level("S1", Grade.ORANGE, DAY)], DAY)
    assert ("S1/flood/level", "fired", "li", "sms") in sent(step.deliveries)
    assert all(not k.endswith("/group") for k, *_ in sent(step.deliveries))


def test_silence_mutes_a_station_keeps_it_out_of_the_group_and_never_mutes_its_clear() -> None:
    p = pipeline(group=GroupPolicy(wait_s=0))
    t = DAY
    p.add_silence(Silence("s1", t, t + 3600, "li", comment="pump test", station="S1"), t)
    step = p.apply([level("S1", Grade.RED, t + 1), level("S2", Grade.ORANGE, t + 1)], t + 1)
    assert [(s.key.area, s.reason) for s in step.suppressed] == [("S1", SuppressedReason.SILENCED)]
    assert ("S1/flood/level", "fired", "", "webhook") not in sent(step.deliveries)
    [group] = group_notices(step.notices)
    assert group == ("fired", "orange", 1, ("S2",))  # S1's red pages nobody
    clear = p.apply([level("S1", Grade.NONE, t + 2)], t + 2)
    assert ("S1/flood/level", "resolved", "", "webhook") in sent(clear.deliveries)


def test_an_expiring_silence_lets_the_alert_join_its_group() -> None:
    p = pipeline(group=GroupPolicy(wait_s=0))
    t = DAY
    p.add_silence(Silence("m1", t, t + 60, "li", station="S1", is_maintenance=True), t)
    step = p.apply([level("S1", Grade.ORANGE, t + 1)], t + 1)
    assert [s.reason for s in step.suppressed] == [SuppressedReason.MAINTENANCE]
    assert group_notices(step.notices) == []
    assert group_notices(p.advance(t + 61).notices) == [("fired", "orange", 1, ("S1",))]


def test_silences_by_district_and_hazard_and_early_expiry() -> None:
    p = pipeline(group=GroupPolicy(wait_s=0))
    t = DAY
    p.add_silence(Silence("d", t, t + 3600, "li", district="district-a", hazard=Hazard.FLOOD), t)
    assert group_notices(p.apply([level("S1", Grade.RED, t)], t).notices) == []
    expired = p.expire_silence("d", "wang", t + 10)
    assert expired is not None
    assert group_notices(expired.notices) == [("fired", "red", 1, ("S1",))]
    silence = p.silences.get("d")
    assert silence is not None and (silence.ends_at, silence.expired_by) == (t + 10, "wang")
    assert p.expire_silence("d", "wang", t + 11) is None
    with pytest.raises(ValueError, match="must match"):
        Silence("x", t, t + 1, "li")


def test_red_inhibits_the_yellow_of_the_same_area_and_hazard_only() -> None:
    p = pipeline(inhibit=(InhibitRule(),), group=GroupPolicy(wait_s=0))
    t = DAY
    p.apply([level("S1", Grade.RED, t)], t)
    step = p.apply(
        [level("S1", Grade.YELLOW, t + 1, rule="rise"), level("S2", Grade.YELLOW, t + 1)], t + 1
    )
    assert [(str(s.key), s.reason) for s in step.suppressed] == [
        ("S1/flood/rise", SuppressedReason.INHIBITED)
    ]
    hooks = [k for k, r, o, c in sent(step.deliveries) if c == "webhook"]
    assert hooks == ["S2/flood/level"]
    by_district = pipeline(inhibit=(InhibitRule(equal=("district", "hazard")),))
    by_district.apply([level("S1", Grade.RED, t)], t)
    muted = by_district.apply([level("S2", Grade.YELLOW, t + 1)], t + 1).suppressed
    assert [s.reason for s in muted] == [SuppressedReason.INHIBITED]


def test_inhibit_rule_validation() -> None:
    with pytest.raises(ValueError, match="must be below"):
        InhibitRule(source_min=Grade.YELLOW, target_max=Grade.RED)
    with pytest.raises(ValueError, match="equal labels"):
        InhibitRule(equal=("station",))


def test_drills_group_apart_and_never_reach_a_public_channel() -> None:
    p = pipeline(group=GroupPolicy(wait_s=0))
    t = DAY
    step = p.apply([level("S1", Grade.RED, t, is_drill=True)], t)
    assert {k for k, *_ in sent(step.deliveries)} == {"S1/flood/level", GROUP}
    assert all(d.notice.is_drill for d in step.deliveries)
    assert "cap" not in {c for *_, c in sent(step.deliveries)}  # public: held back
    held = [(s.reason, s.channel, s.officer) for s in step.suppressed]
    assert (SuppressedReason.DRILL_PUBLIC, "cap", "") in held
    assert (SuppressedReason.NO_CONTACT, "email", "zhao") in held  # the leader has no e-mail
    real = p.apply([level("S1", Grade.ORANGE, t + 1)], t + 1)
    assert p.book.get(AlertKey("S1", Hazard.FLOOD, "level")) is not None
    assert [n.version for n in real.notices if str(n.key) == "S1/flood/level"] == [2]
