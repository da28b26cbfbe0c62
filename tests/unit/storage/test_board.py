"""The station board: grade per station from notices only, completeness, time to acknowledge."""

from __future__ import annotations

from yujing.config.stations import Registry, StationSpec
from yujing.contracts import (
    AlertKey,
    AlertState,
    Grade,
    Hazard,
    Kind,
    Notice,
    NoticeReason,
    Reading,
)
from yujing.storage.board import StationBoard

T = 1_780_000_000.0


def station(sid: str) -> StationSpec:
    return StationSpec(sid, sid, Kind.GAS, "d", 39.9, 116.4, 10.0)


REGISTRY = Registry({s: station(s) for s in ("G1", "G2", "G3")})


def note(
    area: str,
    rule: str,
    grade: Grade,
    reason: NoticeReason,
    ts: float = T,
    state: AlertState = AlertState.FIRING,
    stations: tuple[str, ...] = (),
) -> Notice:
    key = AlertKey(area, Hazard.GAS_LEAK, rule)
    return Notice(key, 1, reason, grade, Grade.NONE, state, "d", ts, stations=stations)


def test_station_grade_is_the_highest_active_alert_and_resolution_clears_it() -> None:
    board = StationBoard(REGISTRY)
    board.observe_notice(note("G1", "ch4", Grade.BLUE, NoticeReason.FIRED))
    board.observe_notice(note("G1", "ch4_rise", Grade.YELLOW, NoticeReason.FIRED))
    assert board.state("G1").grade is Grade.YELLOW and board.state("G1").active_alerts == 2
    board.observe_notice(
        note("G1", "ch4_rise", Grade.NONE, NoticeReason.RESOLVED, state=AlertState.RESOLVED)
    )
    assert board.state("G1").grade is Grade.BLUE
    assert board.state("G2").grade is Grade.NONE


def test_unknown_shows_unless_a_warning_is_active() -> None:
    board = StationBoard(REGISTRY)
    board.observe_notice(note("G1", "ch4", Grade.UNKNOWN, NoticeReason.FIRED))
    assert board.state("G1").grade is Grade.UNKNOWN
    board.observe_notice(note("G1", "other", Grade.ORANGE, NoticeReason.FIRED))
    assert board.state("G1").grade is Grade.ORANGE


def test_area_alerts_colour_their_stations_and_unknown_ids_are_ignored() -> None:
    board = StationBoard(REGISTRY)
    _, touched = board.observe_notice(
        note("d", "group", Grade.RED, NoticeReason.FIRED, stations=("G2", "G3", "NOPE"))
    )
    assert touched == ("G2", "G3")
    assert board.state("G3").grade is Grade.RED


def test_time_to_acknowledge_counts_from_the_page() -> None:
    board = StationBoard(REGISTRY)
    board.observe_notice(note("G1", "ch4", Grade.BLUE, NoticeReason.FIRED, ts=T))
    early = note("G1", "ch4", Grade.BLUE, NoticeReason.ACKNOWLEDGED, T + 5, AlertState.ACKNOWLEDGED)
    assert board.observe_notice(early)[0] is None  # blue is not a page
    board.observe_notice(note("G1", "ch4", Grade.ORANGE, NoticeReason.UPGRADED, ts=T + 10))
    ack = note(
        "G1", "ch4", Grade.ORANGE, NoticeReason.ACKNOWLEDGED, T + 100, AlertState.ACKNOWLEDGED
    )
    ack_s, _ = board.observe_notice(ack)
    assert ack_s == 90.0


def test_completeness_is_received_over_expected_and_restarts_each_period() -> None:
    board = StationBoard(REGISTRY)
    readings = [Reading("G1", Kind.GAS, "d", T + i, i, {"ch4_pct_lel": 0.0}) for i in range(3)]
    board.observe_readings(readings + [Reading("G2", Kind.GAS, "d", T, 0, {})] * 9)
    intervals = {s.id: s.interval_s for s in REGISTRY}
    states = board.states(["G1", "G2", "G3"], elapsed_s=60.0, intervals=intervals)
    assert states["G1"].completeness == 0.5  # 3 of 6
    assert states["G2"].completeness == 1.0  # 9 of 6, capped
    assert states["G3"].completeness == 0.0
    after = board.states(["G1"], elapsed_s=60.0, intervals=intervals)
    assert after["G1"].completeness == 0.0
    assert board.states(["G1"], elapsed_s=5.0, intervals=intervals)["G1"].completeness is None
