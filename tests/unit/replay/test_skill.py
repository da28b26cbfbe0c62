"""Scoring rules on hand-made timelines: hits, misses, false alarms, the lead-time sign, the
tolerance window, officer reach through the district group, ladders without some grades."""

from __future__ import annotations

from simulators.episodes import GradedTruth, TruthEpisode
from yujing.contracts import (
    AlertKey,
    AlertState,
    Grade,
    Hazard,
    Notice,
    NoticeReason,
)
from yujing.replay.recorder import NoticeRecord
from yujing.replay.skill import score

GAS = AlertKey("G1", Hazard.GAS_LEAK, "ch4")
QUIET = AlertKey("G2", Hazard.GAS_LEAK, "ch4")
GROUP = AlertKey("d1", Hazard.GAS_LEAK, "group")
LADDER = (Grade.BLUE, Grade.ORANGE, Grade.RED)  # no yellow rung, as configs/ladders/gas.yaml


def episode(key: AlertKey, grade: Grade, start: float, end: float) -> TruthEpisode:
    return TruthEpisode(key, "d1", grade, start, end, 60.0, start, "ch4_pct_lel", 10.0)


def record(key: AlertKey, version: int, reason: NoticeReason, grade: Grade, sent: float,
           stations: tuple[str, ...] = ()) -> NoticeRecord:  # fmt: skip
    from alerting import Delivery

    notice = Notice(key, version, reason, grade, Grade.NONE, AlertState.FIRING, "d1", sent,
                    stations=stations)  # fmt: skip
    deliveries = (Delivery(notice, "sms", officer="duty"),) if key == GROUP else ()
    return NoticeRecord(sent, notice, deliveries)


def truth(*episodes: TruthEpisode) -> GradedTruth:
    keys = {GAS: "d1", QUIET: "d1"}
    return GradedTruth(keys, episodes, 0.0, 10_000.0, {GAS: LADDER, QUIET: LADDER})


def test_hit_with_lead_time_sign_and_officer_reach() -> None:
    report = score(
        truth(episode(GAS, Grade.BLUE, 1000.0, 3000.0), episode(GAS, Grade.ORANGE, 1500.0, 2500.0)),
        [
            record(GAS, 1, NoticeReason.FIRED, Grade.BLUE, 940.0),  # 60 s before the crossing
            record(GROUP, 1, NoticeReason.FIRED, Grade.BLUE, 950.0, ("G1",)),
            record(GAS, 2, NoticeReason.UPGRADED, Grade.ORANGE, 1530.0),  # 30 s late
            record(GROUP, 2, NoticeReason.UPGRADED, Grade.ORANGE, 1540.0, ("G1",)),
            record(GAS, 3, NoticeReason.RESOLVED, Grade.NONE, 3100.0),
        ],
    )
    blue = report.row(Hazard.GAS_LEAK, Grade.BLUE)
    orange = report.row(Hazard.GAS_LEAK, Grade.ORANGE)
    assert blue is not None and orange is not None
    assert (blue.hits, blue.misses, blue.false_alarms) == (1, 0, 0)
    assert blue.lead_times_s == [-60.0] and orange.lead_times_s == [30.0]
    assert blue.reach_s == [-50.0] and orange.reach_s == [40.0]
    assert (orange.pod, orange.far, orange.csi) == (1.0, 0.0, 1.0)
    # no yellow rung: an orange alert is not scored as a yellow warning
    assert report.row(Hazard.GAS_LEAK, Grade.YELLOW) is None


def test_miss_false_alarm_and_tolerance() -> None:
    report = score(
        truth(episode(GAS, Grade.BLUE, 1000.0, 1200.0), episode(GAS, Grade.BLUE, 8000.0, 8100.0)),
        [
            record(GAS, 1, NoticeReason.FIRED, Grade.BLUE, 1700.0),  # 500 s after its end: late
            record(GAS, 2, NoticeReason.RESOLVED, Grade.NONE, 1800.0),
            record(QUIET, 1, NoticeReason.FIRED, Grade.BLUE, 5000.0),  # nothing there
            record(QUIET, 2, NoticeReason.RESOLVED, Grade.NONE, 5100.0),
        ],
        tolerance_s={Hazard.GAS_LEAK: 600.0},
    )
    blue = report.row(Hazard.GAS_LEAK, Grade.BLUE)
    assert blue is not None
    assert (blue.hits, blue.misses, blue.false_alarms) == (1, 1, 1)  # within 600 s: a hit
    assert blue.pod == 0.5 and blue.far == 0.5 and blue.csi == 1 / 3
    assert [w.key for w in report.false_alarms] == [QUIET]
    tight = score(
        truth(episode(GAS, Grade.BLUE, 1000.0, 1200.0)),
        [record(GAS, 1, NoticeReason.FIRED, Grade.BLUE, 1700.0)],
        tolerance_s={Hazard.GAS_LEAK: 60.0},
    )
    row = tight.row(Hazard.GAS_LEAK, Grade.BLUE)
    assert row is not None and (row.hits, row.misses, row.false_alarms) == (0, 1, 1)


def test_drills_and_unscored_keys_are_not_warnings() -> None:
    drill = record(GAS, 1, NoticeReason.FIRED, Grade.RED, 100.0)
    drill = NoticeRecord(
        drill.sent,
        Notice(
            GAS,
            1,
            NoticeReason.FIRED,
            Grade.RED,
            Grade.NONE,
            AlertState.FIRING,
            "d1",
            100.0,
            is_drill=True,
        ),
    )
    other = record(AlertKey("G9", Hazard.SENSOR, "silence"), 1, NoticeReason.FIRED, Grade.BLUE,
                   50.0)  # fmt: skip
    report = score(truth(), [drill, other])
    assert report.rows == [] and report.false_alarms == []
